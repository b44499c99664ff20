"""A review file is data, never markup (issue #23, item 1).

Every attack of the issue, made here: a directive, role or raw HTML in a prose
field, a named file that is a pipe, a device or a folder, and a pattern that
backtracks for ever.  What each test expects is the README's fault table: exit
2 with the review file, the line of the key in the YAML, the key, what was
found and what was expected (``reviewbook.book.prose.ALLOWED``).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from needs import no_hang

from reviewbook.book import prose
from reviewbook.book import review as rv
from reviewbook.errors import InputError
from reviewbook.package import patterns

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"
ALLOWED = prose.ALLOWED
HEAD = "package: CD015373\ntitle: T\n"


def _review(tmp_path, text, name="review.yml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _refused(tmp_path, text) -> str:
    with pytest.raises(InputError) as exc:
        rv.load(_review(tmp_path, text))
    assert len(exc.value.problems) == 1, exc.value
    return str(exc.value.problems[0])


# ------------------------------------------------------------------ prose: a whitelist

ATTACKS = [
    # (what, YAML after the head, line of the key, key, what is found)
    ("include in a prose field", "question: |\n  Hello\n  ```{include} /etc/passwd\n  ```\nsections: []\n",
     3, "question", "the directive {include} ('{include} /etc/passwd')"),
    ("literalinclude in a section intro",
     "sections:\n  - key: harms\n    title: Harms\n    intro: |\n      ```{literalinclude} /etc/hostname\n      ```\n",
     6, "sections[0].intro", "the directive {literalinclude} ('{literalinclude} /etc/hostname')"),
    ("eval-rst with a script",
     "data: |\n  ```{eval-rst}\n  .. raw:: html\n\n     <script>alert(1)</script>\n  ```\nsections: []\n",
     3, "data", "the directive {eval-rst} ('.. raw:: html <script>alert(1)</script>')"),
    ("raw directive", "citation: |\n  ```{raw} html\n  <b>x</b>\n  ```\nsections: []\n",
     3, "citation", "the directive {raw} ('<b>x</b>')"),
    ("colon fence", "question: |\n  :::{include} /etc/passwd\n  :::\nsections: []\n",
     3, "question", "the directive ':::{include} /etc/passwd' ('{include} /etc/passwd')"),
    ("iframe srcdoc", "citation: '<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>'\nsections: []\n",
     3, "citation", "raw HTML ('<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>')"),
    ("raw script in question", "question: 'Pain? <script>alert(1)</script>'\nsections: []\n",
     3, "question", "raw HTML ('<script>')"),
    ("another role", "question: 'see {download}`/etc/passwd`'\nsections: []\n",
     3, "question", "the role {download} ('/etc/passwd')"),
    ("a ref that is no label", "question: 'see {ref}`../x`'\nsections: []\n",
     3, "question", "{ref}`../x` (not a label or value of the book)"),
    ("glue of a file outside the book", "question: 'n = {glue:text}`../../etc/passwd::x`'\nsections: []\n",
     3, "question", "{glue:text}`../../etc/passwd::x` (not a label or value of the book)"),
    ("a substitution", "question: 'see {{ title }}'\nsections: []\n", 3, "question", "a substitution ('title')"),
    ("a target", "question: |\n  (x)=\n  text\nsections: []\n", 3, "question", "a target ('x')"),
    ("a link to a local file", "question: '[x](/etc/passwd)'\nsections: []\n",
     3, "question", "a link to '/etc/passwd' (not an http(s) address or a DOI)"),
    ("a link definition to a local file", "question: |\n  [x]\n\n  [x]: /etc/passwd\nsections: []\n",
     3, "question", "a link to '/etc/passwd' (not an http(s) address or a DOI)"),
    ("a mailto link", "question: '[x](mailto:a@example.org)'\nsections: []\n",
     3, "question", "a link to 'mailto:a@example.org' (not an http(s) address or a DOI)"),
    ("an image", "question: '![x](/etc/passwd)'\nsections: []\n", 3, "question", "an image ('x')"),
    ("a folded directive is code, refused too", "question: >-\n  ```{include} /etc/passwd\n  ```\nsections: []\n",
     3, "question", "code ('{include} /etc/passwd')"),
    ("math", "question: 'costs $x$'\nsections: []\n", 3, "question", "math ('x')"),
    ("a heading", "question: |\n  # Big\nsections: []\n", 3, "question", "a heading ('#')"),
    ("an outcome rule's source",
     "outcomes:\n  - outcome: pain\n    better: lower\n    direction_source: '<img src=x onerror=alert(1)>'\n"
     "sections: []\n", 6, "outcomes[0].direction_source", "raw HTML ('<img src=x onerror=alert(1)>')"),
    ("a summary of findings header",
     "summary_of_findings:\n  - comparison: 1\n    setting: |\n      ```{include} /etc/passwd\n      ```\n"
     "sections: []\n", 5, "summary_of_findings[0].setting", "the directive {include} ('{include} /etc/passwd')"),
]


@pytest.mark.parametrize("what, text, line, key, found", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_markup_in_a_prose_field_is_refused_with_field_and_line(tmp_path, what, text, line, key, found):
    assert _refused(tmp_path, HEAD + text) == f"review.yml, line {line}, column '{key}': found {found}; expected {ALLOWED}"


def test_the_whitelist_keeps_what_the_books_own_review_file_uses(tmp_path):
    """book/review.yml (emphasis, {ref}, {glue:text}) and an http(s) link are accepted."""
    review = rv.load(ROOT / "book" / "review.yml")
    assert "{glue:text}`sections/study_flow.ipynb::n_comparisons:s`" in review.data
    assert "*Cochrane Database of" in review.citation
    ok = _review(tmp_path, HEAD + "question: |\n  A *b* **c** [d](https://doi.org/10.1002/x) <https://example.org/a>\n"
                 "  {ref}`sec-methods`, {ref}`the methods <sec-methods>`, {glue}`n_studies`.\n\n"
                 "  A second paragraph.\nsections: []\n")
    assert rv.load(ok).question.startswith("A *b*")
    # markdown-it makes no link of a javascript: target: the text stays text
    assert prose.refusal("[x](javascript:alert(1))") is None
    assert prose._parser().render("[x](javascript:alert(1))") == "<p>[x](javascript:alert(1))</p>\n"


def test_titles_are_text_not_prose(tmp_path):
    """Titles are always escaped where shown (issue #17), so markup in them is kept as text."""
    r = rv.load(_review(tmp_path, HEAD.replace("title: T", "title: '<b>x</b>'")
                        + "sections:\n  - key: a\n    title: '<i>y</i>'\n"))
    assert r.title == "<b>x</b>" and r.sections[0].title == "<i>y</i>"


def test_every_refusal_is_reported_at_once(tmp_path):
    with pytest.raises(InputError) as exc:
        rv.load(_review(tmp_path, HEAD + "question: '<b>x</b>'\ndata: '{eval-rst}`x`'\nsections: []\n"))
    assert [(p.line, p.column) for p in exc.value.problems] == [(3, "question"), (4, "data")]


def test_book_refuses_the_review_file_with_exit_2(tmp_path):
    """Through the command line: exit 2, located, nothing built."""
    review = _review(tmp_path, "package: 921923100913455418\ntitle: T\nquestion: '<script>alert(1)</script>'\nsections: []\n")
    res = subprocess.run([sys.executable, "-m", "reviewbook", "book", "--data", FIX / "Fleiss1993.zip",
                          "--review", review], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT / "src")), cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert res.stderr.splitlines()[0] == (f"error: review.yml, line 3, column 'question': found raw HTML "
                                          f"('<script>alert(1)</script>'); expected {ALLOWED}")
    assert "Traceback" not in res.stderr


