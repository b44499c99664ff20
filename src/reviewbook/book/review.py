"""The review file: everything on a page that is specific to one review.

``book/review.yml`` holds, for CD015373, the title, question, population,
interventions, the prose about where the data came from, the section rules
and the paths of the published estimates and of a second extraction.  It is
used only with the package it names (``package:``):

* built from that package, the book is about that review;
* built from any other package (``make book DATA=...``), the default review
  file is set aside and :func:`generic` takes what it can from the package:
  the review id, the comparisons (analysis groups), outcomes and studies, with
  one page per comparison and a harms page where adverse-event analyses exist;
* a review file given explicitly (``--review``, ``make book REVIEW=...``) that
  names another package is an error (exit 2), never silently ignored.

Section rules are tried in order and the first whose patterns all match an
analysis claims it: ``groups`` (analysis group numbers), ``group`` (regular
expression on the comparison name), ``outcome`` (regular expression on the
analysis name).  Analyses no rule claims go to "Other analyses".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..appraisal import config as ac
from ..errors import InputError, Problem
from ..package.outcomes import parse_rules
from ..package.patterns import check as check_pattern
from ..package.patterns import search as search_pattern
from ..views.tables import escape

from .folders import REVIEW_FILE
#: Outcome names that mark an adverse-event analysis in a package without a review file.
HARMS_PATTERN = (r"adverse|side[- ]?effect|\bharm|withdraw|toleran|serious|safety|complication|nausea|vomit|"
                 r"dizz|headache|sedation|drows|hallucinat")
KINDS = ("analyses", "harms")


@dataclass(frozen=True)
class SectionRule:
    key: str
    title: str
    kind: str = "analyses"  # analyses (forest plots, sensitivity) or harms (absolute effects)
    groups: tuple | None = None
    group: str | None = None
    outcome: str | None = None
    intro: str = ""

    def matches(self, group_number: int, group_name: str, name: str) -> bool:
        if self.groups is not None and group_number not in self.groups:
            return False
        if self.group and not search_pattern(self.group, group_name):
            return False
        if self.outcome and not search_pattern(self.outcome, name):
            return False
        return True


@dataclass(frozen=True)
class Review:
    """A review file, or the generic description of a package without one."""

    package: str
    title: str
    short_title: str
    citation: str
    question: str
    data: str
    sections: tuple
    path: Path | None = None
    population: str = ""
    interventions: str = ""
    comparators: str = ""
    published: Path | None = None
    independent: Path | None = None
    independent_map: Path | None = None
    primary_outcome: str | None = None
    generic: bool = False
    extra: dict = field(default_factory=dict)
    #: what the judgements need besides the data (outcome rules, indirectness, ...)
    appraisal: ac.Config = field(default_factory=ac.Config)
    #: the main comparisons and their critical outcomes (summary of findings, key findings)
    summary: tuple = ()

    def rule(self, key: str) -> SectionRule:
        for r in self.sections:
            if r.key == key:
                return r
        if key == "other_analyses":
            return SectionRule("other_analyses", "Other analyses", intro=OTHER_INTRO)
        raise KeyError(f"no section {key!r}; the sections are {', '.join(r.key for r in self.sections)}")


OTHER_INTRO = "Analyses of the package that no section rule claims, so that none is left out."


@dataclass(frozen=True)
class SofSpec:
    """One main comparison of the review file's ``summary_of_findings`` list: its
    comparison (analysis group) number, the header of its table (population,
    setting, intervention, comparison) and its critical outcomes (analysis ids,
    at most seven, in order of importance); ``key``: the outcomes the landing
    page shows; ``limits``: one line on what the evidence cannot say."""

    group: int
    title: str = ""
    population: str = ""
    setting: str = ""
    intervention: str = ""
    comparison: str = ""
    outcomes: tuple = ()
    key: tuple = ()
    limits: str = ""


def _text(v) -> str:
    return "" if v is None else str(v).strip()


def _appraisal_config(cfg: dict, path: Path, problems: list) -> ac.Config:
    """The appraisal layer's :class:`~reviewbook.appraisal.config.Config` from the
    review file's keys ``outcomes``, ``appraisal``, ``indirectness``,
    ``missing_evidence``, ``subgroups`` and ``assumed_risks``."""
    name = path.name
    try:
        rules = parse_rules(cfg.get("outcomes"), name)
    except InputError as exc:
        problems.extend(exc.problems)
        rules = ()
    numbers = {}
    a = cfg.get("appraisal") or {}
    if not isinstance(a, dict):
        problems.append(_problem(path, "appraisal", repr(a)[:60], "a mapping (alpha, power, rrr, smd_mid)"))
        a = {}
    for key, default, lo, hi in (("alpha", ac.ALPHA, 0, 0.5), ("power", ac.POWER, 0.5, 1), ("rrr", ac.RRR, 0, 1),
                                 ("smd_mid", ac.SMD_MID, 0, 5)):
        v = a.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo < v < hi:
            problems.append(_problem(path, f"appraisal.{key}", repr(v), f"a number in ({lo}, {hi})"))
            v = default
        numbers[key] = float(v)
    ind = cfg.get("indirectness")
    indirectness = ac.Indirectness()
    if ind is not None:
        if not isinstance(ind, dict) or "basis" not in ind or "source" not in ind:
            problems.append(_problem(path, "indirectness", repr(ind)[:60],
                                     "a mapping with basis, source and optionally studies"))
        else:
            studies = []
            for i, st in enumerate(ind.get("studies") or []):
                if not isinstance(st, dict) or not all(_text(st.get(k)) for k in ("study", "domain", "reason",
                                                                                   "source")):
                    problems.append(_problem(path, f"indirectness.studies[{i}]", repr(st)[:60],
                                             "study, domain, reason and source"))
                    continue
                if st.get("outcome") is not None and check_pattern(st["outcome"]):
                    problems.append(_problem(path, f"indirectness.studies[{i}].outcome", repr(st["outcome"])[:80],
                                             f"a regular expression RE2 can run ({check_pattern(st['outcome'])})"))
                    continue
                studies.append(ac.StudyIndirectness(_text(st["study"]), _text(st["domain"]), _text(st["reason"]),
                                                    _text(st["source"]), st.get("outcome")))
            indirectness = ac.Indirectness(True, _text(ind["basis"]), _text(ind["source"]), tuple(studies))
    missing = []
    for i, m in enumerate(cfg.get("missing_evidence") or []):
        n = m.get("studies_without_data") if isinstance(m, dict) else None
        if not isinstance(n, int) or n < 0 or not _text(m.get("source")) or not (m.get("analyses") or m.get("outcome")):
            problems.append(_problem(path, f"missing_evidence[{i}]", repr(m)[:60],
                                     "studies_without_data (a whole number), source, and analyses or outcome"))
            continue
        if m.get("outcome") and check_pattern(m["outcome"]):
            problems.append(_problem(path, f"missing_evidence[{i}].outcome", repr(m["outcome"])[:80],
                                     f"a regular expression RE2 can run ({check_pattern(m['outcome'])})"))
            continue
        missing.append(ac.MissingEvidence(n, _text(m["source"]),
                                          tuple(str(x) for x in m["analyses"]) if m.get("analyses") else None,
                                          m.get("outcome")))
    pre = []
    for i, m in enumerate(cfg.get("subgroups") or []):
        if not isinstance(m, dict) or not _text(m.get("pattern")) or not isinstance(m.get("prespecified"), bool) \
                or not _text(m.get("source")):
            problems.append(_problem(path, f"subgroups[{i}]", repr(m)[:60], "pattern, prespecified (true or false) and "
                                                                            "source"))
            continue
        if check_pattern(m["pattern"]):
            problems.append(_problem(path, f"subgroups[{i}].pattern", repr(m["pattern"])[:80],
                                     f"a regular expression RE2 can run ({check_pattern(m['pattern'])})"))
            continue
        pre.append(ac.Prespecified(_text(m["pattern"]), m["prespecified"], _text(m["source"])))
    risks = []
    for i, m in enumerate(cfg.get("assumed_risks") or []):
        r = m.get("risk") if isinstance(m, dict) else None
        if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0 <= r <= 1 or not _text(m.get("outcome")) \
                or not _text(m.get("source")):
            problems.append(_problem(path, f"assumed_risks[{i}]", repr(m)[:60], "outcome, risk (0 to 1) and source"))
            continue
        if check_pattern(m["outcome"]):
            problems.append(_problem(path, f"assumed_risks[{i}].outcome", repr(m["outcome"])[:80],
                                     f"a regular expression RE2 can run ({check_pattern(m['outcome'])})"))
            continue
        risks.append(ac.AssumedRisk(_text(m["outcome"]), float(r), _text(m["source"])))
    return ac.Config(outcomes=rules, indirectness=indirectness, missing_evidence=tuple(missing),
                     prespecified=tuple(pre), assumed_risks=tuple(risks), **numbers)


def _summary(cfg: dict, path: Path, problems: list) -> tuple:
    out = []
    for i, m in enumerate(cfg.get("summary_of_findings") or []):
        where = f"summary_of_findings[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("comparison"), int):
            problems.append(_problem(path, where, repr(m)[:60], "a mapping with comparison (a number) and outcomes"))
            continue
        outs = m.get("outcomes") or []
        if not isinstance(outs, list) or not all(re.fullmatch(r"\d+\.\d+", str(x)) for x in outs) or len(outs) > 7:
            problems.append(_problem(path, f"{where}.outcomes", repr(outs)[:60],
                                     "at most seven analysis ids (a summary of findings has at most seven outcomes)"))
            outs = []
        key = m.get("key") or []
        if not isinstance(key, list) or not all(str(x) in map(str, outs) for x in key):
            problems.append(_problem(path, f"{where}.key", repr(key)[:60], "analysis ids from its outcomes"))
            key = []
        out.append(SofSpec(m["comparison"], _text(m.get("title")), _text(m.get("population")),
                           _text(m.get("setting")), _text(m.get("intervention")), _text(m.get("comparison_text")),
                           tuple(str(x) for x in outs), tuple(str(x) for x in key), _text(m.get("limits"))))
    return tuple(out)


def _problem(path, key, found, expected):
    return Problem(Path(path).name, None, key, found, expected)


#: Keys of a review file that name a file (a CSV file beside the review file).
FILE_KEYS = ("published", "independent_map")
#: Largest file a review file may name, in bytes (a package file's bound).
MAX_NAMED_FILE_BYTES = 64 * 2 ** 20
#: Longest text of one prose field, in characters (book/review.yml's longest is about 900): Markdown
#: parsers take time that grows faster than the length on some texts (runs of '_' or '*').
MAX_PROSE_CHARS = 5_000
#: Most characters of prose in one review file (book/review.yml has about 7,000).
MAX_PROSE_TOTAL = 50_000
#: Keys of a review file whose value is text.
TEXT_KEYS = ("package", "title", "short_title", "citation", "question", "data", "population", "interventions",
             "comparators", "published", "independent", "independent_map", "primary_outcome", "pain_outcome",
             "follow_up", "data_licence")
#: Largest review file read, in bytes (book/review.yml is about 6 KB).
MAX_REVIEW_BYTES = 1024 ** 2
#: Most YAML nodes a review file may stand for once its aliases are expanded.
MAX_REVIEW_NODES = 100_000


def _kind(value) -> str:
    """A YAML value's kind, in words."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


