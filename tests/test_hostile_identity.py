"""Hostile input, issue #23 items 3-5: one identity per study, one grammar for numbers
and years, bounds on everything a user sets, and the leftovers (a byte-order mark
inside a file named, a long --note named as the argument, PM on extreme values, UTC
dates, an atlas written into its own rows folder).

Every input is made here.  What each test expects is the README's fault table
(exit 2 with file, line, column, found and expected; the argument named for a bound);
the bounds are those stated in ``reviewbook.package.schema`` and ``reviewbook.cli``.
"""
import csv
import datetime as dt
import io
import json
import math
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from reviewbook import cli
from reviewbook.book.sections import _year
from reviewbook.errors import Problem
from reviewbook.package import datapackage as dp
from reviewbook.package import schema
from reviewbook.package.names import name_problem, study_key

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED = ROOT / "data" / "CD015373"
ROWS_HEADER = "Analysis group,Analysis number,Analysis name,Study,Experimental cases,Experimental N,Control cases,Control N\n"
#: add-rows header for a dichotomous row of analysis 1.9 (CD015373: 4 studies, Lumanauw 2019 first)
NEW_HEADER = "Analysis group,Analysis number,Study,Study year,Experimental cases,Experimental N,Control cases,Control N\n"


def run(*args):
    """``reviewbook ARGS`` in this process: (exit code, stdout, stderr)."""
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse refuses an argument
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def package(tmp_path):
    return Path(shutil.copytree(EMBEDDED, tmp_path / "CD015373"))


# ------------------------------------------------------------------ item 3: one identity per study

def test_study_key_folds_every_spelling_of_one_name():
    """NFKC, zero-width characters removed, whitespace collapsed (no-break and other
    Unicode spaces too), case folded (names.study_key)."""
    base = study_key("Kleinböhl 2006")
    spellings = ["kleinböhl 2006", "KLEINBÖHL 2006", "Kleinböhl  2006", "Kleinböhl\u00a02006",
                 "Klein\u200bböhl 2006", unicodedata.normalize("NFD", "Kleinböhl 2006"), "Ｋleinböhl 2006",
                 " Kleinböhl\u2003 2006 ", "Kleinböhl\u202f2006"]
    assert [study_key(s) == base for s in spellings] == [True] * 9
    assert study_key("Kleinböhl 2006a") != base


@pytest.mark.parametrize("spelling", [
    "lumanauw 2019", "Lumanauw  2019", "Lumanauw\u00a02019", "Luma\u200bnauw 2019", "ＬＵＭＡＮＡＵＷ 2019",
])
def test_add_rows_refuses_a_look_alike_of_a_study_of_the_package(package, tmp_path, spelling):
    """Issue #23: 'lumanauw 2019' (or with a double, no-break or zero-width space) was
    added to analysis 1.9 as a fifth trial (RR 3.26 became 4.30)."""
    rows = tmp_path / "new.csv"
    rows.write_text(NEW_HEADER + f"1,9,{spelling},2019,3,30,1,32\n", encoding="utf-8")
    before = snapshot(package)
    code, _, err = run("add-rows", package, rows, "--source", "x")
    assert code == 2, err
    assert "new.csv, line 2, column 'Study': found '" in err
    assert "a look-alike of the package's study 'Lumanauw 2019'" in err
    assert snapshot(package) == before
    assert "\u200b" not in err and "\u00a0" not in err  # shown escaped


def test_add_rows_refuses_another_unicode_form_of_a_study_in_another_analysis(package, tmp_path):
    """Kleinböhl 2006 written decomposed (NFD) in analysis 1.9, where it has no row: still the
    package's study, so refused as a look-alike rather than added as a new trial."""
    rows = tmp_path / "new.csv"
    rows.write_text(NEW_HEADER + unicodedata.normalize("NFD", "1,9,Kleinböhl 2006,2006,3,30,1,32\n"),
                    encoding="utf-8")
    code, _, err = run("add-rows", package, rows, "--source", "x")
    assert code == 2 and "a look-alike of the package's study 'Kleinböhl 2006'" in err, err


