"""``reviewbook check-review review.yml``: a review file checked against its schema.

The schema is a set of pydantic models (:class:`ReviewFile` and the models of its
lists): every key a review file may hold, its type and its bounds; a key not in
the schema is refused (``extra="forbid"``), so a misspelt key is found, not
ignored.  Each error is located: the file, the line (from the YAML node marks of
``yaml.compose``), the key (``sections[2].groups``), what was found and what was
expected.  The file is read with the loader's bounds (size, alias expansion:
:mod:`.review`).  With the package (``--data``, or the package the review file
names in its project, ``data/<package>``), a section rule that claims no
analysis of the package is refused too, with its line; so is an outcome rule or
summary of findings that names an analysis the package does not have.

The page "Describing the review (review.yml)" (``review_file.md``) documents every key.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError
from pydantic import field_validator

from ..errors import _CONTROL, InputError, Problem

Text = Union[StrictStr, StrictInt, StrictFloat]
Number = Union[StrictInt, StrictFloat]
AnalysisId = Union[StrictStr, StrictFloat]


def _regex(v):
    if v is not None:
        try:
            re.compile(str(v))
        except re.error as exc:
            raise ValueError(f"a regular expression ({exc})") from None
    return v


def _analysis_ids(v):
    if v is not None:
        for x in v:
            if not re.fullmatch(r"\d+\.\d+", str(x)):
                raise ValueError(f'analysis ids such as "1.3" (found {str(x)[:40]!r})')
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Section(_Model):
    """One section rule: the first rule whose patterns all match an analysis claims it."""

    key: StrictStr = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    kind: Literal["analyses", "harms"] = "analyses"
    groups: Optional[list[StrictInt]] = None
    group: Optional[StrictStr] = None
    outcome: Optional[StrictStr] = None
    intro: Optional[Text] = None

    _re = field_validator("group", "outcome")(_regex)


class Outcome(_Model):
    """One outcome rule: an outcome's instrument, direction and MID, each with its source."""

    analyses: Optional[list[AnalysisId]] = None
    outcome: Optional[StrictStr] = None
    groups: Optional[list[StrictInt]] = None
    instrument: Optional[Text] = None
    scale: Optional[Text] = None
    better: Optional[Literal["lower", "higher"]] = None
    direction_source: Optional[Text] = None
    mid: Optional[Number] = Field(default=None, gt=0)
    mid_source: Optional[Text] = None
    note: Optional[Text] = None

    _re = field_validator("outcome")(_regex)
    _ids = field_validator("analyses")(_analysis_ids)


class Appraisal(_Model):
    alpha: Number = Field(default=0.05, gt=0, lt=0.5)
    power: Number = Field(default=0.80, gt=0.5, lt=1)
    rrr: Number = Field(default=0.25, gt=0, lt=1)
    smd_mid: Number = Field(default=0.5, gt=0, lt=5)


class IndirectStudy(_Model):
    study: Text
    domain: Text
    reason: Text
    source: Text
    outcome: Optional[StrictStr] = None


class Indirectness(_Model):
    basis: Text
    source: Text
    studies: Optional[list[IndirectStudy]] = None


class MissingEvidence(_Model):
    studies_without_data: StrictInt = Field(ge=0)
    source: Text
    analyses: Optional[list[AnalysisId]] = None
    outcome: Optional[StrictStr] = None

    _ids = field_validator("analyses")(_analysis_ids)


class Subgroup(_Model):
    pattern: StrictStr
    prespecified: StrictBool
    source: Text


class AssumedRisk(_Model):
    outcome: StrictStr
    risk: Number = Field(ge=0, le=1)
    source: Text


class SummaryOfFindings(_Model):
    comparison: StrictInt
    title: Optional[Text] = None
    population: Optional[Text] = None
    setting: Optional[Text] = None
    intervention: Optional[Text] = None
    comparison_text: Optional[Text] = None
    outcomes: list[AnalysisId] = Field(default_factory=list, max_length=7)
    key: list[AnalysisId] = Field(default_factory=list)
    limits: Optional[Text] = None

    _ids = field_validator("outcomes", "key")(_analysis_ids)