# ------------------------------------------------------------------ files it names

@pytest.mark.parametrize("key", ["published", "independent_map"])
def test_a_named_pipe_device_or_folder_is_refused_and_never_read(tmp_path, key):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    (tmp_path / "folder.csv").mkdir()
    cases = [(fifo, "a named pipe"), (Path("/dev/zero"), "a character device"),
             (tmp_path / "folder.csv", "a folder"), (tmp_path / "none.csv", "no such file")]
    for target, found in cases:
        text = HEAD + f"{key}: {target}\nsections: []\n"
        with no_hang():  # never opened, never read (it would block or grow without end)
            msg = _refused(tmp_path, text)
        assert msg == (f"review.yml, line 3, column '{key}': found {found} ('{target}'); expected a regular CSV "
                       "file of at most 64 MiB"), msg
    assert len(cases) == 4


def test_book_with_a_fifo_or_dev_zero_as_published_never_hangs(tmp_path):
    """The issue's attack through the command line, in a process with a timeout: exit 2 at once."""
    fifo = tmp_path / "published.csv"
    os.mkfifo(fifo)
    for target in (fifo, "/dev/zero"):
        review = _review(tmp_path, f"package: 921923100913455418\ntitle: T\npublished: {target}\nsections: []\n")
        res = subprocess.run([sys.executable, "-m", "reviewbook", "book", "--data", FIX / "Fleiss1993.zip",
                              "--review", review], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, PYTHONPATH=str(ROOT / "src")), cwd=tmp_path)
        assert res.returncode == 2 and "column 'published': found a" in res.stderr, res.stderr


