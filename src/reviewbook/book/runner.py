"""Build the book: execute the notebooks with papermill, validate them, and
assemble the static site with Jupyter Book 1.x.

    python -m reviewbook book [--data PACKAGE] [--jobs 2] [--force] [--previous RESULTS.json]

Steps, each reported with a progress line:

1. Read and validate the data package (invalid input: exit 2, nothing touched).
2. Execute the runs of ``book/runs.yml`` with papermill across ``--jobs``
   processes into a staging copy of the book.  A run whose template,
   parameters and data fingerprint (only the analyses it reads) are unchanged
   since the last build is taken from the cache instead of re-executed.
3. Validate the executed notebooks: no cell may raise or write to stderr.
4. Build the site with ``jupyter-book build -W -n --keep-going`` (warnings are
   errors) into the staging folder.
5. Write the results JSON (every pooled estimate, CI, tau², I², k, certainty)
   and the 'What changed' comparison, copy the data package and executed
   notebooks into the site as downloads, and only then swap the new site in
   place of the old one.  Any failure leaves the previous site untouched and
   names the notebook and cell.

A build whose inputs are all unchanged since the last successful build exits
at once ("up to date").
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ..errors import InputError, Problem
from ..package.datapackage import read

from .paths import ROOT
BOOK = ROOT / "book"
BUILD = BOOK / "_build"
SITE = BUILD / "html"
CACHE = BUILD / ".cache"
STATE = BUILD / "state.json"
SOURCES = ("_toc.yml", "*.md", "sections.yml", "runs.yml", "_static", "references.bib")


class BuildError(RuntimeError):
    """A step of the build failed; the message says which notebook, cell and why."""


def log(msg: str) -> None:
    print(msg, flush=True)


def sha(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def tree_hash(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        if p.is_file():
            h.update(str(p.relative_to(ROOT)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _code_hash() -> str:
    return tree_hash(list((ROOT / "src" / "reviewbook").rglob("*.py")))


def fingerprint(pkg, reads: str) -> str:
    """Hash of the part of the package a run reads."""
    from .sections import claim

    if reads == "studies":
        return sha(pkg.studies.to_csv(), pkg.rows[["Study", "Analysis group", "Analysis number",
                                                   "Experimental N", "Control N"]].to_csv()
                   if not pkg.rows.empty else "", *(f.to_csv() for f in pkg.extra.values()))
    if reads.startswith("section:"):
        key = reads.split(":", 1)[1]
        owners = claim(pkg)
        parts = []
        for aid in pkg.analysis_ids():
            if owners[aid] == key:
                parts.append(repr(pkg.analysis(aid)))
                parts.append(pkg.rows_of(aid).to_csv())
        return sha(key, *parts)
    return sha(pkg.analyses.to_csv(), pkg.rows.to_csv(), pkg.studies.to_csv(), pkg.risk_of_bias.to_csv(),
               *(f.to_csv() for f in pkg.extra.values()))


def load_runs():
    return yaml.safe_load((BOOK / "runs.yml").read_text())["runs"]


def _execute(run, staging: Path, package: Path) -> tuple[str, float]:
    template = ROOT / run["notebook"]
    out = staging / run["output"]
    out.parent.mkdir(parents=True, exist_ok=True)
    params = dict(run.get("parameters") or {})
    try:  # relative to the repository root when inside it (no machine paths in the book)
        params["package"] = str(package.relative_to(ROOT))
    except ValueError:
        params["package"] = str(package)
    t0 = time.perf_counter()
    res = _papermill(template, out, params)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise BuildError(f"notebook {run['notebook']} failed: {_failure(out, res.stderr)}")
    return run["output"], dt


def _papermill(template: Path, out: Path, params: dict) -> subprocess.CompletedProcess:
    """Execute ``template`` into ``out`` (working directory: ``out``'s folder) with ``params``."""
    args = [sys.executable, "-m", "papermill", str(template), str(out), "--cwd", str(out.parent),
            "--no-progress-bar", "--log-level", "ERROR", "-k", "python3"]
    for k, v in params.items():
        args += ["-y", yaml.safe_dump({k: v}, default_flow_style=True).strip()]
    env = dict(os.environ, PYTHONWARNINGS="ignore", MPLBACKEND="Agg")
    return subprocess.run(args, capture_output=True, text=True, env=env)


def _failure(out: Path, stderr: str) -> str:
    try:
        import nbformat

        hit = _first_problem(nbformat.read(out, as_version=4), stderr_too=False)
        if hit:
            return hit
    except Exception:  # noqa: BLE001 - fall back to papermill's message
        pass
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _template_code_cells(nb):
    """Code cells numbered as in the template (papermill's injected cell left out)."""
    return [c for c in nb.cells if c.cell_type == "code"
            and "injected-parameters" not in c.metadata.get("tags", [])]


def _first_problem(nb, *, stderr_too=True) -> str | None:
    """'code cell N: Error: message' for the first cell that raised (or wrote to stderr)."""
    for i, c in enumerate(_template_code_cells(nb), start=1):
        for o in c.get("outputs", []):
            if o.get("output_type") == "error":
                return f"code cell {i}: {o.get('ename')}: {o.get('evalue')}"
            if stderr_too and o.get("output_type") == "stream" and o.get("name") == "stderr":
                text = "".join(o.get("text", "")).strip().splitlines()
                return f"code cell {i} wrote to stderr: {text[:1]}"
    return None


def validate(nb_path: Path, name: str) -> None:
    """No error outputs and nothing on stderr in any cell; code cells are then
    tagged ``hide-input`` (readers can expand them)."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            tags = c.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
    nbformat.write(nb, nb_path)
    problem = _first_problem(nb)
    if problem:
        raise BuildError(f"notebook {name}, {problem}")


def _copy_sources(staging: Path) -> None:
    for pattern in SOURCES:
        for p in BOOK.glob(pattern):
            dest = staging / p.name
            if p.is_dir():
                shutil.copytree(p, dest)
            else:
                shutil.copy2(p, dest)
    shutil.copy2(ROOT / "_config.yml", staging / "_config.yml")
    # MathJax 3 from the sphinx-mathjax-offline wheel, served from the site itself
    # (not under _static, whose .js files would be added to every page)
    from importlib.metadata import distribution

    mathjax = Path(str(distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline/static/mathjax")))
    dest = staging / "_extra" / "mathjax"
    (dest / "output" / "chtml" / "fonts").mkdir(parents=True)
    shutil.copy2(mathjax / "tex-chtml.js", dest / "tex-chtml.js")  # TeX input, CommonHTML output
    shutil.copytree(mathjax / "output" / "chtml" / "fonts" / "woff-v2", dest / "output" / "chtml" / "fonts" / "woff-v2")
    (staging / "_data").mkdir(exist_ok=True)
    shutil.copy2(ROOT / "data" / "extraction" / "windows.csv", staging / "_data" / "windows.csv")


def build(data=None, *, jobs=2, force=False, previous=None, allow_warnings=False) -> Path:
    t_start = time.perf_counter()
    data = Path(data) if data else ROOT / "data" / "CD015373"
    if not data.is_absolute():
        data = (Path.cwd() / data).resolve()
    log(f"[1/5] reading data package {data.name}")
    pkg = read(data)  # raises InputError
    for w in pkg.warnings:
        log(f"      warning: {w}")
    if pkg.warnings and not allow_warnings:
        raise InputError(list(pkg.warnings) + [Problem(
            data.name, None, None, f"{len(pkg.warnings)} warning(s)",
            "a package without warnings (re-run with --allow-warnings to build anyway)")])
    runs = load_runs()
    code = _code_hash()
    src_hash = tree_hash([p for pat in SOURCES for p in BOOK.glob(pat)] + [ROOT / "_config.yml"] +
                         [ROOT / "data" / "extraction" / "windows.csv"] +
                         [ROOT / r["notebook"] for r in runs])
    keys = {}
    for run in runs:
        keys[run["output"]] = sha((ROOT / run["notebook"]).read_bytes(), json.dumps(run.get("parameters") or {},
                                  sort_keys=True), fingerprint(pkg, run.get("reads", "all")), code, data.name)
    total_key = sha(src_hash, code, *sorted(keys.values()), previous or "")
    state = json.loads(STATE.read_text()) if STATE.exists() else {}
    if not force and state.get("key") == total_key and (SITE / "index.html").exists():
        log(f"[5/5] up to date: nothing changed since the last build ({time.perf_counter() - t_start:.1f} s)")
        log(f"site: {SITE / 'index.html'}")
        return SITE / "index.html"

    BUILD.mkdir(parents=True, exist_ok=True)
    for stale in BUILD.glob("staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = BUILD / f"staging-{os.getpid()}"
    staging.mkdir()
    try:
        _copy_sources(staging)
        log(f"[2/5] executing {len(runs)} notebooks on {jobs} cores")
        todo = []
        for run in runs:
            cached = CACHE / keys[run["output"]]
            if not force and (cached / "nb.ipynb").exists():
                dest = staging / run["output"]
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(cached / "nb.ipynb", dest)
                if (cached / "figures").exists():
                    shutil.copytree(cached / "figures", dest.parent / "figures", dirs_exist_ok=True)
                log(f"      {Path(run['output']).stem:<22} cached (inputs unchanged)")
            else:
                todo.append(run)
        with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(_execute, run, staging, data): run for run in todo}
            for fut in cf.as_completed(futures):
                name, dt = fut.result()
                log(f"      {Path(name).stem:<22} executed in {dt:.1f} s")
        log("[3/5] validating executed notebooks")
        for run in runs:
            validate(staging / run["output"], run["notebook"])
        results = collect_results(pkg)
        _write_results(staging, results, previous, runs, todo)
        log("[4/5] building the site with Jupyter Book (-W -n --keep-going)")
        _jupyter_book(staging)
        html = staging / "_build" / "html"
        _downloads(html, pkg, staging, runs)
        (html / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
        # cache executed notebooks (with their figures) for incremental rebuilds
        CACHE.mkdir(parents=True, exist_ok=True)
        for run in todo:
            c = CACHE / keys[run["output"]]
            c.mkdir(exist_ok=True)
            shutil.copy2(staging / run["output"], c / "nb.ipynb")
            figs = (staging / run["output"]).parent / "figures"
            stem = Path(run["output"]).stem
            own = [f for f in figs.glob(f"{stem}_*.png")] if figs.exists() else []
            if own:
                (c / "figures").mkdir(exist_ok=True)
                for f in own:
                    shutil.copy2(f, c / "figures" / f.name)
        log("[5/5] publishing the new site")
        _swap(html, SITE)
        (BUILD / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
        STATE.write_text(json.dumps({"key": total_key, "package": pkg.id}, indent=2))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"done in {time.perf_counter() - t_start:.1f} s")
    log(f"site: {SITE / 'index.html'}")
    return SITE / "index.html"


def _jupyter_book(staging: Path) -> None:
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(staging), "--builder", "html",
           "-W", "-n", "--keep-going", "--quiet"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=staging)
    out = (res.stdout + res.stderr).strip()
    (BUILD / "jupyter-book.log").write_text(out)
    warnings = [ln for ln in out.splitlines()
                if "WARNING" in ln or "ERROR" in ln or "Error:" in ln or "Exception" in ln]
    if res.returncode != 0 or warnings:
        detail = "\n".join(warnings[:20]) or "\n".join(out.splitlines()[-20:])
        raise BuildError(f"Jupyter Book build failed (warnings are errors; full log "
                         f"book/_build/jupyter-book.log):\n{detail}")


def _downloads(html: Path, pkg, staging: Path, runs) -> None:
    """The data package (as read and validated) and the executed notebooks, downloadable from the site."""
    from ..package.datapackage import write_zip

    dl = html / "downloads"
    dl.mkdir(exist_ok=True)
    write_zip(pkg, dl / f"{pkg.id}-data-package.zip")
    for run in runs:
        shutil.copy2(staging / run["output"], dl / Path(run["output"]).name)


def _swap(new: Path, target: Path) -> None:
    """Replace ``target`` with ``new`` by renames (the old site stays until the new one is complete)."""
    backup = target.with_name(target.name + ".old")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        target.rename(backup)
    shutil.move(str(new), str(target))
    if backup.exists():
        shutil.rmtree(backup)


def collect_results(pkg) -> dict:
    """Every pooled estimate of the package as a deterministic dict (the results JSON)."""
    from ..package import analysis as an
    from ..views import grade as grading
    from .sections import _participants, claim
    from .synthesis import _rob_assessed

    owners = claim(pkg)
    out = {"package": pkg.id, "analyses": {}}
    rob = _rob_assessed(pkg)
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        entry = {"name": s.name, "group": s.group_name, "section": owners[aid]}
        try:
            ar = an.run(pkg, aid)
        except an.NotComputable as exc:
            entry.update(status="not computable", reason=str(exc))
            out["analyses"][aid] = entry
            continue
        r = ar.result
        g = grading.assess(r, participants=_participants(ar), rob_assessed=rob)
        entry.update(status="computed", measure=r.measure, method=ar.engine_method, k=r.k,
                     studies=[x.study for x in r.studies], estimate=_r(r.estimate), ci_low=_r(r.ci_low),
                     ci_high=_r(r.ci_high), tau2=_r(r.tau2), i2=_r(r.i2), participants=_participants(ar),
                     certainty=g.certainty)
        out["analyses"][aid] = entry
    return out


def _r(x):
    return None if x is None else float(f"{x:.10g}")


def _write_results(staging, results, previous, runs, executed) -> None:
    """Results of this build and the comparison with the previous one, for the 'What changed' page."""
    prev = None
    if previous:
        prev = json.loads(Path(previous).read_text())
    elif (BUILD / "results.json").exists():
        prev = json.loads((BUILD / "results.json").read_text())
    payload = {"current": results, "previous": prev,
               "executed": sorted(Path(r["output"]).stem for r in executed),
               "cached": sorted(Path(r["output"]).stem for r in runs if r not in executed)}
    (staging / "changes.json").write_text(json.dumps(payload, indent=2, sort_keys=True))
    from .changes import render_markdown

    (staging / "what_changed.md").write_text(render_markdown(payload))


def main(data=None, jobs=2, force=False, previous=None, allow_warnings=False) -> int:
    try:
        build(data, jobs=jobs, force=force, previous=previous, allow_warnings=allow_warnings)
    except InputError as exc:
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        print("error: the data package is invalid; the previous site is unchanged", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("error: build failed; the previous site is unchanged", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the previous site is unchanged", file=sys.stderr)
        return 130
    return 0


def refresh_notebooks() -> int:
    """Execute each template in notebooks/ in place with its default parameters
    (the embedded data), so that the committed outputs are what nbval checks."""
    import nbformat

    for run in load_runs():
        nb_path = ROOT / run["notebook"]
        t0 = time.perf_counter()
        res = _papermill(nb_path, nb_path, {})
        if res.returncode != 0:
            print(f"error: notebook {run['notebook']} failed: {_failure(nb_path, res.stderr)}", file=sys.stderr)
            return 1
        nb = nbformat.read(nb_path, as_version=4)
        # drop papermill's volatile metadata (timestamps, durations) so the files are stable
        nb.metadata.pop("papermill", None)
        for c in nb.cells:
            c.metadata.pop("papermill", None)
            c.metadata.pop("execution", None)
        nbformat.write(nb, nb_path)
        log(f"refreshed {run['notebook']} in {time.perf_counter() - t0:.1f} s")
    return 0