class ReviewFile(_Model):
    """A review file (``review.yml``): everything the book says that is specific to one review."""

    package: Text
    title: Text
    sections: list[Section]
    short_title: Optional[Text] = None
    citation: Optional[Text] = None
    question: Optional[Text] = None
    data: Optional[Text] = None
    population: Optional[Text] = None
    interventions: Optional[Text] = None
    comparators: Optional[Text] = None
    published: Optional[StrictStr] = None
    independent: Optional[StrictStr] = None
    independent_map: Optional[StrictStr] = None
    primary_outcome: Optional[StrictStr] = None
    pain_outcome: Optional[StrictStr] = None
    mcid: Optional[Number] = None
    outcomes: Optional[list[Outcome]] = None
    appraisal: Optional[Appraisal] = None
    indirectness: Optional[Indirectness] = None
    missing_evidence: Optional[list[MissingEvidence]] = None
    subgroups: Optional[list[Subgroup]] = None
    assumed_risks: Optional[list[AssumedRisk]] = None
    summary_of_findings: Optional[list[SummaryOfFindings]] = None
    follow_up: Optional[Text] = None
    data_licence: Optional[Text] = None

    _re = field_validator("primary_outcome", "pain_outcome")(_regex)


# ------------------------------------------------------------------ locating errors

