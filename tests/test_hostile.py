"""Hostile and broken input is refused, located and bounded (issue #17, part 4).

Every input here is made by the test itself.  What each test expects is the
behaviour the README's fault table states (exit 2 with file, line, column, what
was found and what was expected; exit 1 with one line for an error no check
foresaw); the limits are those stated in ``reviewbook.package.schema`` and
``reviewbook.book.review``.  Where a test expects a number, its source is named.
"""
import csv
import hashlib
import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from bookutil import CHROMIUM, browse, clean_copy, run_book
from hostile_inputs import billion_laughs, package_members, zip_bomb
from conftest import cli as cli_process
from needs import no_hang
from reviewbook import cli
from reviewbook.book import review as rv
from reviewbook.engine import effects
from reviewbook.errors import InputError, Problem
from reviewbook.package import datapackage as dp
from reviewbook.package import importer, schema
from reviewbook.package.tabular import read_csv_text

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"
PACKAGE = ROOT / "data" / "CD015373"
POOL_HEADER = "study,yi,vi\n"
ROWS_HEADER = ("Analysis group,Analysis number,Analysis name,Study,Experimental cases,Experimental N,"
               "Control cases,Control N\n")
EVIL = "<img src=x onerror=alert(1)>"


def run(*args):
    """``reviewbook ARGS`` in this process: (exit code, stdout, stderr)."""
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def run_process(*args, timeout=120):
    """``python -m reviewbook ARGS`` in a new process (for inputs that could hang a reader)."""
    return cli_process(*args, timeout=timeout, env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))


def pool(path):
    return run("pool", path, "--measure", "MD", "--method", "DL")