def _expanded_nodes(root) -> int | None:
    """How many nodes the YAML node graph ``root`` stands for with every alias
    expanded (counted once per node, so a "billion laughs" file is measured, not
    expanded); None for a recursive alias."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            continue
        if key in sizes:
            continue
        if key in active:
            return None
        active.add(key)
        stack.append((node, True))
        for c in _children(node):
            if id(c) in active:
                return None
            if id(c) not in sizes:
                stack.append((c, False))
    return sizes[id(root)]


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    return []


def _scalar_lines(root) -> dict:
    """The line (1-based) of every value of the YAML node graph ``root``, by its
    key path as the messages name it (``sections[0].intro``)."""
    out = {}
    stack = [(root, "")]
    while stack:
        node, where = stack.pop()
        out.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
                stack.append((v, f"{where}.{key}" if where else key))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                stack.append((v, f"{where}[{i}]"))
    return out


def _parse_yaml(text: str, name: str):
    """``yaml.safe_load`` of ``text`` with the expansion of aliases bounded:
    the node graph is composed first (aliases are shared, not copied), its
    expanded size is counted, and only a file within :data:`MAX_REVIEW_NODES`
    is constructed."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        size = _expanded_nodes(node)
        if size is None:
            mark = node.start_mark
            raise InputError([Problem(name, mark.line + 1, None, "a recursive alias (an anchor used inside itself)",
                                      "a review file without recursive aliases")])
        if size > MAX_REVIEW_NODES:
            raise InputError([Problem(name, None, None, f"aliases that expand to more than {MAX_REVIEW_NODES:,} "
                                      "values", "a review file of reasonable size (YAML aliases are expanded)")])
        return loader.construct_document(node), _scalar_lines(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError([Problem(name, None if mark is None else mark.line + 1, None,
                                  f"text that is not YAML ({getattr(exc, 'problem', None) or exc})",
                                  "a YAML review file")]) from None
    except RecursionError:
        raise InputError([Problem(name, None, None, "values nested too deeply to read",
                                  "a review file of keys, text and lists")]) from None
    finally:
        loader.dispose()


class OtherPackage(InputError):
    """The review file names another package than the one being built."""


def load(path, package: str | None = None) -> Review:
    """Read and check a review file; :class:`InputError` names the key that is wrong.

    The file must be a regular UTF-8 file of at most :data:`MAX_REVIEW_BYTES`
    (a folder, pipe or device is refused before it is opened), YAML whose
    aliases expand to at most :data:`MAX_REVIEW_NODES` values, with text (not
    lists or mappings) where text is expected.  It is data, never markup: its
    prose keeps to the whitelist of :mod:`.prose`, every file it names is a
    regular file of at most :data:`MAX_NAMED_FILE_BYTES`, and its patterns are
    compiled by RE2 (:mod:`reviewbook.package.patterns`, linear time).  Every
    problem names the key and its line in the file.  ``package`` given: a file
    naming another package is refused at once (:class:`OtherPackage`), before
    the files it names are looked at.
    """
    from ..package.tabular import decode, read_bytes

    path = Path(path)
    data = read_bytes(path, "a review file (YAML), e.g. book/review.yml", limit=MAX_REVIEW_BYTES)
    cfg, lines = _parse_yaml(decode(data, path.name, "a UTF-8 review file (YAML)"), path.name)
    if not isinstance(cfg, dict):
        raise InputError([_problem(path, None, "no mapping at the top", "keys package, title, sections, ...")])
    if package is not None and "package" in cfg and str(cfg["package"]) != package:
        # for another package: nothing else of it matters (its files are not looked at)
        raise OtherPackage([Problem(path.name, None, "package", f"'{cfg['package']}'",
                                    f"the id of the package being built, '{package}' (a review file is used "
                                    "only with the package it names)")])
    cfg = _doi_links(cfg)
    try:
        review = _load(cfg, path)
    except InputError as exc:
        raise InputError([_locate(p, lines) for p in exc.problems]) from None
    problems = [_locate(p, lines) for p in _prose_problems(cfg, path) + _file_problems(cfg, path)]
    if problems:
        raise InputError(problems)
    return review


def _locate(p: Problem, lines: dict) -> Problem:
    """``p`` with the line of its key in the YAML file, where it names one."""
    if p.line is None and p.column and p.column in lines:
        from dataclasses import replace

        return replace(p, line=lines[p.column])
    return p


#: Keys whose text is not prose: patterns, paths, ids and keywords (each checked as what it is),
#: and titles, which are always shown as text (escaped).
NOT_PROSE = {"outcome", "group", "pattern", "primary_outcome", "pain_outcome", "published", "independent",
             "independent_map", "package", "key", "kind", "better"}
ESCAPED = {"title", "short_title", "sections[].title"}


def _is_prose(where: str) -> bool:
    last = re.split(r"[.\[]", where)[-1]
    return last not in NOT_PROSE and re.sub(r"\[\d+\]", "[]", where) not in ESCAPED


def _doi_links(value, where=""):
    """``value`` with the DOI links of its prose made https://doi.org links."""
    from .prose import with_doi_links

    if isinstance(value, dict):
        return {k: _doi_links(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_doi_links(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str) and _is_prose(where):
        return with_doi_links(value)
    return value


def _strings(value, where=""):
    """Every text of a YAML value, with its key path (``sections[0].intro``)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]")
    elif isinstance(value, str):
        yield where, value


def _prose_problems(cfg: dict, path: Path) -> list:
    """Every text of the review file that is shown as Markdown must keep to the
    whitelist of :mod:`.prose` (directives, raw HTML, other roles ... refused)."""
    from .prose import ALLOWED, refusal

    out = []
    total = 0
    for where, text in _strings(cfg):
        if not _is_prose(where):
            continue
        total += len(text)
        if len(text) > MAX_PROSE_CHARS:
            out.append(_problem(path, where, f"a text of {len(text):,} characters",
                                f"at most {MAX_PROSE_CHARS:,} characters"))
            continue
        if total > MAX_PROSE_TOTAL:
            out.append(_problem(path, where, f"more than {MAX_PROSE_TOTAL:,} characters of text in all",
                                f"a review file of at most {MAX_PROSE_TOTAL:,} characters of text"))
            break
        why = refusal(text)
        if why:
            out.append(_problem(path, where, why, ALLOWED))
    return out


def _file_problems(cfg: dict, path: Path) -> list:
    """Every file the review file names must be a regular file within the size
    bound of a package file (a folder, pipe, socket or device is refused before it
    is opened; :func:`~reviewbook.package.tabular.read_bytes`); ``independent`` must
    be a folder (a package)."""
    from ..package.tabular import read_bytes

    out = []
    for key in FILE_KEYS:
        v = cfg.get(key)
        if not v:
            continue
        target = path.parent / str(v)
        try:
            read_bytes(target, "a CSV file", limit=MAX_NAMED_FILE_BYTES)
        except InputError as exc:
            found = exc.problems[0].found if exc.problems else "a file that cannot be read"
            out.append(_problem(path, key, f"{found} ('{v}')", f"a regular CSV file of at most "
                                                                f"{MAX_NAMED_FILE_BYTES // 2 ** 20} MiB"))
    v = cfg.get("independent")
    if v and not (path.parent / str(v)).is_dir():
        out.append(_problem(path, "independent", f"no folder ('{v}')", "the folder of a data package"))
    return out


def _load(cfg: dict, path: Path) -> Review:
    problems = [_problem(path, k, "no such key", f"a key '{k}'") for k in ("package", "title", "sections")
                if k not in cfg]
    for k in TEXT_KEYS:
        if cfg.get(k) is not None and not isinstance(cfg[k], (str, int, float)):
            problems.append(_problem(path, k, f"{_kind(cfg[k])} ({repr(cfg[k])[:40]})", "text"))
    if cfg.get("mcid") is not None and (isinstance(cfg["mcid"], bool) or not isinstance(cfg["mcid"], (int, float))):
        problems.append(_problem(path, "mcid", repr(cfg["mcid"])[:40], "a number"))
    for k in ("primary_outcome", "pain_outcome"):
        if isinstance(cfg.get(k), str):
            why = check_pattern(cfg[k])
            if why:
                problems.append(_problem(path, k, repr(cfg[k])[:80], f"a regular expression RE2 can run ({why})"))
    if cfg.get("sections") is not None and not isinstance(cfg["sections"], list):
        problems.append(_problem(path, "sections", f"{_kind(cfg['sections'])} ({repr(cfg['sections'])[:40]})",
                                 "a list of section rules"))
    if problems:
        raise InputError(problems)
    rules = []
    seen = set()
    for i, s in enumerate(cfg["sections"] or []):
        where = f"sections[{i}]"
        if not isinstance(s, dict) or "key" not in s or "title" not in s:
            problems.append(_problem(path, where, repr(s)[:60], "a mapping with key and title"))
            continue
        bad = [k for k in ("title", "intro", "group", "outcome")
               if s.get(k) is not None and not isinstance(s[k], (str, int, float))]
        for k in bad:
            problems.append(_problem(path, f"{where}.{k}", f"{_kind(s[k])} ({repr(s[k])[:40]})", "text"))
        if bad:
            continue
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(s["key"])) or s["key"] in seen or s["key"] == "other_analyses":
            problems.append(_problem(path, f"{where}.key", repr(s["key"]),
                                     "a new snake_case key (not 'other_analyses')"))
        seen.add(s["key"])
        kind = s.get("kind", "analyses")
        if kind not in KINDS:
            problems.append(_problem(path, f"{where}.kind", repr(kind), "one of " + ", ".join(KINDS)))
        for k in ("group", "outcome"):
            if s.get(k):
                why = check_pattern(s[k])
                if why:
                    problems.append(_problem(path, f"{where}.{k}", repr(s[k])[:80],
                                             f"a regular expression RE2 can run ({why})"))
        groups = s.get("groups")
        if groups is not None and not (isinstance(groups, list) and all(isinstance(g, int) for g in groups)):
            problems.append(_problem(path, f"{where}.groups", repr(groups), "a list of analysis group numbers"))
            groups = None
        rules.append(SectionRule(str(s["key"]), str(s["title"]), kind, tuple(groups) if groups is not None else None,
                                 s.get("group"), s.get("outcome"), str(s.get("intro", "")).strip()))
    appraisal = _appraisal_config(cfg, path, problems)
    summary = _summary(cfg, path, problems)
    if problems:
        raise InputError(problems)

    def rel(key):
        v = cfg.get(key)
        return (path.parent / v).resolve() if v else None

    return Review(package=str(cfg["package"]), title=str(cfg["title"]),
                  short_title=str(cfg.get("short_title", cfg["title"])), citation=str(cfg.get("citation", "")).strip(),
                  question=str(cfg.get("question", "")).strip(), data=str(cfg.get("data", "")).strip(),
                  sections=tuple(rules), path=path, population=str(cfg.get("population", "")),
                  interventions=str(cfg.get("interventions", "")), comparators=str(cfg.get("comparators", "")),
                  published=rel("published"), independent=rel("independent"),
                  independent_map=rel("independent_map"), primary_outcome=cfg.get("primary_outcome"),
                  appraisal=appraisal, summary=summary,
                  extra={k: str(cfg.get(k) or "").strip() for k in ("follow_up", "data_licence")})


def comparison_title(pkg, group) -> str:
    """A title for a comparison (analysis group) the package gives no name: its
    arms as its first analysis labels them ('Comparison 3: aspirin versus
    placebo'), or, where those are RevMan's defaults, the name of its first
    analysis."""
    from ..appraisal.direction import group_names

    ids = [a for a in pkg.analysis_ids() if a.split(".")[0] == str(group)]
    if not ids:
        return f"Comparison {group}"
    s = pkg.analysis(ids[0])
    exp, ctl = group_names(s)
    if (exp, ctl) != ("experimental", "control"):
        return f"Comparison {group}: {exp} versus {ctl}"
    return f"Comparison {group}: {s.name}" if s.name else f"Comparison {group}"


def review_identity(pkg) -> dict:
    """The review a package is from, as its ``review.csv`` gives it (``review_doi``,
    ``review_url``; written by ``import-rows`` from rows that carry them), each
    value checked again here: only a well-formed DOI or http(s) address is kept."""
    from ..package.rows import REVIEW_COLUMNS

    frame = pkg.extra.get("review.csv")
    out = {}
    if frame is None or "field" not in frame.columns or "value" not in frame.columns:
        return out
    for field_, value in zip(frame["field"], frame["value"]):
        field_, value = str(field_).strip(), str(value).strip()
        rule = REVIEW_COLUMNS.get(field_)
        if rule and rule[0].fullmatch(value) and field_ not in out:
            out[field_] = value
    return out


_DOI_TEXT = re.compile(r"(?<![\w/\[<])(doi:\s?)(10\.\d{4,9}/[^\s<>\[\]()`\\|]+)", re.I)


def doi_links(markdown: str) -> str:
    """``markdown`` (a review file's citation) with each plain 'doi:10.…' made a link to
    https://doi.org/10.… (a DOI already inside a link or address is left as it is)."""
    def link(m):
        doi = m.group(2).rstrip(".,;:")
        rest = m.group(2)[len(doi):]
        return f"{m.group(1)}[{escape(doi)}](<https://doi.org/{doi}>){rest}"
    return _DOI_TEXT.sub(link, str(markdown or ""))


def cited_by_doi(pkg) -> str:
    """A citation of the review by its DOI (Markdown), or "" where the package
    names no review."""
    ident = review_identity(pkg)
    doi = ident.get("review_doi")
    if doi:
        return f"doi:[{escape(doi)}](<https://doi.org/{doi}>)"
    url = ident.get("review_url")
    return f"[{escape(url)}](<{url}>)" if url else ""


def generic(pkg) -> Review:
    """What the book can say about a package that has no review file: its id,
    one page per comparison (analysis group) and a harms page where adverse-event
    analyses exist."""
    groups = {}
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        g = int(aid.split(".")[0])
        groups.setdefault(g, s.group_name)
    harms = any(re.search(HARMS_PATTERN, pkg.analysis(a).name, re.I) for a in pkg.analysis_ids())
    rules = []
    if harms:
        rules.append(SectionRule("harms", "Harms", "harms", outcome=HARMS_PATTERN,
                                 intro="Every analysis of the package whose outcome is an adverse event or "
                                       "withdrawal, across comparisons."))
    for g, name in groups.items():
        title = name or comparison_title(pkg, g)
        rules.append(SectionRule(f"comparison_{g}", title, "analyses", groups=(g,),
                                 intro=f"The analyses of comparison {g} of the package"
                                       + (f" ({escape(name)})." if name else ".")))
    n = len(pkg.analysis_ids())
    return Review(package=pkg.id, title=f"A reproducible appendix to the data package {pkg.id}",
                  short_title=f"Data package {pkg.id}", citation=cited_by_doi(pkg),
                  question=("The data package does not state the review's question. This book re-runs "
                            "its analyses from the data as given and reports each one."),
                  data=(f"The data are the package {escape(pkg.id)} as given to the book: the analyses, their "
                        f"settings and one data row per study per analysis."),
                  sections=tuple(rules), generic=True, extra={"n_analyses": n})


def default_review() -> Path | None:
    """The review file of the project the current folder is in (the nearest folder,
    from the current one upwards, with ``review.yml`` or ``book/review.yml``)."""
    here = Path.cwd()
    for parent in [here, *here.parents]:
        for review in (parent / REVIEW_FILE, parent / "book" / REVIEW_FILE):
            if review.is_file():
                return review
    return None


def for_package(pkg, path=None, default=None) -> Review:
    """The review file to use for ``pkg``.

    ``path`` given: that file, which must name ``pkg`` (else :class:`InputError`,
    exit 2).  ``path`` None: the project's review file (``default``, else the one
    of the project the current folder is in: ``review.yml`` or ``book/review.yml``)
    when it names ``pkg``, otherwise the generic description of the package.
    """
    if path is not None:
        review = load(path, package=pkg.id)
        if review.package != pkg.id:
            raise InputError([Problem(Path(path).name, None, "package", f"'{review.package}'",
                                      f"the id of the package being built, '{pkg.id}' (a review file is used "
                                      "only with the package it names)")])
        return review
    default = default if default is not None else default_review()
    if default is not None and default.exists():
        try:
            return load(default, package=pkg.id)
        except OtherPackage:
            pass
    return generic(pkg)


def claim(pkg, review: Review) -> dict:
    """Map every analysis id of ``pkg`` to a section key (first matching rule)."""
    out = {}
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        g = int(aid.split(".")[0])
        for rule in review.sections:
            if rule.matches(g, s.group_name, s.name):
                out[aid] = rule.key
                break
        else:
            out[aid] = "other_analyses"
    return out
