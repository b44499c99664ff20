"""What some tests need from the machine, and what happens when it is missing.

``@pytest.mark.needs("chromium", ...)`` on a test (or ``require("shared")`` inside one):
a missing dependency skips the test on a developer's machine, and fails it when the
``CI`` environment variable is set, where ``make setup`` installs every one of them (a
silent skip there would pass a run that checked nothing).  ``rpact`` is optional
everywhere (not installed by ``make setup``; its reference values are stored)."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _r_libraries(*libs: str) -> bool:
    if shutil.which("Rscript") is None:
        return False
    code = "; ".join(f"library({lib})" for lib in libs)
    return subprocess.run(["Rscript", "-e", code], capture_output=True).returncode == 0


#: name -> (check, what to install)
CHECKS = {
    "chromium": (lambda: bool(shutil.which("chromium") or shutil.which("chromium-browser")),
                 "Debian's chromium (make setup installs it)"),
    "poppler": (lambda: shutil.which("pdftoppm") is not None, "poppler-utils (make setup installs it)"),
    "metafor": (lambda: _r_libraries("metafor", "jsonlite"),
                "R with metafor and jsonlite (make setup installs r-cran-metafor)"),
    "shared": (lambda: (SHARED / "datasets" / "pairwise70" / "train").is_dir(),
               "../shared/datasets/pairwise70 beside the repository"),
    "rpact": (lambda: _r_libraries("rpact", "jsonlite"), "optional: apt-get install r-cran-rpact"),
}
OPTIONAL = {"rpact"}


@functools.cache
def available(what: str) -> bool:
    return CHECKS[what][0]()


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def require(*what: str) -> None:
    """Skip (or, under CI, fail) the running test unless every dependency is there."""
    for w in what:
        if not available(w):
            msg = f"needs {w}: {CHECKS[w][1]}"
            if in_ci() and w not in OPTIONAL:
                pytest.fail(msg + " (CI is set: a missing dependency fails the run)", pytrace=False)
            pytest.skip(msg)


class Hung(Exception):
    """An operation that should end at once did not end within its guard."""


def no_hang(seconds: int = 120):
    """A guard against a hang (SIGALRM), not a timing: the operation inside must end, however
    slow the machine; how fast it ends is measured by ``benchmarks/hostile.py``."""
    import contextlib
    import signal

    @contextlib.contextmanager
    def guard():
        def on_alarm(signum, frame):
            raise Hung(f"still running after {seconds} s: it hangs")

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)

    return guard()
