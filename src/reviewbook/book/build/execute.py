"""Stage 2: the notebooks.  Warm kernels (one per worker, reused for every notebook it
runs), the cache of executed notebooks (a page whose inputs are unchanged is taken from
it), the notebooks run with papermill, and the side computations made meanwhile on
another thread (the results JSON, the previous build's data rows, the exports)."""
from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from .base import RESOURCES, BuildError, Paths, log
from .plan import Plan


@dataclass(frozen=True)
class Workers:
    """The kernels of a build: ``kernels`` (:class:`Kernels`), the ``n`` kernels being
    started on ``pool`` (``starting``: their futures)."""

    kernels: Kernels
    pool: cf.ThreadPoolExecutor
    starting: list
    n: int


@dataclass(frozen=True)
class Ran:
    """What the notebooks stage did: ``todo``, the pages executed (the others came from
    the cache); ``seconds``, how long each page took (the last time it was executed);
    ``results``, ``previous`` and ``exports``, the futures of the side computations
    (:func:`collect_results`, :func:`_previous_rows`, :func:`_exports`)."""

    todo: list
    seconds: dict
    results: cf.Future
    previous: cf.Future
    exports: cf.Future


def start(paths: Paths, plan: Plan, staging: Path, jobs: int) -> Workers:
    """Start the kernels (one per worker) while the sources are copied."""
    (staging / "sections").mkdir()
    kernels = Kernels(staging / "sections", paths.cache)
    n = min(max(1, jobs), len(plan.nb_pages))
    pool = cf.ThreadPoolExecutor(max_workers=n)
    return Workers(kernels, pool, [pool.submit(kernels.start) for _ in range(n)], n)


def from_cache(paths: Paths, plan: Plan, staging: Path, force: bool = False) -> list:
    """Put each notebook page whose executed notebook is in the cache into ``staging``
    (with its figures); returns the pages to execute."""
    todo = []
    for p in plan.nb_pages:
        cached = paths.cache / plan.keys[p.file]
        dest = staging / f"{p.file}.ipynb"
        if not force and (cached / "nb.ipynb").exists():
            # hard links: the staging copy is only read (Sphinx's work tree gets copies)
            dest.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(cached / "nb.ipynb", dest)
            if (cached / "figures").exists():
                shutil.copytree(cached / "figures", dest.parent / "figures", dirs_exist_ok=True,
                                copy_function=_link_or_copy)
        else:
            todo.append(p)
    return todo


def _run_page(p, staging: Path, params: dict, kernels: Kernels):
    t0 = time.perf_counter()
    nb = prepare(RESOURCES / p.template, p.heading, reset=True)
    try:
        execute(nb, staging / f"{p.file}.ipynb", {**params, **p.parameters}, km=kernels.get())
    except BuildError as exc:
        raise BuildError(f"notebook {p.template} ({p.key}) failed: {exc}") from None
    return p, time.perf_counter() - t0


def _adopt(kernels: Kernels, ready: list) -> None:
    """A worker thread takes one of the kernels started for it."""
    kernels.local.km = ready.pop()


def run(paths: Paths, plan: Plan, staging: Path, workers: Workers, jobs: int, force: bool = False) -> Ran:
    """Execute the notebook pages not in the cache into ``staging`` (longest first, on the
    warm kernels), while another thread computes the results, reads the previous build's
    data rows and makes the exports; the kernels are shut down at the end."""
    todo = from_cache(paths, plan, staging, force)
    nb_pages = plan.nb_pages
    log(f"[2/5] executing {len(todo)} of {len(nb_pages)} notebooks on {min(jobs, max(1, len(todo)))} "
        f"workers ({len(nb_pages) - len(todo)} unchanged, from the cache)")
    for p in nb_pages:
        if p not in todo:
            log(f"      {p.key:<24} cached (inputs unchanged)")
    ready = [f.result() for f in workers.starting]
    workers.pool.shutdown()
    t_exec = time.perf_counter()
    seconds = dict(plan.state.get("seconds", {}))
    # the results JSON and the previous build's data are read here while the kernels
    # work (they only read the packages)
    side = cf.ThreadPoolExecutor(max_workers=1)
    results = side.submit(collect_results, plan.pkg, plan.review)
    previous = side.submit(_previous_rows, plan.prev_results, plan.prev_data, plan.pkg)
    exports = side.submit(_exports, plan.pkg, plan.review)
    side.shutdown(wait=False)
    with cf.ThreadPoolExecutor(max_workers=workers.n, initializer=_adopt,
                               initargs=(workers.kernels, ready)) as pool:
        futures = [pool.submit(_run_page, p, staging, plan.params, workers.kernels)
                   for p in _longest_first(todo, plan.state.get("seconds", {}))]
        for fut in cf.as_completed(futures):
            p, dt = fut.result()
            seconds[p.file] = round(dt, 2)
            log(f"      {p.key:<24} executed in {dt:.1f} s")
    workers.kernels.shutdown()
    if todo:
        log(f"      notebooks executed in {time.perf_counter() - t_exec:.1f} s")
    return Ran(todo, seconds, results, previous, exports)


