"""The architecture the README describes, enforced: the layers contract of
pyproject.toml (``lint-imports``), no import cycles between modules, and thin
notebooks (issue: one clear house)."""
import json
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return out


def test_no_import_cycles_between_modules():
    # every import counts, including those inside functions (grimp sees them)
    cycles = _cycles(grimp.build_graph("reviewbook"))
    assert not cycles, cycles


def test_notebooks_are_thin_templates():
    """A parameters cell of typed literals, then one package call per output:
    no function or class definitions, no loops, no analysis code."""
    paths = sorted((ROOT / "src" / "reviewbook" / "resources" / "notebooks").glob("*.ipynb"))
    # the page templates the book's plan executes (book/plan.py): intro, study flow, section,
    # harms, summary of findings, reproduction, independent extraction
    assert len(paths) == 7, [p.name for p in paths]
    for path in paths:
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert "parameters" in code[0]["metadata"].get("tags", []), path.name
        assert len(code) <= 12, path.name
        for c in code[1:]:
            src = "".join(c["source"])
            for word in ("def ", "class ", "for ", "while ", "lambda", "import pandas", "import numpy"):
                assert word not in src, (path.name, src)
            assert len([ln for ln in src.splitlines() if ln.strip()]) <= 4, (path.name, src)


def test_judgements_read_no_files():
    """The appraisal layer knows no files (issue #15 §5): it opens nothing and builds no paths;
    the import-linter contract forbids plots, YAML and the layers above it."""
    import re

    files = sorted((ROOT / "src" / "reviewbook" / "appraisal").glob("*.py"))
    # as many files as the appraisal modules grimp finds in the installed package
    modules = [m for m in grimp.build_graph("reviewbook").modules if m.startswith("reviewbook.appraisal")]
    assert len(files) == len(modules) > 1, (files, modules)
    for p in files:
        text = p.read_text()
        assert not re.search(r"\bopen\(|\bPath\(|read_text|read_bytes|import os\b|from pathlib", text), p.name


#: The stages of the build (issue 26, item 3), in the order they run: each may import only
#: the stages before it (and the shared ``base``), never a later one.  Stage 0, ``quick``,
#: tells a rebuild with nothing to do from the inputs' bytes before the plan reads them.
STAGES = ("quick", "plan", "execute", "validate", "site", "publish")
BUILD_PKG = ROOT / "src" / "reviewbook" / "book" / "build"


def test_each_stage_of_the_build_is_a_module():
    found = sorted(p.stem for p in BUILD_PKG.glob("*.py") if p.stem in STAGES)
    assert found == sorted(STAGES), found
    assert len(found) == 6  # quick, plan, execute, validate, site, publish


def _stage_imports(stage: str) -> set:
    """The stages (and ``base``) that ``stage`` imports, by the AST (imports inside
    functions count) and by grimp (which resolves relative imports)."""
    import ast

    tree = ast.parse((BUILD_PKG / f"{stage}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .x import / from . import x
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reviewbook.book.build."):
            names.add(node.module.split(".")[3])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[3] for a in node.names if a.name.startswith("reviewbook.book.build."))
    graph = grimp.build_graph("reviewbook")
    prefix = "reviewbook.book.build."
    names.update(m[len(prefix):].split(".")[0]
                 for m in graph.find_modules_directly_imported_by(prefix + stage) if m.startswith(prefix))
    return names


def test_the_stages_import_only_downward():
    checked = 0
    for i, stage in enumerate(STAGES):
        imported = _stage_imports(stage)
        later = imported & set(STAGES[i:])
        assert not later, f"build/{stage}.py imports {sorted(later)} (only {list(STAGES[:i])} and base)"
        assert imported <= set(STAGES[:i]) | {"base"}, (stage, imported)
        checked += 1
    assert checked == 6  # the six stages of STAGES
    # the check can fail: each stage after the first does import the one before it
    assert "plan" in _stage_imports("execute") and "execute" in _stage_imports("validate")
    assert "quick" in _stage_imports("plan")


def test_build_reads_as_its_stages():
    """``runner.build()`` is at most 45 lines, defines no nested function, and calls each stage."""
    import ast

    tree = ast.parse((ROOT / "src" / "reviewbook" / "book" / "runner.py").read_text())
    builds = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "build"]
    assert len(builds) == 1
    fn = builds[0]
    assert fn.end_lineno - fn.lineno + 1 <= 45, fn.end_lineno - fn.lineno + 1
    nested = [n.name for n in ast.walk(fn) if n is not fn
              and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))]
    assert not nested, nested
    called = {n.func.value.id for n in ast.walk(fn) if isinstance(n, ast.Call)
              and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}
    assert set(STAGES) <= called, called
