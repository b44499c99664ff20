"""``python -m reviewbook pool``: the CLI contract of the engine issue.

Expected numbers: dat.bcg from tests/reference/metafor_reference.json (R calls
there), via the same CSV a user would write.
"""
import json

import pytest

from test_engine_reference import CASES
from tolerances import CLOSED, ITERATIVE

KEYS = {"k", "measure", "method", "estimate", "ci_low", "ci_high", "te", "se", "z", "p", "tau2",
        "i2", "q", "q_df", "q_p", "pi_low", "pi_high", "studies", "excluded"}


from conftest import cli as run  # noqa: E402


def write_case(tmp_path, case, subgroup=None):
    inp = case["input"]
    cols = ["study", "events1", "n1", "events2", "n2"]
    lines = [",".join(cols + (["grp"] if subgroup else []))]
    for i in range(len(inp["study"])):
        row = [f'"{inp["study"][i]}"'] + [str(inp[c][i]) for c in cols[1:]]
        lines.append(",".join(row + ([subgroup[i]] if subgroup else [])))
    path = tmp_path / "bcg.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("cid,method,flags", [
    ("bcg_RR_REML", "REML", []), ("bcg_RR_DL", "DL", []), ("bcg_OR_MH", "MH", []),
    ("bcg_RR_MHDL", "MH-DL", []), ("bcg_PETO", "PETO", []), ("bcg_RR_REML_knha", "REML", ["--hksj"]),
    ("bcg_RR_PM", "PM", []), ("bcg_RR_FE", "FE", []),
    ("bcg_RR_REML_adhoc", "REML", ["--hksj-adhoc"]),  # the ad hoc form (issue #21, item 4)
])
def test_pool_json_matches_metafor(tmp_path, cid, method, flags):
    case = CASES[cid]
    path = write_case(tmp_path, case)
    res = run("pool", path, "--measure", case["measure"], "--method", method, "--json", *flags)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert KEYS <= set(out)
    ref = case["result"]
    rel = ITERATIVE if method in ("REML", "PM") else CLOSED
    assert out["te"] == pytest.approx(ref["estimate"], rel=rel)
    assert out["se"] == pytest.approx(ref["se"], rel=rel)
    import math
    assert out["estimate"] == pytest.approx(math.exp(ref["estimate"]), rel=rel)  # ratio scale
    assert out["ci_low"] == pytest.approx(math.exp(ref["ci_low"]), rel=rel)
    assert out["k"] == 13 and out["method"] == method and out["measure"] == case["measure"]
    weights = [s["weight"] for s in out["studies"]]
    assert sum(weights) == pytest.approx(100.0)
    assert weights == pytest.approx(ref["weights"], rel=rel)
    if method in ("FE", "MH", "PETO"):
        assert out["tau2"] is None and out["pi_low"] is None


