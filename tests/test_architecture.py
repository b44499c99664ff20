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