def tree_state(folder: Path) -> dict:
    """Every entry under ``folder``: kind and, for files, SHA-256 of the bytes."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ------------------------------------------------------------------ encodings, delimiters, empty files

TEXT = POOL_HEADER + "Müller 2001,1,0.1\nB 2002,2,0.2\n"


@pytest.mark.parametrize("kind, data, found", [
    ("utf16", TEXT.encode("utf-16"), "found UTF-16 text (byte-order mark FF FE)"),
    ("utf16be", TEXT.encode("utf-16-be"), "found UTF-16 text without a byte-order mark"),
    ("utf32", TEXT.encode("utf-32"), "found UTF-32 text (byte-order mark FF FE 00 00)"),
    ("latin1", TEXT.encode("latin-1"), "line 2: found bytes that are not UTF-8 (byte 0xFC at byte 14; it looks "
                                       "like Windows-1252 or Latin-1 text)"),
    ("binary", b"study,yi,vi\n" + bytes(range(256)), "line 2: found binary data (a NUL byte at byte 13)"),
    ("xlsx", b"PK\x03\x04" + b"\x00" * 40, "found a zip archive (an Excel .xlsx workbook is one), not text"),
])
def test_an_encoding_other_than_utf8_is_named(tmp_path, kind, data, found):
    f = tmp_path / f"{kind}.csv"
    f.write_bytes(data)
    code, _, err = pool(f)
    assert code == 2
    assert err.startswith(f"error: {kind}.csv") and found in err, err
    assert "expected a UTF-8 CSV file" in err


@pytest.mark.parametrize("delimiter, words", [(";", "semicolons (';')"), ("\t", "tabs"), ("|", "bars ('|')")])
def test_a_delimiter_other_than_the_comma_is_named(tmp_path, delimiter, words):
    f = tmp_path / "d.csv"
    f.write_text(TEXT.replace(",", delimiter), encoding="utf-8")
    code, _, err = pool(f)
    assert code == 2
    assert err.strip() == (f"error: d.csv, line 1: found a header delimited by {words}, not commas; expected "
                           "comma-separated values (a header such as 'study,n1,mean1,...')")


@pytest.mark.parametrize("text, found", [("", "an empty file"), ("\ufeff\n \n\n", "a file of blank lines")])
def test_an_empty_file_says_so_once(tmp_path, text, found):
    f = tmp_path / "e.csv"
    f.write_text(text, encoding="utf-8")
    for args in (("pool", f, "--measure", "MD", "--method", "DL"), ("import-rows", f, tmp_path / "out")):
        code, _, err = run(*args)
        assert code == 2
        assert err.strip().splitlines() == [f"error: e.csv: found {found}; expected a CSV table: a header line of "
                                            "column names, then one line per row"]
    assert not (tmp_path / "out").exists()


def test_a_duplicated_column_is_refused(tmp_path):
    """In ``pool`` the last of two 'yi' columns was taken silently (issue #17, bad findings)."""
    f = tmp_path / "dup.csv"
    f.write_text("study,yi,vi,yi\nA,1,0.1,5\nB,2,0.2,6\n", encoding="utf-8")
    code, _, err = pool(f)
    assert code == 2
    assert ("dup.csv, line 1, column 'yi': found the column 'yi' 2 times (columns 2, 4); expected each column once"
            in err)
    # the same column in RevMan's and R's spelling in a table of data rows
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS_HEADER.rstrip("\n") + ",Experimental.N\n1,1,Pain,A 2001,1,10,2,10,20\n", encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out")
    assert code == 2
    assert ("rows.csv, line 1, column 'Experimental.N': found the column 'Experimental N' twice, as "
            "'Experimental N' and 'Experimental.N'") in err


def test_an_overlong_cell_is_refused_with_its_line(tmp_path):
    f = tmp_path / "long.csv"
    f.write_text(POOL_HEADER + "A,1,0.1\n" + "x" * 200_000 + ",2,0.2\n", encoding="utf-8")
    code, _, err = pool(f)
    assert code == 2
    assert err.strip() == ("error: long.csv, line 3: found a cell longer than 131,072 characters; expected cells "
                           "of at most 131,072 characters")


@pytest.mark.parametrize("name, expected", [
    ("A\x00B", "binary data (a NUL byte at byte 14)"),
    ("A\x1b[2JB", "column 'study': found a control character in 'A\\x1b[2JB'"),
])
def test_control_characters_in_names_are_refused(tmp_path, name, expected):
    f = tmp_path / "c.csv"
    f.write_bytes((POOL_HEADER + f"{name},1,0.1\nB,2,0.2\n").encode())
    code, _, err = pool(f)
    assert code == 2 and expected in err, err
    assert "\x1b" not in err and "\x00" not in err  # the message itself never carries them


def test_a_folder_or_device_given_as_a_file(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    code, _, err = pool(tmp_path / "dir.csv")
    assert (code, err.strip()) == (2, "error: dir.csv: found a folder; expected a CSV file")
    code, _, err = pool("/dev/null")
    assert (code, err.strip()) == (2, "error: null: found a character device; expected a CSV file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_named_pipe_never_hangs_a_reader(tmp_path):
    """Nothing ever writes to the pipe: a reader that opened it would wait for ever."""
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    for args in (("pool", fifo, "--measure", "MD", "--method", "DL"), ("audit", fifo),
                 ("import-rows", fifo, tmp_path / "out")):
        res = run_process(*args, timeout=60)
        assert res.returncode == 2, res.stderr
        assert "rows.csv: found a named pipe" in res.stderr
        assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ numbers and ids

def test_analysis_numbers_and_magnitudes_are_bounded(tmp_path):
    """Analysis numbers are whole numbers from 1 to 9999; any number at most 1e12 in
    absolute value (schema.MAX_ANALYSIS_NUMBER, schema.MAX_MAGNITUDE)."""
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS_HEADER + "-3,1,Pain,A 2001,1,10,2,10\n1,1e300,Pain,B 2001,1,10,2,10\n"
                    "1,1,Pain,C 2001,1,1e300,2,10\n", encoding="utf-8")
    code, _, err = run("import-rows", rows, tmp_path / "out")
    assert code == 2
    assert "rows.csv, line 2, column 'Analysis group': found '-3'; expected a whole number from 1 to 9999" in err
    assert ("rows.csv, line 3, column 'Analysis number': found '1e300'; expected a number of at most 1e+12 in "
            "absolute value") in err
    assert "rows.csv, line 4, column 'Experimental N': found '1e300'" in err
    # in a package's settings file
    pkg = shutil.copytree(PACKAGE, tmp_path / "pkg")
    overall = next(pkg.rglob("*-overall-estimates-and-settings.csv"))
    table = list(csv.reader(io.StringIO(overall.read_text(encoding="utf-8-sig"))))
    table[1][table[0].index("Analysis number")] = "-3"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    overall.write_text(buf.getvalue(), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        dp.read(pkg)
    assert ("CD015373-overall-estimates-and-settings.csv, line 2, column 'Analysis number': found '-3'; "
            "expected a number >= 1") in str(exc.value)


def test_pool_numbers_that_would_overflow_are_refused(tmp_path):
    """1e300 overflowed the weights and ended in a traceback (issue #17); variances below
    1e-12 would make 1/v² overflow (schema.MIN_POSITIVE)."""
    f = tmp_path / "huge.csv"
    f.write_text(POOL_HEADER + "A,1e300,0.1\nB,2,1e-300\n", encoding="utf-8")
    code, _, err = pool(f)
    assert code == 2
    assert "huge.csv, line 2, column 'yi': found '1e300'; expected a number of at most 1e+12" in err
    assert "huge.csv, line 3, column 'vi': found '1e-300'; expected a number >= 1e-12" in err


def test_smd_reason_names_the_studys_own_numbers(tmp_path):
    """N = 1 + 1 with SDs 8.5 and 6.3 was reported as 'SD = 0 in both arms' (issue #17):
    the pooled SD divides by N - 2 = 0 (Cochrane Handbook 6.5.1.2)."""
    es = effects.continuous([1, 10], [5, 5], [8.5, 2], [1, 10], [3, 4], [6.3, 2], measure="SMD", study=["A", "B"])
    assert dict(es.excluded) == {"A": "not estimable: an SMD needs at least 3 participants in all (N = 1 + 1: "
                                      "the pooled SD divides by N - 2)"}
    es = effects.continuous([5, 10], [5, 5], [0, 2], [5, 10], [3, 4], [0, 2], measure="MD", study=["A", "B"])
    assert dict(es.excluded) == {"A": "not estimable: SD is 0 in an arm"}


def test_a_package_id_must_be_safe_as_a_file_name(tmp_path):
    pkg = dp.read(FIX / "Fleiss1993.zip")
    folder = dp.write(dp.Package("X", pkg.analyses, pkg.rows, pkg.subgroup_estimates, pkg.studies,
                                 pkg.risk_of_bias, pkg.references, {}), tmp_path / "pkg")
    for p in sorted(folder.rglob("X-*"), key=lambda p: -len(p.parts)):
        p.rename(p.with_name(p.name.replace("X-", f"{EVIL}-", 1)))
    with pytest.raises(InputError) as exc:
        dp.read(folder)
    assert (f"found the package id '{EVIL}' (the file name before '-data-rows.csv'); expected an id of at most "
            "100 letters, digits, '.', '_' or '-'") in str(exc.value)
    five = tmp_path / f"{EVIL}.csv"
    shutil.copy(FIX / "Fleiss1993_CR.csv", five)
    code, _, err = run("audit", five)
    assert code == 2 and "found a file name that is not a package id" in err


# ------------------------------------------------------------------ what a package is read from

@pytest.fixture
def package(tmp_path):
    return shutil.copytree(PACKAGE, tmp_path / "CD015373")


def test_a_symlink_in_a_package_is_never_followed(package, tmp_path):
    """``leak.csv -> a file outside`` was copied into the site's download zip (issue #17)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("name,password\nroot,hunter2\n", encoding="utf-8")
    (package / "leak.csv").symlink_to(Path("..") / "secret.txt")
    with pytest.raises(InputError) as exc:
        dp.read(package)
    assert str(exc.value) == ("CD015373/leak.csv: found a symbolic link (to '../secret.txt'); expected a file inside "
                              "the package: regular files only (links are not followed; pipes and devices are "
                              "not read)")
    (package / "leak.csv").unlink()
    (package / "CD015373-study-data" / "outside").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(InputError, match=r"CD015373/CD015373-study-data/outside: found a symbolic link"):
        dp.read(package)
    (package / "CD015373-study-data" / "outside").unlink()
    assert dp.read(package).id == "CD015373"  # without them the package reads


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_pipe_in_a_package_is_never_opened(package):
    os.mkfifo(package / "CD015373-study-data" / "CD015373-notes.csv")
    with no_hang(), pytest.raises(InputError, match=r"CD015373-notes.csv: found a named pipe; expected a file inside"):
        dp.read(package)  # opening a pipe with no writer would block for ever


def test_a_package_file_that_is_not_utf8_is_located(package):
    (package / "study-flow.csv").write_bytes("stage,n\nRecords identified,12\nÉtudes,3\n".encode("latin-1"))
    code, _, err = run("audit", package)
    assert code == 2
    assert err.strip() == ("error: study-flow.csv, line 3: found bytes that are not UTF-8 (byte 0xC9 at byte 31; it "
                           "looks like Windows-1252 or Latin-1 text); expected a UTF-8 CSV file (in Excel: Save As "
                           "'CSV UTF-8')")


def test_a_folder_named_like_a_csv_in_a_package_is_not_read(package):
    (package / "notes.csv").mkdir()
    assert dp.read(package).id == "CD015373"


def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            if isinstance(data, zipfile.ZipInfo):
                z.writestr(data, name)
            else:
                z.writestr(name, data)
    return path


def _package_members():
    return package_members(PACKAGE)


def test_a_zip_bomb_is_refused_before_it_expands(tmp_path):
    """512 MiB of one byte deflate to about 0.5 MB: 1000 times, above the stated ratio
    of 200 (schema.MAX_ZIP_RATIO); refused from the archive's directory, at once."""
    bomb = zip_bomb(tmp_path / "bomb.zip", PACKAGE)
    assert bomb.stat().st_size < 1_000_000
    inflated = 0
    read = zipfile.ZipExtFile.read

    def counted(self, n=-1):
        nonlocal inflated
        data = read(self, n)
        inflated += len(data)
        return data

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zipfile.ZipExtFile, "read", counted)
        code, _, err = run("audit", bomb)
    assert code == 2
    assert "bomb.zip: found the member 'study-flow.csv' declaring 512 MiB from" in err
    assert "expected members that expand at most 200 times (a zip bomb is refused)" in err
    # refused from the archive's directory: not one byte of the bomb was inflated
    assert inflated == 0, inflated


def test_zip_total_size_is_bounded_across_nested_zips(tmp_path, monkeypatch):
    """With the total limit lowered to 1 MiB (it is 256 MiB), an export whose inner zip
    holds 0.75 MiB beside 0.25 MiB in the outer zip is refused: nested zips share one
    budget, and nothing more than the limit is written."""
    import random

    rnd = random.Random(1)
    text = lambda n: "".join(rnd.choice("abcdefghij,\n") for _ in range(n)).encode()  # noqa: E731
    inner = _zip(tmp_path / "CD1-data.zip", _package_members() + [("study-flow.csv", text(3 << 18))])
    outer = _zip(tmp_path / "export.zip", [("CD1-files/CD1-data.zip", inner.read_bytes()),
                                           ("CD1-files/notes.csv", text(1 << 18))])
    monkeypatch.setattr(dp, "MAX_ZIP_BYTES", 1 << 20)
    with pytest.raises(InputError, match=r"export.zip/CD1-files/CD1-data.zip: found more than 1 MiB uncompressed"):
        dp.read(outer)
    target = tmp_path / "out"
    target.mkdir()
    budget = [1 << 20]
    dp.safe_extract(outer, target, budget=budget)  # the outer zip alone is within the limit
    assert 0 <= budget[0] < 1 << 20
    assert sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) <= 1 << 20


@pytest.mark.parametrize("member, found", [
    ("../evil.csv", "the member path '../evil.csv'"),
    ("/etc/evil.csv", "the member path '/etc/evil.csv'"),
])
def test_zip_members_outside_the_package_are_refused(tmp_path, member, found):
    z = _zip(tmp_path / "p.zip", _package_members() + [(member, b"a,b\n1,2\n")])
    with pytest.raises(InputError, match=found.replace(".", r"\.")):
        dp.read(z)


def test_a_symlink_member_of_a_zip_is_refused(tmp_path):
    info = zipfile.ZipInfo("leak.csv")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    z = _zip(tmp_path / "p.zip", _package_members() + [("/etc/passwd", info)])
    with pytest.raises(InputError) as exc:
        dp.read(z)
    assert str(exc.value) == ("p.zip: found the member 'leak.csv', a symbolic link; expected regular files only "
                              "(links are not followed)")


# ------------------------------------------------------------------ formula-like cells in the download copy

def test_formula_like_cells_are_quoted_in_the_download_copy_only(tmp_path):
    """OWASP CSV injection: a cell starting with = + - @ tab or CR that is not a number
    gets a leading single quote in the copy offered for download."""
    assert dp.spreadsheet_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert dp.spreadsheet_safe("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert dp.spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert dp.spreadsheet_safe("\t=1+1") == "'\t=1+1"
    assert [dp.spreadsheet_safe(x) for x in ("-0.5", "+3", "-1e-3", "Smith 2001", "")] == \
        ["-0.5", "+3", "-1e-3", "Smith 2001", ""]
    pkg = dp.read(FIX / "Fleiss1993.zip")
    rows = pkg.rows.copy()
    rows.loc[0, "Study"] = '=HYPERLINK("http://evil")'
    rows.loc[1, "Study"] = "-cmd|calc"
    evil = dp.Package("EV1", pkg.analyses, rows, pkg.subgroup_estimates, pkg.studies, pkg.risk_of_bias,
                      pkg.references, {})
    z = dp.write_zip(evil, tmp_path / "download.zip", spreadsheet=True)
    with zipfile.ZipFile(z) as zf:
        text = zf.read("EV1-analysis-data/EV1-data-rows.csv").decode("utf-8-sig")
    studies = [r["Study"] for r in csv.DictReader(io.StringIO(text))]
    assert studies[:2] == ['\'=HYPERLINK("http://evil")', "'-cmd|calc"]
    assert not any(s.startswith(dp.FORMULA_START) for s in studies)
    plain = dp.read(dp.write(evil, tmp_path / "plain"))  # the copy the book reads keeps the names
    assert list(plain.rows["Study"][:2]) == ['=HYPERLINK("http://evil")', "-cmd|calc"]


# ------------------------------------------------------------------ import-rows never replaces a package

ONE_ROW = ROWS_HEADER + "1,1,Pain,A 2001,3,10,1,10\n"


def test_import_rows_never_replaces_a_package_without_force(tmp_path):
    rows = tmp_path / "r.csv"
    rows.write_text(ONE_ROW, encoding="utf-8")
    out = tmp_path / "out"
    assert run("import-rows", rows, out, "--id", "P1")[0] == 0
    # the user names the comparison by hand after importing
    overall = out / "P1-analysis-data" / "P1-overall-estimates-and-settings.csv"
    overall.write_text(overall.read_text(encoding="utf-8-sig").replace("Imported data rows", "Edited by hand"),
                       encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = tree_state(out)
    code, _, err = run("import-rows", rows, out, "--id", "P1")
    assert code == 2
    assert err.strip() == (f"error: {out}: found 'P1-analysis-data' already there (a package P1); expected a new or "
                           "empty folder, or --force to replace the earlier import of the same package (nothing "
                           "was written)")
    assert tree_state(out) == before
    # another package is refused even with --force
    code, _, err = run("import-rows", rows, out, "--id", "P2", "--force")
    assert code == 2 and "found another package inside (P1-analysis-data)" in err
    assert tree_state(out) == before
    # --force replaces the earlier import of the same package, and keeps other files
    assert run("import-rows", rows, out, "--id", "P1", "--force")[0] == 0
    assert "Edited by hand" not in overall.read_text(encoding="utf-8-sig")
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".import-")]


def test_a_failed_import_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    rows = tmp_path / "r.csv"
    rows.write_text(ONE_ROW, encoding="utf-8")
    out = tmp_path / "out"
    assert run("import-rows", rows, out, "--id", "P1")[0] == 0
    before = tree_state(out)
    real = importer.write_import

    def half_then_fail(result, folder):
        real(result, folder)
        (Path(folder) / "provenance.csv").write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(importer, "write_import", half_then_fail)
    code, _, err = run("import-rows", rows, out, "--id", "P1", "--force")
    assert code == 2
    assert "found a folder that cannot be written (No space left on device)" in err
    assert tree_state(out) == before
    fresh = tmp_path / "new" / "deeper"
    assert run("import-rows", rows, fresh, "--id", "P1")[0] == 2
    assert not (tmp_path / "new").exists()  # the folders the run created are gone again


def test_an_output_folder_that_cannot_be_written(tmp_path):
    rows = tmp_path / "r.csv"
    rows.write_text(ONE_ROW, encoding="utf-8")
    code, _, err = run("import-rows", rows, "/proc/reviewbook-out")
    assert code == 2
    assert err.startswith("error: /proc/reviewbook-out: found a folder that cannot be")
    (tmp_path / "file").write_text("x")
    code, _, err = run("import-rows", rows, tmp_path / "file")
    assert code == 2 and "file: found a file; expected a folder to write the package into" in err


# ------------------------------------------------------------------ review files

def _review(tmp_path, text, name="review.yml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_a_billion_laughs_review_file_is_refused_at_once(tmp_path):
    """Nine levels of nine aliases stand for 9**9 (387 million) strings: refused from the
    node graph (book.review.MAX_REVIEW_NODES = 100,000) without expanding it."""
    text = billion_laughs()
    with no_hang(), pytest.raises(InputError) as exc:
        rv.load(_review(tmp_path, text))  # expanding 387 million strings would not end
    assert str(exc.value) == ("review.yml: found aliases that expand to more than 100,000 values; expected a review "
                              "file of reasonable size (YAML aliases are expanded)")
    # a few aliases are fine
    ok = _review(tmp_path, "package: X\ntitle: &t Pain\nshort_title: *t\nsections: []\n", "ok.yml")
    assert rv.load(ok).short_title == "Pain"


@pytest.mark.parametrize("text, found", [
    ("package: X\ntitle: T\nsections: &s [*s]\n", "a recursive alias"),
    ("package: X\ntitle: T\nsections: " + "[" * 50_000 + "]" * 50_000 + "\n", "values nested too deeply to read"),
    ("package: X\ntitle: [1, 2]\nsections: []\n", "column 'title': found a list ([1, 2]); expected text"),
    ("package: X\ntitle: T\nsections: 3\n", "column 'sections': found a number (3); expected a list"),
    ("package: X\ntitle: T\nsections:\n  - key: a\n    title: {x: 1}\n",
     "column 'sections[0].title': found a mapping"),
])
def test_malformed_review_files_are_located(tmp_path, text, found):
    with pytest.raises(InputError, match=found.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        rv.load(_review(tmp_path, text))


def test_a_review_file_must_be_a_small_regular_utf8_file(tmp_path):
    (tmp_path / "dir.yml").mkdir()
    with pytest.raises(InputError, match=r"dir.yml: found a folder; expected a review file \(YAML\)"):
        rv.load(tmp_path / "dir.yml")
    big = _review(tmp_path, "package: X\ntitle: T\nsections: []\n# " + "x" * rv.MAX_REVIEW_BYTES + "\n", "big.yml")
    with pytest.raises(InputError, match=r"big.yml: found a file of 1 MiB; expected .* of at most 1 MiB"):
        rv.load(big)
    latin = tmp_path / "latin.yml"
    latin.write_bytes("package: X\ntitle: Étude\nsections: []\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin.yml, line 2: found bytes that are not UTF-8"):
        rv.load(latin)


# ------------------------------------------------------------------ no traceback reaches a user

def test_an_unforeseen_error_is_one_line_naming_the_input(tmp_path, monkeypatch):
    from reviewbook.package import poolcsv

    def boom(*a, **k):
        raise RuntimeError("something\nnobody foresaw")

    monkeypatch.setattr(poolcsv, "read_pool_csv", boom)
    f = tmp_path / "in.csv"
    f.write_text(TEXT, encoding="utf-8")
    code, out, err = pool(f)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: pool failed on '{f}': unexpected RuntimeError: something nobody foresaw")


def test_the_problem_message_escapes_control_characters():
    p = Problem("a\x1b[2Jb.csv", 2, "c\x07", "'\x00'", "text")
    assert str(p) == "a\\x1b[2Jb.csv, line 2, column 'c\\x07': found '\\x00'; expected text"


def test_read_csv_text_reports_every_problem_at_once():
    with pytest.raises(InputError) as exc:
        read_csv_text("a,b,a,b\n1,2,3,4\n", "t.csv")
    assert [p.column for p in exc.value.problems] == ["a", "b"]


def test_stated_limits():
    """The README's fault table and the Re-running page state these numbers."""
    assert (schema.MAX_FILE_BYTES, schema.MAX_ZIP_BYTES, schema.MAX_ZIP_RATIO, schema.MAX_FIELD_CHARS) == \
        (64 * 2 ** 20, 256 * 2 ** 20, 200, 131_072)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in ("64 MiB", "256 MiB", "200 times", "131,072", "100,000"):
        assert text in readme, text


# ------------------------------------------------------------------ names are text in a real build

HOSTILE = f"{EVIL} {{{{ x }}}} {{glue}}`k` *not emphasis*"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """A clean copy of the repository and a package written here from the Fleiss1993
    fixture: its comparison name carries markup, a substitution, a role and a formula,
    and two study names are spreadsheet formulas."""
    repo = clean_copy(tmp_path_factory.mktemp("hostile"))
    pkg = dp.read(FIX / "Fleiss1993.zip")
    analyses = pkg.analyses.copy()
    analyses["Analysis group name"] = HOSTILE
    rows = pkg.rows.copy()
    rows.loc[0, "Study"] = '=HYPERLINK("http://evil.example")'
    rows.loc[1, "Study"] = "+cmd|calc"
    folder = dp.write(dp.Package("HOST1", analyses, rows, pkg.subgroup_estimates, pkg.studies, pkg.risk_of_bias,
                                 pkg.references, {}), tmp_path_factory.mktemp("pkg") / "HOST1")
    res = run_book(repo, "--data", folder)
    assert res.returncode == 0, res.stdout + res.stderr
    return repo, folder


def _visible(page):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page()
        dialogs = []
        tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        tab.goto(page)
        tab.wait_for_load_state("load")
        if tab.query_selector("#search-results") is not None:  # the search page searches after loading
            tab.wait_for_function("""() => { const s = document.querySelector('#search-results .search-summary');
                return s !== null && /^(Search finished|Your search did not match)/.test(s.innerText); }""",
                                  timeout=20000)
        seen = {"title": tab.title(), "h1": tab.inner_text("main h1") if tab.query_selector("main h1") else "",
                "nav": tab.inner_text("nav.bd-docs-nav") if tab.query_selector("nav.bd-docs-nav") else "",
                "search": tab.inner_text("#search-results") if tab.query_selector("#search-results") else "",
                "imgs": tab.eval_on_selector_all("img", "els => els.map(e => e.getAttribute('src'))")}
        browser.close()
    return seen, dialogs


@pytest.mark.slow(20)
@pytest.mark.needs("chromium")
def test_a_hostile_comparison_name_is_text_in_heading_navigation_and_search(hostile_site):
    """The comparison name was written raw into the heading and navigation and its
    script ran (issue #17): now the literal text is visible and no script runs."""
    repo, _ = hostile_site
    site = repo / "book/_build/html"
    literal = HOSTILE
    for rel in ("sections/comparison_1.html", "intro.html", "sections/summary_of_findings.html"):
        html = (site / rel).read_text(encoding="utf-8")
        assert "<img src=x" not in html, rel
    seen, dialogs = _visible((site / "sections/comparison_1.html").as_uri())
    assert dialogs == []
    assert literal in seen["h1"] and literal in seen["title"] and literal in seen["nav"], seen
    assert "x" not in seen["imgs"]
    seen, dialogs = _visible((site / "search.html").as_uri() + "?q=onerror")
    assert dialogs == [] and EVIL in seen["search"], seen
    assert not browse(["sections/comparison_1.html", "intro.html", "sections/study_flow.html"], site)


def test_the_download_zip_quotes_formulas_and_holds_no_other_file(hostile_site):
    repo, folder = hostile_site
    z = repo / "book/_build/html/downloads/HOST1-data-package.zip"
    with zipfile.ZipFile(z) as zf:
        names = sorted(zf.namelist())
        rows = zf.read("HOST1-analysis-data/HOST1-data-rows.csv").decode("utf-8-sig")
    assert names == sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    studies = [r["Study"] for r in csv.DictReader(io.StringIO(rows))]
    assert studies[:2] == ['\'=HYPERLINK("http://evil.example")', "'+cmd|calc"]
    # the package the book read is unchanged
    assert list(dp.read(folder).rows["Study"][:2]) == ['=HYPERLINK("http://evil.example")', "+cmd|calc"]


@pytest.mark.slow(15)
@pytest.mark.needs("chromium")
def test_a_hostile_review_file_title_is_text(hostile_site, tmp_path):
    """The book's title (navigation bar, <title>) and a section title come from a review file."""
    repo, folder = hostile_site
    review = tmp_path / "review.yml"
    review.write_text(f"package: HOST1\ntitle: '{EVIL} title'\nshort_title: '{EVIL} short'\n"
                      f"sections:\n  - key: all\n    title: '{EVIL} section'\n    groups: [1]\n", encoding="utf-8")
    res = run_book(repo, "--data", folder, "--review", review)
    assert res.returncode == 0, res.stdout + res.stderr
    site = repo / "book/_build/html"
    for p in site.rglob("*.html"):
        if "_static" not in p.parts:
            assert "<img src=x" not in p.read_text(encoding="utf-8"), p
    seen, dialogs = _visible((site / "intro.html").as_uri())
    assert dialogs == []
    # the landing page is headed by the short title (the answer has to fit the first screen)
    assert seen["title"] == f"{EVIL} short — {EVIL} short" and seen["h1"].startswith(f"{EVIL} short"), seen
    seen, dialogs = _visible((site / "sections/all.html").as_uri())
    assert dialogs == [] and f"{EVIL} section" in seen["h1"] and f"{EVIL} section" in seen["nav"]