def test_pool_subgroups_json(tmp_path):
    case = CASES["bcg_RR_DL_subgroup_alloc"]
    path = write_case(tmp_path, case, subgroup=case["subgroups"]["values"])
    res = run("pool", path, "--measure", "RR", "--method", "DL", "--subgroup", "grp", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    t = case["subgroups"]["test"]
    assert out["subgroup_test"]["q"] == pytest.approx(t["q"], rel=CLOSED)
    assert out["subgroup_test"]["df"] == t["df"]
    assert [g["name"] for g in out["subgroups"]] == ["random", "alternate", "systematic"]


def test_pool_text_table(tmp_path):
    path = write_case(tmp_path, CASES["bcg_RR_REML"])
    res = run("pool", path, "--measure", "RR", "--method", "REML")
    assert res.returncode == 0
    assert "Aronson 1948" in res.stdout and "Heterogeneity: Tau2 = " in res.stdout
    assert "Test for overall effect: Z = " in res.stdout and "Weight" in res.stdout


def test_one_study_is_valid(tmp_path):
    p = tmp_path / "one.csv"
    p.write_text("study,n1,mean1,sd1,n2,mean2,sd2\nA,30,26.8,2.8,30,54.5,2.6\n")
    out = json.loads(run("pool", p, "--measure", "MD", "--method", "REML", "--hksj", "--json").stdout)
    assert out["k"] == 1 and out["tau2"] == 0 and out["pi_low"] is None and out["hksj"] is None
    assert out["estimate"] == pytest.approx(26.8 - 54.5)
    assert any("no HKSJ" in n for n in out["notes"]) and any("one study" in n for n in out["notes"])


def test_not_estimable_studies_are_reported(tmp_path):
    p = tmp_path / "z.csv"
    p.write_text("study,events1,n1,events2,n2\nA,0,10,0,12\nB,3,10,1,12\n")
    out = json.loads(run("pool", p, "--measure", "RR", "--method", "MH", "--json").stdout)
    assert out["k"] == 1
    assert out["excluded"] == [{"study": "A", "reason": "not estimable: no events in either arm"}]


@pytest.mark.parametrize("content,measure,message", [
    ("study,n1,mean1,sd1,n2,mean2\nA,1,2,3,4,5\n", "MD", "bad.csv, line 1, column 'sd2': found no such column"),
    ("study,n1,mean1,sd1,n2,mean2,sd2\nA,10,x,3,4,5,6\n", "MD", "bad.csv, line 2, column 'mean1': found 'x'; expected a number"),
    ("study,n1,mean1,sd1,n2,mean2,sd2\nA,0,1,3,4,5,6\n", "MD", "bad.csv, line 2, column 'n1': found '0'; expected a number > 0"),
    ("study,n1,mean1,sd1,n2,mean2,sd2\nA,5,1,3,4,5,0\n", "MD", "bad.csv, line 2, column 'sd2': found '0'; expected a number > 0"),
    ("study,events1,n1,events2,n2\nA,5,4,1,4\n", "RR", "bad.csv, line 2, column 'events1': found 5 events; expected at most n1 = 4"),
    ("study,events1,n1,events2,n2\n", "RR", "bad.csv: found no data rows; expected at least 1 study"),
    ("study,events1,n1,events2,n2\nA,1,4,1,4\nA,1,4,2,4\n", "OR", "bad.csv, line 3, column 'study': found 'A' again"),
])
def test_bad_input_exits_2_naming_file_line_column(tmp_path, content, measure, message):
    """Issue #6's bad inputs.  Rows of which none is estimable are not bad input: they
    are 'Not estimable', exit 0 (issue #9; tests/test_fewstudy_cli.py)."""
    p = tmp_path / "bad.csv"
    p.write_text(content)
    res = run("pool", p, "--measure", measure, "--method", "DL")
    assert res.returncode == 2
    assert message in res.stderr, res.stderr


def test_all_problems_reported_at_once(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("study,n1,mean1,sd1,n2,mean2,sd2\nA,x,1,3,4,5,6\nB,5,1,-3,4,5,6\n")
    res = run("pool", p, "--measure", "MD", "--method", "DL")
    assert res.returncode == 2
    assert "line 2, column 'n1'" in res.stderr and "line 3, column 'sd1'" in res.stderr


def test_bad_arguments(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("study,n1,mean1,sd1,n2,mean2,sd2\nA,5,1,3,4,5,6\n")
    assert run("pool", p, "--measure", "MD", "--method", "XX").returncode == 2
    res = run("pool", p, "--measure", "MD", "--method", "MH")
    assert res.returncode == 2 and "dichotomous" in res.stderr
    res = run("pool", p, "--measure", "MD", "--method", "FE", "--hksj")
    assert res.returncode == 2 and "hksj" in res.stderr
    res = run("pool", p, "--measure", "MD", "--method", "DL", "--level", "1.5")
    assert res.returncode == 2 and "level" in res.stderr
    assert run("pool", tmp_path / "missing.csv", "--measure", "MD", "--method", "DL").returncode == 2


def test_arguments_errors_name_the_allowed_values():
    from reviewbook.engine import effects, pooling
    from reviewbook.errors import ArgumentError

    es = effects.generic([0.1, 0.2], [0.1, 0.1])
    with pytest.raises(ArgumentError, match=r"method='ML' is not allowed; expected one of FE, MH, MH-DL, PETO, DL, REML, PM"):
        pooling.meta(es, "ML")
    with pytest.raises(ArgumentError, match="hksj='yes' is not allowed"):
        pooling.meta(es, "DL", hksj="yes")


def test_pool_hksj_adhoc_matches_metafor_test_adhoc(tmp_path):
    """`pool --hksj-adhoc` on dat.bcg (log RR, REML) gives metafor's rma(test="adhoc") CI
    (tests/reference/make_hksj_pi.R, case bcg_RR); `--hksj` and `--hksj-adhoc` together: exit 2."""
    import math
    from pathlib import Path

    ref = json.loads((Path(__file__).parent / "reference/hksj_pi_reference.json").read_text())
    case = next(c for c in ref["cases"] if c["id"] == "bcg_RR")
    path = write_case(tmp_path, CASES["bcg_RR_REML"])
    out = json.loads(run("pool", path, "--measure", "RR", "--method", "REML", "--hksj-adhoc", "--json").stdout)
    assert out["hksj"] == "adhoc"
    assert math.log(out["ci_low"]) == pytest.approx(case["adhoc"]["ci_low"], rel=ITERATIVE)
    assert math.log(out["ci_high"]) == pytest.approx(case["adhoc"]["ci_high"], rel=ITERATIVE)
    res = run("pool", path, "--measure", "RR", "--method", "REML", "--hksj", "--hksj-adhoc")
    assert res.returncode == 2 and "give one of them" in res.stderr


def test_pool_generic_ratio_and_hazard_ratio_read_yi_vi(tmp_path):
    """`--measure GENR` and `--measure HR` (offered by --help) read study,yi,vi and pool as the
    same log-scale numbers do under `--measure RR` (checked against metafor above); before,
    they ended in an unforeseen KeyError (exit 1)."""
    p = tmp_path / "g.csv"
    p.write_text("study,yi,vi\nA,0.1,0.04\nB,0.15,0.05\nC,0.12,0.03\n")
    ref = json.loads(run("pool", p, "--measure", "RR", "--method", "REML", "--json").stdout)
    for m in ("GENR", "HR"):
        res = run("pool", p, "--measure", m, "--method", "REML", "--json")
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert (out["estimate"], out["ci_low"], out["ci_high"]) == (ref["estimate"], ref["ci_low"], ref["ci_high"])