def test_a_named_file_larger_than_the_bound_is_refused(tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(rv.MAX_NAMED_FILE_BYTES + 1)  # sparse: no disk used
    msg = _refused(tmp_path, HEAD + f"published: {big}\nsections: []\n")
    assert msg == (f"review.yml, line 3, column 'published': found a file of 64 MiB ('{big}'); expected a regular "
                   "CSV file of at most 64 MiB")


def test_independent_must_be_a_folder(tmp_path):
    (tmp_path / "f.csv").write_text("x")
    assert _refused(tmp_path, HEAD + "independent: f.csv\nsections: []\n") == (
        "review.yml, line 3, column 'independent': found no folder ('f.csv'); expected the folder of a data package")


# ------------------------------------------------------------------ patterns run in linear time

def test_a_catastrophic_pattern_runs_in_linear_time(tmp_path):
    """'(.*)*Z' takes exponential time in Python's re on a name without Z; RE2 is linear."""
    r = rv.load(_review(tmp_path, HEAD + "sections:\n  - key: a\n    title: A\n    outcome: '(.*)*Z'\n"
                        "primary_outcome: '(a|aa)*b'\n"))
    name = "a" * 200_000
    with no_hang():  # Python's re would not finish on these (how fast RE2 is: benchmarks/hostile.py)
        assert not r.sections[0].matches(1, "g", name)
        assert not patterns.search(r.primary_outcome, name)
        assert r.sections[0].matches(1, "g", name + "z")  # case-insensitive, as before


@pytest.mark.parametrize("text, line, key, why", [
    ("sections:\n  - key: a\n    title: A\n    outcome: '(a)\\1'\n", 6, "sections[0].outcome",
     "invalid escape sequence: \\1"),
    ("sections:\n  - key: a\n    title: A\n    group: '(?=x)y'\n", 6, "sections[0].group",
     "invalid perl operator: (?="),
    ("primary_outcome: '(unclosed'\nsections: []\n", 3, "primary_outcome", "missing ): (unclosed"),
    ("outcomes:\n  - outcome: 'a(?!b)'\n    better: lower\n    direction_source: s\nsections: []\n", 4,
     "outcomes[0].outcome", "invalid perl operator: (?!"),
    ("subgroups:\n  - pattern: '(x)\\1'\n    prespecified: true\n    source: s\nsections: []\n", 4,
     "subgroups[0].pattern", "invalid escape sequence: \\1"),
])
def test_a_pattern_re2_cannot_run_is_refused_located(tmp_path, text, line, key, why):
    msg = _refused(tmp_path, HEAD + text)
    assert re.fullmatch(rf"review\.yml, line {line}, column '{re.escape(key)}': found .*; expected a regular "
                        rf"expression RE2 can run \({re.escape(why)}; RE2 syntax: no back-references or "
                        r"look-around\)", msg), msg


def test_an_overlong_pattern_is_refused(tmp_path):
    msg = _refused(tmp_path, HEAD + "sections:\n  - key: a\n    title: A\n    outcome: '" + "a" * 1001 + "'\n")
    assert msg.endswith(f"expected a regular expression RE2 can run (a pattern of 1,001 characters (at most "
                        f"{patterns.MAX_PATTERN_CHARS:,}))")


def test_the_books_patterns_claim_the_same_analyses_as_before():
    """Every pattern of book/review.yml gives under RE2 what Python's re gives, on every analysis name
    of the embedded package (95 analyses)."""
    from reviewbook.package import datapackage as dp

    pkg = dp.read(ROOT / "data" / "CD015373")
    review = rv.load(ROOT / "book" / "review.yml")
    pats = [r.outcome for r in review.sections if r.outcome] + [review.primary_outcome] + \
        [o.outcome for o in review.appraisal.outcomes if o.outcome]
    checked = 0
    for aid in pkg.analysis_ids():
        name = pkg.analysis(aid).name
        for p in pats:
            assert patterns.search(p, name) == bool(re.search(p, name, re.I)), (p, name)
            checked += 1
    assert checked == len(pkg.analysis_ids()) * len(pats) and len(pkg.analysis_ids()) == 95


# ------------------------------------------------------------------ --previous: every entry it compares

def test_previous_results_with_an_entry_lacking_estimate_is_located(tmp_path):
    """Was "unexpected KeyError" (issue #23): each computed entry must carry estimate, ci_low and ci_high."""
    import json

    from reviewbook.book import runner

    good = {"status": "computed", "measure": "RR", "estimate": 1.2, "ci_low": 1.0, "ci_high": 1.5, "studies": ["A"]}
    bad = {k: v for k, v in good.items() if k != "estimate"}
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"package": "FLEISS", "analyses": {"1.1": good, "1.2": bad,
                                                                 "1.3": dict(good, ci_high="x"),
                                                                 "1.4": dict(good, studies="A")}}, indent=2))
    with pytest.raises(InputError) as exc:
        runner.load_previous(old)
    assert [str(p) for p in exc.value.problems] == [
        "old.json, line 14, column 'analyses.1.2.estimate': found no value; expected a finite number (a computed "
        "entry of results.json)",
        "old.json, line 23, column 'analyses.1.3.ci_high': found 'x'; expected a finite number (a computed entry of "
        "results.json)",
        "old.json, line 33, column 'analyses.1.4.studies': found 'A'; expected a list of study names"]
    res = subprocess.run([sys.executable, "-m", "reviewbook", "book", "--data", FIX / "Fleiss1993.zip",
                          "--previous", old], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT / "src")), cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "unexpected" not in res.stderr
    assert res.stderr.startswith("error: old.json, line 14, column 'analyses.1.2.estimate': found no value")


