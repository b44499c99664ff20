"""The command lines of the few-study methods, kept exactly as the issue states them:

    python -m reviewbook bayes FILE.csv --measure M --tau-prior halfnormal:S [--mu-prior normal:M,SD] [--level] [--json]
    python -m reviewbook boundaries --information t1,...,1 [--alpha 0.05] [--json]
    python -m reviewbook ris FILE.csv --measure MD --delta D [--sd S] [--alpha] [--power] [--json]

Expected values: the published five-look O'Brien-Fleming boundaries (4.877, 3.357,
2.680, 2.290, 2.031; ld98 / Reboussin et al. 2000), the engine functions validated in
test_bayes.py and test_ris.py, and hand computations stated next to each."""
import json
import math

import numpy as np
import pytest
from scipy import stats

from reviewbook.engine import bayes
from tolerances import PUBLISHED_3DP, RIS_CLOSED_REL

# Sigtermans 2009, Noppers 2011a, Lumanauw 2019 (the review's analysis 1.1 rows, 0-100)
MD_ROWS = """study,n1,mean1,sd1,n2,mean2,sd2
Sigtermans 2009,30,26.8,27.93385,30,54.5,26.290683
Noppers 2011a,12,56,31.176915,12,74,10.392305
Lumanauw 2019,59,60.033898,38.030326,30,61.3,32.7
"""


from conftest import cli  # noqa: E402


@pytest.fixture
def md_csv(tmp_path):
    p = tmp_path / "md.csv"
    p.write_text(MD_ROWS)
    return p


def test_bayes_json_contract(md_csv):
    res = cli("bayes", md_csv, "--measure", "MD", "--tau-prior", "halfnormal:7", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"mu", "tau", "p_mu_below_0"}
    assert set(out["mu"]) == set(out["tau"]) == {"median", "lower", "upper"}
    yi = np.array([26.8 - 54.5, 56 - 74, 60.033898 - 61.3])
    vi = np.array([27.93385 ** 2 / 30 + 26.290683 ** 2 / 30, 31.176915 ** 2 / 12 + 10.392305 ** 2 / 12,
                   38.030326 ** 2 / 59 + 32.7 ** 2 / 30])
    fit = bayes.bayes(yi, vi, tau_prior=("halfnormal", 7.0))
    assert out["mu"]["median"] == pytest.approx(fit.mu, rel=1e-12)
    assert out["tau"]["upper"] == pytest.approx(fit.tau_high, rel=1e-12)
    assert out["p_mu_below_0"] == pytest.approx(fit.p_mu_below_0, rel=1e-12)
    assert out["mu"]["lower"] < out["mu"]["median"] < out["mu"]["upper"]


def test_bayes_log_scale_and_normal_mu_prior(tmp_path):
    """For RR mu is on the log scale; a normal mu prior N(0, 0.001²) pins mu at 0."""
    p = tmp_path / "rr.csv"
    p.write_text("study,events1,n1,events2,n2\nA,29,68,1,32\nB,4,9,2,10\nC,3,8,2,6\n")
    out = json.loads(cli("bayes", p, "--measure", "RR", "--tau-prior", "halfcauchy:0.5", "--json").stdout)
    assert 0 < out["mu"]["median"] < 2.5  # log scale (the RR is about 3)
    pinned = json.loads(cli("bayes", p, "--measure", "RR", "--tau-prior", "halfnormal:0.5",
                            "--mu-prior", "normal:0,0.001", "--json").stdout)
    assert abs(pinned["mu"]["median"]) < 0.005


@pytest.mark.parametrize("args,message", [
    (["--tau-prior", "normal:7"], "--tau-prior 'normal:7' is not allowed; expected halfnormal:X or halfcauchy:X"),
    (["--tau-prior", "halfnormal:-1"], "--tau-prior 'halfnormal:-1' is not allowed; expected a scale greater than 0 "
                                       "and at most 1e+06"),  # cli.MAX_PRIOR_SCALE
    (["--tau-prior", "halfnormal:7", "--mu-prior", "normal:1"], "--mu-prior 'normal:1' is not allowed"),
])
def test_bayes_bad_arguments_exit_2(md_csv, args, message):
    res = cli("bayes", md_csv, "--measure", "MD", *args)
    assert res.returncode == 2 and message in res.stderr, res.stderr


def test_boundaries_json_contract_and_published_values():
    res = cli("boundaries", "--information", "0.2,0.4,0.6,0.8,1", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"z", "alpha_spent"}
    for z, published in zip(out["z"], (4.877, 3.357, 2.680, 2.290, 2.031)):
        assert abs(z - published) <= PUBLISHED_3DP
    assert out["alpha_spent"][-1] == pytest.approx(0.05, rel=1e-12)
    # spent at t = 0.2: 2 (2 - 2 Phi(z_{1-alpha/4} / sqrt(0.2))) by the spending function
    assert out["alpha_spent"][0] == pytest.approx(2 * (2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - 0.0125) / math.sqrt(0.2))),
                                                  rel=1e-9)
    assert all(a < b for a, b in zip(out["alpha_spent"], out["alpha_spent"][1:]))