def store(paths: Paths, plan: Plan, staging: Path, todo: list) -> None:
    """Keep the executed notebooks (with their figures) in the cache, for incremental rebuilds."""
    paths.cache.mkdir(parents=True, exist_ok=True)
    for p in todo:
        c = paths.cache / plan.keys[p.file]
        c.mkdir(exist_ok=True)
        shutil.copy2(staging / f"{p.file}.ipynb", c / "nb.ipynb")
        figs = (staging / p.file).parent / "figures"
        own = list(figs.glob(f"{_figure_prefix(p)}_*.svg")) if figs.exists() else []
        if own:
            (c / "figures").mkdir(exist_ok=True)
            for f in own:
                shutil.copy2(f, c / "figures" / f.name)


# ------------------------------------------------------------------ kernels and notebooks

class Kernels:
    """One Jupyter kernel per worker thread, reused for every notebook it runs."""

    def __init__(self, cwd: Path, cache: Path):
        self.cwd = cwd
        self.cache = cache  # the project's cache (figures drawn by earlier builds)
        self.local = threading.local()
        self.all = []
        self.lock = threading.Lock()

    def get(self):
        km = getattr(self.local, "km", None)
        if km is None or not km.is_alive():
            km = self.start()
            self.local.km = km
        return km

    def start(self):
        """A new kernel, with the book's modules imported while the runner does other work."""
        import tempfile

        from jupyter_client.manager import KernelManager

        base = tempfile.mkdtemp(prefix="reviewbook-kernel-")  # one IPC path per kernel
        km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(base, "k"))
        km._reviewbook_dir = base
        env = dict(os.environ, PYTHONWARNINGS="ignore", MPLBACKEND="Agg",
                   REVIEWBOOK_FIGURE_CACHE=str(self.cache / "figures"))
        km.start_kernel(cwd=str(self.cwd), env=env)
        with self.lock:
            self.all.append(km)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            kc.execute(WARM_UP, store_history=False)  # not awaited: runs while papermill connects
        finally:
            kc.stop_channels()
        return km

    def shutdown(self):
        for km in self.all:
            try:
                km.shutdown_kernel(now=True)
            except Exception:
                pass
            shutil.rmtree(getattr(km, "_reviewbook_dir", ""), ignore_errors=True)
        self.all = []


#: Run in each new kernel before its first notebook, while the runner copies the sources
#: and papermill connects: the imports every notebook needs, the plotting stack included
#: (pyplot and the SVG writer: over a second per kernel, needed by every page that shows a
#: figure, even one from the figure cache, and by every reused kernel's reset).
WARM_UP = ("import reviewbook.book.sections, reviewbook.book.pages, reviewbook.book.synthesis\n"
           "import matplotlib.pyplot, matplotlib.backends.backend_svg, scipy.optimize\n"
           "import reviewbook.views.forest, reviewbook.views.tsa, reviewbook.views.cumulative, "
           "reviewbook.views.rob, reviewbook.views.prisma")
#: The first cell of every notebook run in a reused kernel (removed from the output):
#: forget the previous notebook's names (modules stay imported) and figures.
RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"


def prepare(template: Path, heading: str | None, reset: bool = False):
    """The template with its heading cell (tagged ``heading``) set to ``heading``
    (and, for a reused kernel, a first cell that resets its namespace)."""
    from ..sphinx import skip_slow_optional_imports

    skip_slow_optional_imports()
    import nbformat

    nb = nbformat.read(template, as_version=4)
    if reset:
        cell = nbformat.v4.new_code_cell(RESET, metadata={"tags": ["reset-kernel"]})
        cell["id"] = "reviewbook-reset"
        nb.cells.insert(0, cell)
    if heading:
        for c in nb.cells:
            if c.cell_type == "markdown" and "heading" in c.metadata.get("tags", []):
                c.source = heading
                break
    return nb