def _key_text(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _node_at(root, loc):
    """The YAML node at ``loc`` (keys and list indexes) and, for a mapping key, its
    key node; as far as the path exists."""
    node, key_node = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    node, key_node = v, k
                    break
            else:
                return node, key_node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node, key_node = node.value[part], None
        else:
            return node, key_node
    return node, key_node


def _line(root, loc, key=False) -> int | None:
    if root is None:
        return None
    node, key_node = _node_at(root, loc)
    mark = (key_node if key and key_node is not None else node).start_mark
    return mark.line + 1


def _found(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list ({len(value)} items)"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _expected(err) -> str:
    t, msg = err["type"], err["msg"]
    if t == "extra_forbidden":
        return "a key of the review file's schema (see the page 'Describing the review (review.yml)')"
    if t == "missing":
        return "this key (it is required)"
    if t.startswith("value_error"):
        return msg.removeprefix("Value error, ")
    msg = msg.removeprefix("Input should be ")
    return msg[0].lower() + msg[1:] if msg else t


def _where(loc: tuple) -> tuple:
    """A pydantic location without the names of the Union's members it tried."""
    return tuple(p for p in loc if isinstance(p, int) or not re.fullmatch(
        r"(str|int|float|bool|list\[.*\]|union\[.*\]|literal\[.*\]|function-after\[.*\]|.*\[.*\])", str(p)))


def schema_problems(cfg, root, name: str) -> list:
    """Every error of ``cfg`` (the parsed review file) against :class:`ReviewFile`,
    located with the YAML node graph ``root``: a list of :class:`Problem` whose
    ``column`` is the key."""
    if not isinstance(cfg, dict):
        return [Problem(name, _line(root, ()), None, _found(cfg), "a mapping of keys (package, title, sections, ...)")]
    try:
        ReviewFile.model_validate(cfg)
    except ValidationError as exc:
        out, seen = [], set()
        for err in exc.errors():
            loc = _where(err["loc"])
            key = _key_text(loc)
            if (key, err["type"].split(".")[0]) in seen and err["type"] != "extra_forbidden":
                continue  # one error per key (a Union reports each member it tried)
            seen.add((key, err["type"].split(".")[0]))
            if err["type"] == "extra_forbidden":
                found = "an unknown key"
            elif err["type"] == "missing":
                found = "no such key"
            else:
                found = _found(err.get("input"))
            out.append(Problem(name, _line(root, loc, key=err["type"] == "extra_forbidden"), key or None, found,
                               _expected(err)))
        # a Union of text types reports one error per member: keep the first per key
        uniq, keys = [], set()
        for p in out:
            if (p.column, p.found) not in keys:
                keys.add((p.column, p.found))
                uniq.append(p)
        return sorted(uniq, key=lambda p: (p.line or 0, p.column or ""))
    return []


def package_problems(cfg, root, name: str, pkg) -> list:
    """Section rules that claim no analysis of ``pkg``, and analysis ids named in the
    file that ``pkg`` does not have, each with its line."""
    from .review import SectionRule

    out = []
    ids = list(pkg.analysis_ids())
    claimed = set()
    for i, s in enumerate(cfg.get("sections") or []):
        rule = SectionRule(str(s["key"]), str(s["title"]), s.get("kind", "analyses"),
                           tuple(s["groups"]) if s.get("groups") is not None else None, s.get("group"),
                           s.get("outcome"))
        mine = [a for a in ids if a not in claimed
                and rule.matches(int(a.split(".")[0]), pkg.analysis(a).group_name, pkg.analysis(a).name)]
        every = [a for a in ids
                 if rule.matches(int(a.split(".")[0]), pkg.analysis(a).group_name, pkg.analysis(a).name)]
        claimed.update(mine)
        if not every:
            out.append(Problem(name, _line(root, ("sections", i)), f"sections[{i}]",
                               f"a section rule that names no analysis of package {pkg.id}",
                               "groups, group or outcome that match at least one of its "
                               f"{len(ids)} analyses"))
        elif not mine:
            out.append(Problem(name, _line(root, ("sections", i)), f"sections[{i}]",
                               "a section rule whose analyses earlier rules all claim",
                               "a rule that claims at least one analysis (rules are tried in order)"))
    known = set(ids)
    for lst, field in (("outcomes", "analyses"), ("missing_evidence", "analyses"),
                       ("summary_of_findings", "outcomes")):
        for i, item in enumerate(cfg.get(lst) or []):
            for j, aid in enumerate((item or {}).get(field) or []):
                if str(aid) not in known:
                    out.append(Problem(name, _line(root, (lst, i, field, j)), f"{lst}[{i}].{field}[{j}]",
                                       f"analysis {str(aid)!r}", f"an analysis id of package {pkg.id}"))
    return out


def check(path, data=None) -> list:
    """Every problem of the review file ``path`` (an empty list: the file is valid).
    ``data``: the package to check the section rules against (default: the package
    the file names, ``data/<package>`` in its project, when it is there)."""
    from ..package.load import read_any
    from ..package.tabular import decode, read_bytes
    from . import review as rv
    from .paths import project

    path = Path(path)
    raw = read_bytes(path, "a review file (YAML), e.g. review.yml", limit=rv.MAX_REVIEW_BYTES)
    text = decode(raw, path.name, "a UTF-8 review file (YAML)")
    cfg, _ = rv._parse_yaml(text, path.name)  # bounded: size, alias expansion (raises InputError)
    root = yaml.compose(text, Loader=yaml.SafeLoader)  # the same nodes, for their line numbers
    problems = schema_problems(cfg, root, path.name)
    if problems:
        return problems
    try:
        rv.load(path)  # the loader's own checks (e.g. a key used twice, summary keys among its outcomes)
    except InputError as exc:
        return [Problem(p.file, p.line if p.line is not None else _line(root, _parse_key(p.column)), p.column,
                        p.found, p.expected) for p in exc.problems]
    if data is None:
        proj_root = path.resolve().parent
        proj_root = proj_root.parent if proj_root.name == "book" and not (proj_root / "data").exists() else proj_root
        candidate = project(proj_root).package(str(cfg["package"]))
        data = candidate if candidate.exists() else None
    if data is None:
        return []
    pkg = read_any(data)
    if pkg.id != str(cfg["package"]):
        return [Problem(path.name, _line(root, ("package",)), "package", f"{str(cfg['package'])!r}",
                        f"the id of the package checked against, {pkg.id!r}")]
    return package_problems(cfg, root, path.name, pkg)


def _parse_key(key) -> tuple:
    if not key:
        return ()
    out = []
    for name, idx in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key):
        out.append(int(idx) if idx else name)
    return tuple(out)


def main(path, data=None) -> int:
    """Print each problem as ``error: FILE, line N, key K: found ...; expected ...``; exit 2
    when there is one, else 0 with one line saying the file is valid."""
    problems = check(path, data)
    for p in problems:
        where = p.file + (f", line {p.line}" if p.line is not None else "") + (f", key '{p.column}'" if p.column
                                                                                else "")
        line = f"error: {where}: found {p.found}; expected {p.expected}"
        print(_CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), line), file=sys.stderr)
    if problems:
        return 2
    print(f"{Path(path).name}: a valid review file")
    return 0