@pytest.mark.parametrize("info", ["0.5,0.4,1", "0,0.5,1", "a,b", "0.5,1.2"])
def test_boundaries_bad_information_exit_2(info):
    res = cli("boundaries", "--information", info)
    assert res.returncode == 2 and "error:" in res.stderr


def test_ris_json_contract_by_hand(md_csv):
    """sd = sqrt(sum n sd² / sum n) over all arms; RIS = 4 (z_.975 + z_.8)² sd² / 10²
    (default power 0.80, the book's: GRADE 6's alpha 0.05 and beta 0.20, issue #21 item 4
    'one default power for ris and the book'); D² = (V_R - V_F)/V_R with DL tau²;
    accrued = 173 participants.  --power 0.9 gives z_.9."""
    res = cli("ris", md_csv, "--measure", "MD", "--delta", "10", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"sd", "ris", "d2", "ris_adjusted", "accrued"}
    n = np.array([30, 30, 12, 12, 59, 30.0])
    sd = np.array([27.93385, 26.290683, 31.176915, 10.392305, 38.030326, 32.7])
    s = math.sqrt(np.sum(n * sd ** 2) / np.sum(n))
    ris = 4 * (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2 * s ** 2 / 100
    assert out["sd"] == pytest.approx(s, rel=RIS_CLOSED_REL)
    assert out["ris"] == pytest.approx(ris, rel=RIS_CLOSED_REL)
    assert out["accrued"] == 173
    assert out["ris_adjusted"] == pytest.approx(ris / (1 - out["d2"]), rel=RIS_CLOSED_REL)
    own = json.loads(cli("ris", md_csv, "--measure", "MD", "--delta", "10", "--sd", "25", "--power", "0.9",
                         "--json").stdout)
    assert own["sd"] == 25 and own["ris"] == pytest.approx(
        4 * (stats.norm.ppf(0.975) + stats.norm.ppf(0.9)) ** 2 * 625 / 100, rel=RIS_CLOSED_REL)


def test_ris_for_a_risk_ratio(tmp_path):
    """Pc = 0.1, R = 0.25: Pe = 0.075, pbar = 0.0875; RIS = 4 (z_.975 + z_.8)² pbar (1 - pbar) / 0.025²
    (default power 0.80, as the book)."""
    p = tmp_path / "rr.csv"
    p.write_text("study,events1,n1,events2,n2\nA,5,100,10,100\nB,8,150,14,150\n")
    out = json.loads(cli("ris", p, "--measure", "RR", "--control-risk", "0.1", "--rrr", "0.25", "--json").stdout)
    expected = 4 * (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2 * 0.0875 * 0.9125 / 0.025 ** 2
    assert out["ris"] == pytest.approx(expected, rel=RIS_CLOSED_REL) and out["accrued"] == 500
    res = cli("ris", p, "--measure", "RR")
    assert res.returncode == 2 and "--control-risk P and --rrr R" in res.stderr


def test_pool_reports_not_estimable_as_revman(tmp_path):
    """Every study with no events in either arm: 'Not estimable', exit 0, as RevMan reports
    it (issue #9, section 3: 'reported as RevMan does ... with no error'), each study's
    reason listed.  A file with no data rows at all is still bad input (test_cli_pool)."""
    p = tmp_path / "zero.csv"
    p.write_text("study,events1,n1,events2,n2\nA,0,8,0,6\nB,0,10,0,9\n")
    res = cli("pool", p, "--measure", "RR", "--method", "MH", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["k"] == 0 and out["estimate"] is None
    assert out["excluded"] == [{"study": "A", "reason": "not estimable: no events in either arm"},
                               {"study": "B", "reason": "not estimable: no events in either arm"}]
    text = cli("pool", p, "--measure", "RR", "--method", "MH").stdout
    assert text.startswith("Not estimable: no study is estimable") and "B: not estimable" in text


def test_ris_default_power_is_the_books():
    """One default pair of error rates for `reviewbook ris` and the book (issue #21, item 4):
    the command's defaults are the constants the book's imprecision rating and sequential
    analysis read (reviewbook.engine.codes.ALPHA, POWER; GRADE 6: alpha 0.05, power 0.80)."""
    from reviewbook.appraisal import config
    from reviewbook.cli import build_parser
    from reviewbook.engine import codes

    args = build_parser().parse_args(["ris", "x.csv", "--measure", "MD", "--delta", "10"])
    assert (args.alpha, args.power) == (codes.ALPHA, codes.POWER) == (0.05, 0.80)
    assert (config.Config().alpha, config.Config().power) == (codes.ALPHA, codes.POWER)
