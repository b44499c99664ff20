"""Stage 3: the executed notebooks checked.  No cell may raise or write to stderr;
code cells are hidden on the reader pages and papermill's volatile metadata dropped."""
from __future__ import annotations

from pathlib import Path

from .base import BuildError, log
from .execute import Ran, _first_problem


def notebooks(staging: Path, ran: Ran) -> None:
    """Validate each notebook executed by this build (a cached notebook was validated
    when it was executed); raises :class:`BuildError` naming the notebook and cell."""
    log("[3/5] validating executed notebooks")
    for p in ran.todo:
        validate(staging / f"{p.file}.ipynb", f"{p.template} ({p.key})")


def validate(nb_path: Path, name: str) -> None:
    """No error outputs and nothing on stderr in any cell; code cells are then
    tagged ``remove-input`` (reader pages show the review, not the code: the
    executed notebooks, code included, are on the Downloads page) and
    papermill's volatile metadata (timestamps, durations) is dropped, so builds
    are reproducible."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    _clean_metadata(nb)
    for c in nb.cells:
        if c.cell_type == "code":
            tags = c.metadata.setdefault("tags", [])
            if "remove-input" not in tags:
                tags.append("remove-input")
    nbformat.write(nb, nb_path)
    problem = _first_problem(nb)
    if problem:
        raise BuildError(f"notebook {name}, {problem}")


def _clean_metadata(nb) -> None:
    """Drop what depends on the run rather than the inputs: papermill's timings,
    the kernel-reset cell, the execution counts of a reused kernel (renumbered
    1, 2, ... as a fresh kernel gives) and the random id papermill gives its
    injected-parameters cell."""
    nb.metadata.pop("papermill", None)
    nb.cells = [c for c in nb.cells if "reset-kernel" not in c.metadata.get("tags", [])]
    n = 0
    for c in nb.cells:
        c.metadata.pop("papermill", None)
        c.metadata.pop("execution", None)
        if c.cell_type != "code":
            continue
        if "injected-parameters" in c.metadata.get("tags", []):
            c["id"] = "injected-parameters"
        if c.get("execution_count") is not None:
            n += 1
            c["execution_count"] = n
            for o in c.get("outputs", []):
                if o.get("output_type") == "execute_result":
                    o["execution_count"] = n
