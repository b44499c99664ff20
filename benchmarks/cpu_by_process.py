"""CPU seconds of every process of one command, and how busy the CPUs were over time.

    python benchmarks/cpu_by_process.py COMMAND [ARGS...]

Runs the command (its output is printed, each line with the seconds since the start),
samples ``/proc`` every 0.1 s for the command and all its descendants, and prints the
CPU seconds (user + system) of each process with its command line, the total, and the
CPU seconds used in each second of wall time (2.0 = both CPUs of a 2-CPU machine busy).
A process that lives less than 0.1 s may be missed.  Linux only.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> tuple:
    children, seen = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:110]
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
        seen[int(name)] = (int(fields[11]) + int(fields[12]), cmd)
    return children, seen


def _tree(pid: int, children: dict) -> list:
    out = [pid]
    for c in children.get(pid, []):
        out += _tree(c, children)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(f"{time.perf_counter() - t0:6.2f} {ln}"
                                                          for ln in proc.stdout))
    reader.start()
    cpu, timeline = {}, []
    while proc.poll() is None:
        children, seen = _processes()
        for pid in _tree(proc.pid, children):
            if pid in seen:
                ticks, cmd = seen[pid]
                cpu[pid] = (max(cpu.get(pid, (0, ""))[0], ticks), cmd or cpu.get(pid, (0, ""))[1])
        timeline.append((time.perf_counter() - t0, sum(t for t, _ in cpu.values()) / TICK))
        time.sleep(0.1)
    reader.join()
    print("".join(lines), end="")
    print("\nCPU seconds by process:")
    for pid, (ticks, cmd) in sorted(cpu.items(), key=lambda kv: -kv[1][0]):
        if ticks / TICK >= 0.05:
            print(f"  {ticks / TICK:6.2f} s  {cmd or '(exited before its command line was read)'}")
    print(f"  {sum(t for t, _ in cpu.values()) / TICK:6.2f} s  in all, over {time.perf_counter() - t0:.2f} s of wall time")
    print("CPU seconds used per second of wall time:")
    last_t, last_c = 0.0, 0.0
    for t, c in timeline[10::10]:
        print(f"  {t:5.1f} s  {(c - last_c) / (t - last_t):4.2f}")
        last_t, last_c = t, c
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