def test_doi_links_become_doi_org_links(tmp_path):
    r = rv.load(_review(tmp_path, HEAD + "question: 'see [the review](doi:10.1002/14651858.CD015373.pub2) and "
                        "<doi:10.1000/xyz>'\nsections: []\n"))
    assert r.question == ("see [the review](https://doi.org/10.1002/14651858.CD015373.pub2) and "
                          "[doi:10.1000/xyz](https://doi.org/10.1000/xyz)")
    assert _refused(tmp_path, HEAD + "question: '[x](doi:../../etc/passwd)'\nsections: []\n").startswith(
        "review.yml, line 3, column 'question': found a link to 'doi:../../etc/passwd' (not an http(s) address "
        "or a DOI)")


def test_prose_is_bounded_in_length(tmp_path):
    """Markdown parsing takes time that grows faster than the length on runs of '_' (32,000 of them took
    9 s when measured): one field is at most 5,000 characters, a file's prose at most 50,000."""
    assert (rv.MAX_PROSE_CHARS, rv.MAX_PROSE_TOTAL) == (5_000, 50_000)
    with no_hang():
        msg = _refused(tmp_path, HEAD + "question: '" + "_a_" * 100_000 + "'\nsections: []\n")
    assert msg == ("review.yml, line 3, column 'question': found a text of 300,000 characters; expected at most "
                   "5,000 characters")
    many = "".join(f"  - key: s{i}\n    title: S\n    intro: '{'_a_' * 1600}'\n" for i in range(12))
    with no_hang(), pytest.raises(InputError) as exc:
        rv.load(_review(tmp_path, HEAD + "sections:\n" + many))
    assert [str(p) for p in exc.value.problems] == [
        "review.yml, line 36, column 'sections[10].intro': found more than 50,000 characters of text in all; "
        "expected a review file of at most 50,000 characters of text"]