@pytest.mark.parametrize("second", [
    unicodedata.normalize("NFD", "Kleinböhl 2006"), "kleinböhl 2006", "Kleinböhl  2006", "Klein\u200bböhl 2006",
])
def test_import_rows_refuses_two_spellings_of_one_study(tmp_path, second):
    """Two rows whose names differ only in Unicode form, case, spacing or an invisible
    character are one study spelled twice: refused, naming the first spelling and its line."""
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS_HEADER + "1,1,Pain,Kleinböhl 2006,3,30,1,32\n" + f"1,1,Pain,{second},4,30,2,32\n",
                    encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out")
    assert code == 2, err
    assert "rows.csv, line 3, column 'Study': found '" in err
    assert "a look-alike of the study 'Kleinböhl 2006' (line 2)" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_one_study_in_several_rows_is_still_legal(tmp_path):
    """A multi-arm trial has several rows of one analysis spelled alike: imported (2 rows)."""
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS_HEADER + "1,1,Pain,Smith 2001,3,30,1,32\n1,1,Pain,Smith 2001,5,31,1,32\n"
                    "1,1,Pain,Jones 2003,4,30,2,31\n", encoding="utf-8")
    code, out, err = run("import-rows", rows, tmp_path / "out")
    assert code == 0, err
    pkg = dp.read(tmp_path / "out")
    assert list(pkg.rows_of("1.1")["Study"]) == ["Smith 2001", "Smith 2001", "Jones 2003"]


@pytest.mark.parametrize("name, words", [
    ("A\u2028B 2001", "a line break, LINE SEPARATOR (U+2028), at character 2"),
    ("A\u2029B 2001", "a line break, PARAGRAPH SEPARATOR (U+2029)"),
    ("A\x85B 2001", "a line break, NEL (U+0085, a line break)"),
    ("A\u202eB 2001", "a bidirectional control, RIGHT-TO-LEFT OVERRIDE (U+202E)"),
    ("A\u2066B 2001", "a bidirectional control, LEFT-TO-RIGHT ISOLATE (U+2066)"),
    ("A\x9bB 2001", "a control character, the control character U+009B"),
    ('"A\tB 2001"', "a control character, a tab"),
    ('"A\nB 2001"', "a line break, a line feed"),  # a quoted cell: located at the line the row ends (3)
])
def test_names_with_line_breaks_bidi_or_control_characters_are_refused(tmp_path, name, words):
    """Issue #23: NEL or LINE SEPARATOR split a table row on the page; right-to-left
    overrides and C1 controls reached the HTML and the terminal."""
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS_HEADER + f"1,1,Pain,{name},3,30,1,32\n", encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out")
    assert code == 2, err
    line = 3 if "\n" in name else 2
    assert f"rows.csv, line {line}, column 'Study': found {words}" in err, err
    assert "expected a study name on one line, without control or bidirectional formatting characters" in err
    for ch in "\u2028\u2029\x85\u202e\u2066\x9b":
        assert ch not in err  # the message shows them escaped


