"""The stages of the book's build (src/reviewbook/book/build/), each run alone on plain
values: the plan of the default project into a scratch build folder, the validation of a
notebook that raised, and the publishing of a site by renames."""
import concurrent.futures as cf
import json
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from reviewbook.book.build import base, plan, publish, validate
from reviewbook.book.build.execute import Ran
from reviewbook.book.paths import project as find_project

ROOT = Path(__file__).resolve().parents[1]


def scratch_paths(tmp_path) -> base.Paths:
    build = tmp_path / "_build"
    return base.Paths(root=ROOT, book=tmp_path, build=build, site=build / "html", cache=build / ".cache",
                      state=build / "state.json", work=build / "work")


def test_plan_of_the_default_project_alone(tmp_path, capsys):
    where = scratch_paths(tmp_path)
    proj = find_project(ROOT)
    p = plan.make(where, proj)
    out = capsys.readouterr().out
    assert out.startswith("[1/5] reading data package CD015373\n"), out
    assert not p.up_to_date  # nothing built in the scratch folder
    assert not where.build.exists()  # planning writes nothing
    # one cache key per notebook page of the plan (book/plan.py), each a SHA-256
    assert sorted(p.keys) == sorted(q.file for q in p.nb_pages) and len(p.keys) == len(p.nb_pages) > 0
    assert all(len(k) == 64 for k in p.keys.values())
    assert p.params == {"package": "data/CD015373", "review": "book/review.yml"}
    # the same inputs give the same keys; a state with the build's key and a site make it up to date
    again = plan.make(where, proj)
    assert again.keys == p.keys and again.total_key == p.total_key
    where.site.mkdir(parents=True)
    (where.site / "index.html").write_text("<html></html>")
    where.state.write_text(json.dumps({"key": p.total_key}))
    assert plan.make(where, proj).up_to_date
    assert not plan.make(where, proj, force=True).up_to_date


def test_validate_names_the_notebook_and_cell(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    ok = nbformat.v4.new_code_cell("x = 1")
    bad = nbformat.v4.new_code_cell("1 / 0")
    bad.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                          traceback=[])]
    nb.cells = [ok, bad]
    nbformat.write(nb, tmp_path / "page.ipynb")
    page = SimpleNamespace(file="page", template="section.ipynb", key="memantine")
    ran = Ran(todo=[page], seconds={}, results=cf.Future(), previous=cf.Future(), exports=cf.Future())
    with pytest.raises(base.BuildError) as err:
        validate.notebooks(tmp_path, ran)
    assert str(err.value) == "notebook section.ipynb (memantine), code cell 2: ZeroDivisionError: division by zero"
    assert capsys.readouterr().out == "[3/5] validating executed notebooks\n"
    tags = [c.metadata.get("tags") for c in nbformat.read(tmp_path / "page.ipynb", as_version=4).cells]
    assert tags == [["remove-input"], ["remove-input"]]


def test_publish_swaps_the_site_and_records_the_state(tmp_path, capsys):
    where = scratch_paths(tmp_path)
    (where.work / "src").mkdir(parents=True)
    (where.work / "src" / "_toc.yml").write_text("root: intro\n")
    where.site.mkdir(parents=True)
    (where.site / "old.html").write_text("old")
    staging = where.build / "staging-1"
    html = staging / "_site"
    html.mkdir(parents=True)
    (html / "index.html").write_text("new")
    (html / "results.json").write_text('{"analyses": {}}')
    inputs = {"options": {}, "roots": [], "digest": "d"}
    the_plan = SimpleNamespace(total_key="k", pkg=SimpleNamespace(id="CD0"), keys={},
                               review=SimpleNamespace(title="T", citation=None), inputs=inputs)
    ran = Ran(todo=[], seconds={"intro": 1.5}, results=cf.Future(), previous=cf.Future(), exports=cf.Future())
    index = publish.publish(where, the_plan, staging, ran, html)
    assert index == where.site / "index.html" and index.read_text() == "new"
    assert sorted(p.name for p in where.site.iterdir()) == ["index.html", "results.json"]  # the old site is gone
    assert (where.build / "results.json").read_text() == '{"analyses": {}}'  # the site's, beside the state
    assert not html.exists() and not where.site.with_name("html.old").exists()
    assert json.loads(where.state.read_text()) == {"key": "k", "package": "CD0", "title": "T",
                                                   "seconds": {"intro": 1.5}, "citation": None,
                                                   "inputs": inputs}
    assert (where.build / "toc.yml").read_text() == "root: intro\n"
    assert capsys.readouterr().out == "[5/5] publishing the new site\n"
