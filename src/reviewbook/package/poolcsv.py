"""Read the ``pool`` command's input CSV into :class:`EffectSizes`.

Layouts (group 1 = experimental, as RevMan):

* continuous  ``study,n1,mean1,sd1,n2,mean2,sd2``
* dichotomous ``study,events1,n1,events2,n2``
* generic     ``study,yi,vi``

Extra columns are allowed (e.g. a subgroup column).  All problems are reported
at once with file, line and column.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..engine import effects
from ..errors import InputError, Problem
from .names import escaped, name_problem, study_key
from .schema import MIN_POSITIVE
from .tabular import Cells, read_csv

LAYOUTS = {
    "continuous": ("study", "n1", "mean1", "sd1", "n2", "mean2", "sd2"),
    "dichotomous": ("study", "events1", "n1", "events2", "n2"),
    "generic": ("study", "yi", "vi"),
}
LAYOUT_OF_MEASURE = {"MD": "continuous", "SMD": "continuous", "RR": "dichotomous",
                     "OR": "dichotomous", "RD": "dichotomous"}


def read_pool_csv(path, measure: str, subgroup: str | None = None, smd_correction="revman", *,
                  allow_none_estimable=False):
    """Return ``(EffectSizes, groups)``; ``groups`` is None without ``subgroup``."""
    pi = read_pool_table(path, measure, subgroup, smd_correction, allow_none_estimable=allow_none_estimable)
    return pi.es, pi.groups


def read_pool_table(path, measure: str, subgroup: str | None = None, smd_correction="revman", *,
                    allow_none_estimable=False) -> "PoolInput":
    """Read a ``pool``-layout CSV (see the module docstring) into a :class:`PoolInput`.

    With ``allow_none_estimable`` a file in which no study is estimable (e.g.
    no events in either arm of every study) gives ``EffectSizes`` with ``k = 0``
    and the reasons in ``excluded`` (``pool`` reports it as RevMan does, "Not
    estimable"); otherwise that is an :class:`InputError`.

    A file with ``yi,vi`` columns (and no arm columns) is read as generic
    inverse-variance data on the scale of ``measure`` (log scale for RR/OR).
    """
    name = Path(path).name
    try:
        header, rows = read_csv(path, name)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(name, None, None, f"an unreadable file ({exc.__class__.__name__})",
                                  "a UTF-8 CSV file")]) from None
    layout = LAYOUT_OF_MEASURE.get(measure, "generic")  # HR, GENR: study,yi,vi (log scale)
    if "yi" in header and "vi" in header and not set(LAYOUTS[layout][1:]) <= set(header):
        layout = "generic"
    need = list(LAYOUTS[layout]) + ([subgroup] if subgroup else [])
    missing = [c for c in need if c not in header]
    if missing:
        raise InputError([Problem(name, 1, c, "no such column",
                                  f"the columns {', '.join(need)}") for c in missing])
    problems: list[Problem] = []
    cols = {c: [] for c in LAYOUTS[layout]}
    groups, seen = [], {}
    for line, row in rows:
        cells = Cells(name, line, row, problems)
        study = cells.text("study")
        skey = study_key(study)
        if not study:
            cells.problem("study", "an empty cell", "a study label")
        elif name_problem(study):
            cells.problem("study", *name_problem(study))
        elif skey in seen:
            first, at = seen[skey]
            cells.problem("study", f"'{escaped(study)}' again" + ("" if first == study else
                                                                f", a look-alike of '{escaped(first)}'"),
                          f"each study once (first on line {at})")
        seen.setdefault(skey, (study, line))
        values = {"study": study}
        if layout == "continuous":
            for arm in ("1", "2"):
                values["n" + arm] = cells.number("n" + arm, minimum=0, strict_minimum=True)
                values["mean" + arm] = cells.number("mean" + arm)
                values["sd" + arm] = cells.number("sd" + arm, minimum=0, strict_minimum=True,
                                                  smallest_positive=MIN_POSITIVE)
        elif layout == "dichotomous":
            for arm in ("1", "2"):
                n = cells.number("n" + arm, integer=True, minimum=0, strict_minimum=True)
                e = cells.number("events" + arm, integer=True, minimum=0)
                if n is not None and e is not None and e > n:
                    cells.problem("events" + arm, f"{e:g} events", f"at most n{arm} = {n:g}")
                    e = None
                values["events" + arm], values["n" + arm] = e, n
        else:
            values["yi"] = cells.number("yi")
            values["vi"] = cells.number("vi", minimum=0, strict_minimum=True, smallest_positive=MIN_POSITIVE)
        for c in cols:
            cols[c].append(values[c])
        if subgroup:
            groups.append(cells.text(subgroup) or "(none)")
    if not rows:
        problems.append(Problem(name, None, None, "no data rows", "at least 1 study"))
    if problems:
        raise InputError(problems)
    study = cols.pop("study")
    cols = {c: list(v) for c, v in cols.items()}
    if layout == "continuous":
        es = effects.continuous(**cols, measure=measure, study=study, smd_correction=smd_correction)
    elif layout == "dichotomous":
        es = effects.dichotomous(**cols, measure=measure, study=study)
    else:
        es = effects.generic(cols["yi"], cols["vi"], study=study, measure=measure)
    if es.k < 1 and not allow_none_estimable:
        raise InputError([Problem(name, None, None, "no estimable study "
                                  f"({'; '.join(f'{s}: {r}' for s, r in es.excluded)})",
                                  "at least 1 usable study")])
    if subgroup:
        groups = [groups[i] for i in es.index]  # filtered along with the studies that are not estimable
    return PoolInput(es, groups if subgroup else None, {c: [cols[c][i] for i in es.index] for c in cols})


@dataclass(frozen=True)
class PoolInput:
    """What a ``pool``-layout CSV holds: the effect sizes, the subgroup label of each
    estimable study (or None), and the arm columns of the estimable studies
    (``n1``, ``sd1``, ``events1``, ...; empty for ``yi,vi`` files)."""

    es: effects.EffectSizes
    groups: list | None
    arms: dict