def execute(nb, out: Path, params: dict, km=None) -> None:
    """Execute ``nb`` into ``out`` with papermill (in this process; with ``km``
    a running kernel to reuse).  Raises :class:`BuildError` naming the cell."""
    import logging

    from ..sphinx import skip_slow_optional_imports

    skip_slow_optional_imports()

    import nbformat
    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.ERROR)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_name(out.stem + ".template.ipynb")
    nbformat.write(nb, src)
    kwargs = {"km": km} if km is not None else {"cwd": str(out.parent)}
    try:
        pm.execute_notebook(str(src), str(out), parameters=params, kernel_name="python3", progress_bar=False,
                            log_output=False, request_save_on_cell_execute=False, **kwargs)
    except pm.PapermillExecutionError:
        raise BuildError(_failure(out)) from None
    except Exception as exc:
        raise BuildError(f"{exc.__class__.__name__}: {exc}") from None
    finally:
        src.unlink(missing_ok=True)


def _failure(out: Path) -> str:
    import nbformat

    try:
        hit = _first_problem(nbformat.read(out, as_version=4), stderr_too=False)
    except Exception:
        hit = None
    return hit or "unknown error"


def _template_code_cells(nb):
    """Code cells numbered as in the template (papermill's injected cell left out)."""
    return [c for c in nb.cells if c.cell_type == "code"
            and not {"injected-parameters", "reset-kernel"} & set(c.metadata.get("tags", []))]


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


def _link_or_copy(src, dest) -> None:
    """``dest`` as a hard link to ``src`` (a copy where links are not possible)."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _figure_prefix(page) -> str:
    """Figures a page writes are named after its section key (or page key)."""
    return page.parameters.get("section", page.key)


def _longest_first(pages, seconds: dict):
    """The notebooks in the order that finishes soonest on a few workers: longest
    first (Graham's LPT rule), by how long each took when last executed; a page
    never executed counts as long when it is a section (forest plots), else short."""
    def expected(p):
        return seconds.get(p.file, 10.0 if p.template.endswith("section.ipynb") else 1.0)
    return sorted(pages, key=lambda p: (-expected(p), p.file))


# ------------------------------------------------------------------ side computations

def collect_results(pkg, review=None) -> dict:
    """Every pooled estimate of the package with the judgements about it (certainty,
    narrative statement, MID, direction), as a deterministic dict (the results JSON)."""
    from .. import review as rv
    from ..evidence import judged_all

    review = review or rv.for_package(pkg)
    owners = rv.claim(pkg, review)
    from ... import __version__
    from ..changes import RESULTS_FORMAT, data_version

    out = {"package": pkg.id, "analyses": {}, "results_format": RESULTS_FORMAT, "data_version": data_version(pkg),
           "reviewbook_version": __version__}
    for aid, it in judged_all(pkg, review, {}).items():
        s = it.settings
        entry = {"name": s.name, "group": s.group_name, "section": owners[aid]}
        if it.result is None:
            entry.update(status="not computable", reason=it.reason)
            out["analyses"][aid] = entry
            continue
        a = it.appraisal
        entry.update(a.to_dict())
        entry["studies"] = list(a.count.studies)
        r = it.pooled
        if r is None:
            entry.update(status="not estimable", k=0)
            out["analyses"][aid] = entry
            continue
        entry.update(status="computed", measure=r.measure, method=it.result.engine_method, k=a.count.k,
                     rows_pooled=r.k, estimate=_r(r.estimate), ci_low=_r(r.ci_low), ci_high=_r(r.ci_high),
                     tau2=_r(r.tau2), i2=_r(r.i2), participants=a.count.participants)
        if entry.get("mid"):
            entry["mid"] = {k: (_r(v) if isinstance(v, float) else v) for k, v in entry["mid"].items()}
        out["analyses"][aid] = entry
    return out


def _r(x):
    return None if x is None else float(f"{x:.10g}")


def _previous_rows(prev, data, pkg):
    """The previous build's data rows, or (None, why not)."""
    if prev is None:
        return None, None
    if str(prev.get("package")) != pkg.id:
        return None, None
    if data is None:
        return None, "the previous build's data package is not beside its results"
    from ...package.datapackage import read as read_package

    try:
        return read_package(data, strict=False).rows, None
    except InputError as exc:
        return None, f"the previous build's data package could not be read ({exc.problems[0]})"


def _exports(pkg, review) -> dict:
    """``{file name: text}`` of the machine-readable exports (the same as `reviewbook export`),
    made while the notebooks run (the FHIR bundle's validation takes seconds)."""
    from ..exports import FILE_NAMES, FORMATS, render

    return {FILE_NAMES[fmt]: render(fmt, pkg, review) for fmt in FORMATS}
