"""Stage 0 of the build (:mod:`reviewbook.book.build.quick`): a rebuild with nothing to do
is told from the bytes of the last build's inputs, before pandas is imported; any changed,
added or removed input byte, or other options, leave the decision to the plan."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbook.book.build import quick

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    """A project whose last build recorded its inputs: a review file, a package folder, a
    code folder (with compiled Python, which does not count) and a site."""
    root = tmp_path / "proj"
    (root / "data" / "P1").mkdir(parents=True)
    (root / "data" / "P1" / "rows.csv").write_text("Study,Mean\nA 2001,32\n")
    (root / "review.yml").write_text("package: P1\n")
    code = root / "code"
    (code / "__pycache__").mkdir(parents=True)
    (code / "m.py").write_text("X = 1\n")
    (root / "_build" / "html").mkdir(parents=True)
    (root / "_build" / "html" / "index.html").write_text("<html></html>")
    roots = [root / "data" / "P1", root / "review.yml", code]
    state = {"key": "k", quick.RECORD: quick.record(roots, quick.options(), root)}
    (root / "_build" / "state.json").write_text(json.dumps(state))
    return root


def check(root, **kw):
    return quick.up_to_date(project_dir=root, **kw)


def test_same_bytes_and_options_are_up_to_date(project):
    assert check(project) == project / "_build" / "html" / "index.html"
    (project / "code" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0compiled")
    assert check(project) is not None  # compiled Python is not an input


def test_a_copy_of_a_project_is_checked_against_its_own_files(project, tmp_path):
    """The record names the inputs relative to the project: a copy (build folder and
    state included) whose package differs from the original's is not up to date."""
    import shutil

    state = json.loads((project / "_build" / "state.json").read_text())
    assert state[quick.RECORD]["roots"] == ["data/P1", "review.yml", "code"]
    copy = Path(shutil.copytree(project, tmp_path / "copy"))
    assert check(copy) == copy / "_build" / "html" / "index.html"
    (copy / "data" / "P1" / "rows.csv").write_text("Study,Mean\nA 2001,30\n")
    assert check(copy) is None
    assert check(project) is not None  # the original is untouched


@pytest.mark.parametrize("change", ["value", "added file", "removed file", "review file", "code", "no site",
                                    "other options", "state without record", "state not JSON"])
def test_anything_else_leaves_the_decision_to_the_plan(project, change):
    data = project / "data" / "P1"
    if change == "value":  # one byte of one data value: 32 -> 33
        (data / "rows.csv").write_text("Study,Mean\nA 2001,33\n")
    elif change == "added file":
        (data / "more.csv").write_text("x\n")
    elif change == "removed file":
        (data / "rows.csv").unlink()
    elif change == "review file":
        (project / "review.yml").write_text("package: P1\ntitle: T\n")
    elif change == "code":
        (project / "code" / "m.py").write_text("X = 2\n")
    elif change == "no site":
        (project / "_build" / "html" / "index.html").unlink()
    elif change == "state without record":
        (project / "_build" / "state.json").write_text(json.dumps({"key": "k"}))
    elif change == "state not JSON":
        (project / "_build" / "state.json").write_text("{")
    if change == "other options":
        assert check(project, allow_warnings=True) is None
        assert check(project, data=project / "data" / "P1") is None  # recorded: the default package
        assert check(project, out=project / "site") is None
    else:
        assert check(project) is None


def test_a_no_op_rebuild_imports_no_pandas_and_says_up_to_date(default_book, tmp_path):
    """The built default book, rebuilt with nothing changed: stage 0 answers, and neither
    pandas nor the plan is imported (``python -X importtime`` lists every import)."""
    repo, _ = default_book
    env = dict(os.environ, PYTHONPATH=str(repo / "src"))
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "reviewbook", "book"], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "up to date" in res.stdout and "site: " in res.stdout
    imported = {line.split("|")[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    assert "reviewbook.book.build.quick" in imported  # the check can fail: importtime does list our modules
    assert not {"pandas", "reviewbook.book.build.plan", "reviewbook.package.schema"} & imported
    state = json.loads((repo / "book" / "_build" / "state.json").read_text())
    # the record names what the build read: the package, the review file and the files it names, the code
    assert len(state[quick.RECORD]["roots"]) == 6, state[quick.RECORD]["roots"]