def test_a_subgroup_name_with_a_bidi_override_is_refused(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("Analysis group,Analysis number,Analysis name,Subgroup,Study,Experimental cases,Experimental N,"
                    "Control cases,Control N\n1,1,Pain,Low\u202edose,A 2001,3,30,1,32\n", encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out")
    assert code == 2 and "rows.csv, line 2, column 'Subgroup': found a bidirectional control" in err, err


def test_a_zero_width_space_alone_is_accepted():
    """Published reviews carry U+200B inside names (Pairwise70 CD012693.pub3, 15 rows):
    ignored by the key, never refused."""
    assert name_problem("Smith\u200b 2001") is None and study_key("Smith\u200b 2001") == "smith 2001"


def test_a_package_with_look_alikes_is_refused_by_the_reader(package):
    """audit and book read a package through the same validator: a package whose rows spell
    one study two ways is refused (exit 2), located in its data rows."""
    data = next(package.rglob("*-data-rows.csv"))
    text = data.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if ",Lumanauw 2019," in line)
    lines[row] = lines[row].replace(",Lumanauw 2019,", ",LUMANAUW 2019,")
    data.write_text("".join(lines), encoding="utf-8")
    code, _, err = run("audit", package)
    assert code == 2, err
    assert "a look-alike of the study 'Lumanauw 2019'" in err or "a look-alike of the study 'LUMANAUW 2019'" in err


# ------------------------------------------------------------------ item 4: numbers and years

@pytest.mark.parametrize("raw", ["1_2", "٣", "１２", "inf", "nan", "0x1", "1e", "--1", "1,5"])
def test_numbers_follow_one_grammar(tmp_path, raw):
    """Python's float() and int() take '1_2' (as 12), '٣' and full-width digits; none is a
    number here (schema.NUMBER)."""
    rows = tmp_path / "rows.csv"
    cell = f'"{raw}"' if "," in raw else raw
    rows.write_text(ROWS_HEADER + f"1,1,Pain,A 2001,3,{cell},1,32\n", encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out")
    assert code == 2, err
    assert "rows.csv, line 2, column 'Experimental N': found '" in err
    assert "expected a number (ASCII digits, an optional sign, decimal point and exponent" in err


def test_pool_numbers_follow_the_same_grammar(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("study,yi,vi\nA,1_2,0.1\nB,2,0.2\n", encoding="utf-8")
    code, _, err = run("pool", f, "--measure", "MD", "--method", "DL")
    assert code == 2 and "p.csv, line 2, column 'yi': found '1_2'; expected a number (ASCII digits" in err, err


def test_a_byte_order_mark_inside_a_file_is_named(tmp_path):
    """Issue #23: reported as "found '\\ufeff1'" with the mark invisible."""
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS_HEADER + "1,1,Pain,A 2001,3,\ufeff30,1,32\n", encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out")
    assert code == 2
    assert ("rows.csv, line 2, column 'Experimental N': found '\\ufeff30' (it holds a byte-order mark, ZERO WIDTH "
            "NO-BREAK SPACE, U+FEFF, at character 1, which is invisible)") in err, err
    assert "\ufeff" not in err


@pytest.mark.parametrize("year", ["1000", "2999", "²⁰²⁴", "1899", "２０２０", "20x4"])
def test_add_rows_years_are_four_ascii_digits_in_range(package, tmp_path, year):
    """Issue #23: 1000, 2999 and '²⁰²⁴' were accepted ('²⁰²⁴' then sorted last in the
    cumulative meta-analysis).  Range: 1900 to next year (schema.MIN_YEAR, schema.max_year)."""
    rows = tmp_path / "new.csv"
    rows.write_text(NEW_HEADER + f"1,9,New Trial {year},{year},3,30,1,32\n", encoding="utf-8")
    code, _, err = run("add-rows", package, rows, "--source", "x")
    assert code == 2, err
    assert "new.csv, line 2, column 'Study year': found '" in err
    assert f"a study new to the package (four ASCII digits from 1900 to {schema.max_year()} (next year))" in err


def test_year_rule_and_cumulative_order():
    assert [schema.year_of(y) for y in ("1900", "2019", str(schema.max_year()), str(schema.max_year() + 1),
                                        "1899", "²⁰²⁴", "2019 ")] == [1900, 2019, schema.max_year(), None, None,
                                                                      None, 2019]
    # the cumulative meta-analysis orders by this year; an unknown one (9999) is added last
    assert [_year(x) for x in ("2019a", "1989 Oct", "²⁰²⁴", "2999", "٢٠١٩", "")] == [2019, 1989, 9999, 9999, 9999,
                                                                                     9999]


# ------------------------------------------------------------------ item 5: bounds on what a user sets

def test_boundaries_looks_are_bounded():
    info = ",".join(str((i + 1) / 101) for i in range(101))
    code, _, err = run("boundaries", "--information", info)
    assert code == 2 and "--information gives 101 looks; expected at most 100" in err, err


@pytest.mark.parametrize("value, words", [
    ("0", "found '0'; expected a number > 0 and <= 86400"), ("-1", "found '-1'; expected a number > 0"),
    ("nan", "found 'nan'; expected a finite number"), ("inf", "found 'inf'; expected a finite number"),
    ("86401", "found '86401'; expected a number > 0 and <= 86400"),
])
def test_atlas_timeout_is_positive_and_finite(tmp_path, value, words):
    """Issue #23: --timeout 0 meant no timeout; nan ended in 'unexpected ValueError'."""
    code, _, err = run("atlas", tmp_path, tmp_path / "out", "--timeout", value)
    assert code == 2 and f"argument --timeout: {words}" in err, err


def test_atlas_jobs_are_bounded_by_the_cpus_unless_forced(tmp_path):
    """Issue #23: --jobs 1000 started 1,003 processes."""
    cpus = cli.cpus_available()
    code, _, err = run("atlas", tmp_path, tmp_path / "out", "--jobs", cpus + 1)
    assert code == 2 and f"--jobs {cpus + 1} is not allowed; expected at most {cpus}" in err, err
    code, _, err = run("atlas", tmp_path, tmp_path / "out", "--jobs", "1000", "--force-jobs")
    assert code == 2 and "or with --force-jobs at most 256" in err, err
    for bad in ("0", "1_2", "٣", "2.5"):
        code, _, err = run("atlas", tmp_path, tmp_path / "out", "--jobs", bad)
        assert code == 2 and "argument --jobs: found" in err, (bad, err)
    args = cli.build_parser().parse_args(["atlas", "a", "b", "--jobs", str(cpus + 1), "--force-jobs"])
    assert args.jobs == cpus + 1 and args.force_jobs


@pytest.fixture
def md_csv(tmp_path):
    p = tmp_path / "md.csv"
    p.write_text("study,yi,vi\nA,0.1,0.04\nB,0.3,0.05\nC,-0.1,0.06\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("args, words", [
    (["--tau-prior", "halfnormal:1e200"], "--tau-prior 'halfnormal:1e200' is not allowed; expected a scale greater "
                                          "than 0 and at most 1e+06"),
    (["--tau-prior", "halfcauchy:0"], "expected a scale greater than 0"),
    (["--tau-prior", "halfnormal:nan"], "--tau-prior 'halfnormal:nan' is not allowed"),
    (["--tau-prior", "halfnormal:1", "--mu-prior", "normal:0,1e9"], "--mu-prior 'normal:0,1e9' is not allowed"),
    (["--tau-prior", "halfnormal:1", "--mu-prior", "normal:1e300,1"], "expected a mean of at most 1e+12"),
])
def test_bayes_prior_scales_are_bounded(md_csv, args, words):
    """Issue #23: halfnormal:1e200 printed 'median NaN, CrI [NaN, NaN]' with exit 0."""
    code, out, err = run("bayes", md_csv, "--measure", "MD", *args)
    assert code == 2 and words in err, err
    assert "NaN" not in out


def test_bayes_at_the_bound_is_finite(md_csv):
    code, out, err = run("bayes", md_csv, "--measure", "MD", "--tau-prior", "halfnormal:1e6", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert all(math.isfinite(res[k]["median"]) for k in ("mu", "tau"))


def test_no_result_is_printed_as_nan_with_exit_0(capsys):
    """The output guard: a result that is not finite exits 1 with its name."""
    assert cli._finite_or_fail("bayes", {"mu": {"median": 0.1}, "tau": [0.2, 0.3]}) is None
    assert cli._finite_or_fail("bayes", {"mu": {"median": float("nan")}}) == 1
    assert "error: bayes: the result mu.median is not a finite number (nan)" in capsys.readouterr().err


@pytest.mark.parametrize("arg, limit", [("--note", schema.MAX_NOTE_CHARS), ("--source", schema.MAX_SOURCE_CHARS)])
def test_note_and_source_lengths_are_bounded_and_named(package, tmp_path, arg, limit):
    """Issue #23: a too-long --note was reported as 'provenance.csv, line 1874'."""
    rows = tmp_path / "new.csv"
    rows.write_text(NEW_HEADER + "1,9,Madeup 2026,2026,3,30,1,32\n", encoding="utf-8")
    before = snapshot(package)
    extra = ["--source", "x"] if arg == "--note" else []
    code, _, err = run("add-rows", package, rows, *extra, arg, "n" * (limit + 1))
    assert code == 2, err
    assert f"error: {arg}: found a text of {limit + 1:,} characters; expected at most {limit:,} characters" in err
    assert "provenance.csv" not in err and snapshot(package) == before
    code, _, err = run("add-rows", package, rows, "--source", "x\u202ey")
    assert code == 2 and "error: --source: found a bidirectional control" in err, err


def test_names_and_analyses_are_bounded(tmp_path, monkeypatch):
    rows = tmp_path / "rows.csv"
    long_name = "S" * (schema.MAX_STUDY_CHARS + 1)
    rows.write_text(ROWS_HEADER + f"1,1,Pain,{long_name},3,30,1,32\n", encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out")
    assert code == 2 and f"column 'Study': found a name of {schema.MAX_STUDY_CHARS + 1} characters" in err, err
    assert f"expected a name of at most {schema.MAX_STUDY_CHARS} characters" in err
    # the number of analyses in one package (the bound made small here: the check is the same)
    monkeypatch.setattr(dp, "MAX_ANALYSES", 3)
    rows.write_text(ROWS_HEADER + "".join(f"1,{n},Pain {n},A 2001,3,30,1,32\n" for n in range(1, 5)),
                    encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out2")
    assert code == 2 and "rows.csv, column 'Analysis number': found 4 analyses; expected at most 3 analyses" in err, err


def test_every_bound_is_in_the_help_and_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    helps = {c: subprocess.run([sys.executable, "-m", "reviewbook", c, "--help"], capture_output=True, text=True,
                               env=dict(os.environ, PYTHONPATH=str(ROOT / "src"))).stdout
             for c in ("atlas", "boundaries", "bayes", "add-rows")}
    assert "at most 100 looks" in helps["boundaries"] and "at most 100 looks" in readme
    assert "--force-jobs" in helps["atlas"] and "86,400" in helps["atlas"] and "--force-jobs" in readme
    assert "1e+06" in helps["bayes"] and "1e6" in readme
    assert "2,000 characters" in helps["add-rows"] and "2,000 characters" in readme
    assert f"{schema.MAX_ANALYSES:,} analyses" in readme and f"{schema.MAX_STUDY_CHARS} characters" in readme


# ------------------------------------------------------------------ leftovers

@pytest.mark.parametrize("method", ["PM", "REML", "DL"])
def test_tau2_on_extreme_values_is_finite(tmp_path, method):
    """Issue #23: pool --method PM on extreme values ended in 'unexpected ValueError' (the
    bracket of the root overflowed to inf); weights 24 orders of magnitude apart made the
    DL denominator cancel to 0 (tau² inf); Chi² of 2e36 broke the rounding of the table."""
    f = tmp_path / "x.csv"
    f.write_text("study,yi,vi\nA,1e12,1e-12\nB,-3.5,1e12\nC,0,1e-6\n", encoding="utf-8")
    code, out, err = run("pool", f, "--measure", "MD", "--method", method, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["tau2"] is not None and math.isfinite(res["tau2"]) and res["tau2"] > 0
    code, out, err = run("pool", f, "--measure", "MD", "--method", method)
    assert code == 0 and "NaN" not in out, err


def test_versions_dates_are_utc_whatever_the_time_zone(package, tmp_path):
    """Issue #23: some dates of versions.csv followed the local time zone."""
    rows = tmp_path / "new.csv"
    rows.write_text(NEW_HEADER + "1,9,Madeup 2026,2026,3,30,1,32\n", encoding="utf-8")
    for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11: a day apart from UTC most hours
        pkg = Path(shutil.copytree(package, tmp_path / tz.replace("/", "_")))
        res = subprocess.run([sys.executable, "-m", "reviewbook", "add-rows", pkg, rows, "--source", "x"],
                             capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=str(ROOT / "src"), TZ=tz))
        assert res.returncode == 0, res.stderr
        versions = list(csv.DictReader(io.StringIO((pkg / "versions.csv").read_text(encoding="utf-8-sig"))))
        assert versions[-1]["date"] == dt.datetime.now(dt.timezone.utc).date().isoformat()


def test_an_atlas_written_into_its_rows_folder_never_reads_its_own_table(tmp_path):
    """Issue #23: a second atlas with OUT_DIR = ROWS_DIR audited its own atlas.csv as a review."""
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "R1.csv").write_text(ROWS_HEADER + "1,1,Pain,A 2001,3,30,1,32\n1,1,Pain,B 2002,4,30,2,31\n",
                                   encoding="utf-8")
    for _ in range(2):
        code, out, err = run("atlas", folder, folder)
        assert code == 0, err
        assert "atlas of 1 reviews" in out
    table = list(csv.DictReader(io.StringIO((folder / "atlas.csv").read_text(encoding="utf-8"))))
    assert [r["review"] for r in table] == ["R1"]


def test_messages_never_carry_bidi_or_line_separators():
    text = str(Problem("f.csv", 2, "Study", "'A\u202eB\u2028C\u2066D\ufeff'", "x"))
    assert text == "f.csv, line 2, column 'Study': found 'A\\u202eB\\u2028C\\u2066D\\ufeff'; expected x"


def test_pool_refuses_look_alikes_and_line_separators(tmp_path):
    """pool's study labels follow the same identity and the same refusals."""
    f = tmp_path / "lk.csv"
    f.write_text('study,yi,vi\nSmith 2001,1,0.1\nsmith  2001,2,0.2\n"A\u2028B",1,0.3\n', encoding="utf-8")
    code, _, err = run("pool", f, "--measure", "MD", "--method", "DL")
    assert code == 2
    assert ("lk.csv, line 3, column 'study': found 'smith  2001' again, a look-alike of 'Smith 2001'; expected each "
            "study once (first on line 2)") in err
    assert "lk.csv, line 4, column 'study': found a line break, LINE SEPARATOR (U+2028)" in err


def test_a_comparison_name_with_a_line_separator_is_refused(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS_HEADER + "1,1,Pain,A 2001,3,30,1,32\n", encoding="utf-8")
    groups = tmp_path / "groups.csv"
    groups.write_text("Analysis group,Analysis group name\n1,Ketamine\u2028versus placebo\n", encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out", "--groups", groups)
    assert code == 2, err
    assert "groups.csv, line 2, column 'Analysis group name': found a line break, LINE SEPARATOR (U+2028)" in err
