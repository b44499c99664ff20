"""Read the older RevMan 5 "analysis data" CSV export into a :class:`Package`.

Columns: ``Comparison Number, Outcome Number, Subgroup Number, Name, Data Type,
Statistical Method, Effect Measure, Analysis Model, Events 1, Mean 1, SD 1,
Total 1, Events 2, Mean 2, SD 2, Total 2, Effect Estimate, SE, CI Start, CI End,
Weight, Q, P(Q), I²(Q), Tau², Z, P(Z), Qint, P(Qint), I²(Qint), df, Group
Label 1, Group Label 2, Left Graph Label, Right Graph Label, Year of study,
User defined order``.  Rows: a comparison header (outcome 0), an outcome
(analysis) summary row (with a data type), optional subgroup summary rows, and
study rows.  The result uses the RevMan Web column names so that both exports
read to the same analyses.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from .schema import DATA_ROW_COLUMNS, ID_PATTERN, ID_RULE, OVERALL_COLUMNS_OLD, SUBGROUP_COLUMNS, Package
from .tabular import Cells, read_csv

DATA_TYPE = {"DIC": "Dichotomous", "CON": "Continuous", "GIV": "Generic inverse variance",
             "OIV": "O-E and variance", "IPD": "O-E and variance"}
METHOD = {"MH": "MH", "IV": "IV", "PETO": "Peto", "EXP": "IV"}
MEASURE = {"OR": "Odds Ratio", "RR": "Risk Ratio", "RD": "Risk Difference", "MD": "Mean Difference",
           "SMD": "Standardized Mean Difference", "PETO_OR": "Peto Odds Ratio", "HR": "Hazard Ratio"}
MODEL = {"Fixed": "Fixed effect", "Random": "Random effect"}
REQUIRED = ["Comparison Number", "Outcome Number", "Subgroup Number", "Name", "Data Type",
            "Statistical Method", "Effect Measure", "Analysis Model", "Events 1", "Mean 1", "SD 1",
            "Total 1", "Events 2", "Mean 2", "SD 2", "Total 2", "Effect Estimate", "CI Start", "CI End"]


def read_revman5(path):
    path = Path(path)
    name = path.name
    pkg_id = path.stem
    if not ID_PATTERN.fullmatch(pkg_id):
        raise InputError([Problem(name if len(name) < 80 else name[:77] + "...", None, None,
                                  "a file name that is not a package id",
                                  f"{ID_RULE} before '.csv' (the file name is the package id; rename the file)")])
    header, rows = read_csv(path, name)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError([Problem(name, 1, c, "no such column", f"a column '{c}' (RevMan 5 analysis CSV)")
                          for c in missing])
    problems: list[Problem] = []
    groups, analyses, data, subgroups = {}, [], [], []
    current = {}
    for line, row in rows:
        c = Cells(name, line, row, problems)
        comp = c.number("Comparison Number", integer=True)
        out = c.number("Outcome Number", integer=True)
        sub = c.number("Subgroup Number", integer=True)
        if comp is None or out is None or sub is None:
            continue
        def num(col, c=c):
            return c.number(col, required=False, blank_as=np.nan)
        if out == 0:
            groups[comp] = c.text("Name")
            continue
        dtype = c.text("Data Type")
        if dtype:
            if dtype not in DATA_TYPE:
                c.problem("Data Type", f"'{dtype}'", "one of " + ", ".join(DATA_TYPE))
                continue
            current[(comp, out)] = dict(name=c.text("Name"), type=DATA_TYPE[dtype])
            a = {k: "" for k in OVERALL_COLUMNS_OLD}
            a.update({
                "Analysis group": float(comp), "Analysis number": float(out),
                "Analysis name": c.text("Name"), "Analysis group name": groups.get(comp, ""),
                "Data type": DATA_TYPE[dtype],
                "Statistical method": METHOD.get(c.text("Statistical Method"), c.text("Statistical Method")),
                "Effect measure": MEASURE.get(c.text("Effect Measure"), c.text("Effect Measure")),
                "Analysis model": MODEL.get(c.text("Analysis Model"), c.text("Analysis Model")),
                "Experimental group label": c.text("Group Label 1"),
                "Control group label": c.text("Group Label 2"),
                "Study CI": "95%", "Estimate CI": "95%",
                "Experimental cases": num("Events 1"), "Experimental N": num("Total 1"),
                "Control cases": num("Events 2"), "Control N": num("Total 2"),
                "Mean": num("Effect Estimate"), "CI start": num("CI Start"), "CI end": num("CI End"),
                "Heterogeneity Tau²": num("Tau²") if "Tau²" in header else np.nan,
                "Heterogeneity Chi²": num("Q") if "Q" in header else np.nan,
                "Heterogeneity df": num("df") if "df" in header else np.nan,
                "Heterogeneity P": num("P(Q)") if "P(Q)" in header else np.nan,
                "Heterogeneity I²": num("I²(Q)") if "I²(Q)" in header else np.nan,
                "Effect Z": num("Z") if "Z" in header else np.nan,
                "Effect P": num("P(Z)") if "P(Z)" in header else np.nan,
                "Subgroup Chi²": num("Qint") if "Qint" in header else np.nan,
                "Subgroup P": num("P(Qint)") if "P(Qint)" in header else np.nan,
                "Subgroup I²": num("I²(Qint)") if "I²(Qint)" in header else np.nan,
                "Subgroup df": np.nan,
            })
            a["Graph label (left)"] = c.text("Left Graph Label")
            a["Graph label (right)"] = c.text("Right Graph Label")
            analyses.append(a)
            continue
        info = current.get((comp, out))
        if info is None:
            c.problem("Outcome Number", f"outcome {out:g} of comparison {comp:g}",
                      "a study row after its outcome's summary row")
            continue
        is_study = c.text("Year of study") != "" or c.text("User defined order") != ""
        if sub > 0 and not is_study:
            subgroups.append({
                "Analysis group": float(comp), "Analysis number": float(out), "Subgroup": c.text("Name"),
                "Subgroup number": float(sub), "Experimental cases": num("Events 1"),
                "Experimental N": num("Total 1"), "Control cases": num("Events 2"),
                "Control N": num("Total 2"), "Weight": num("Weight") if "Weight" in header else np.nan,
                "Mean": num("Effect Estimate"), "CI start": num("CI Start"), "CI end": num("CI End"),
                "Heterogeneity Tau²": num("Tau²"), "Heterogeneity Chi²": num("Q"),
                "Heterogeneity df": num("df"), "Heterogeneity P": num("P(Q)"),
                "Heterogeneity I²": num("I²(Q)"), "Effect Z": num("Z"), "Effect P": num("P(Z)"), "ID": ""})
            continue
        d = {k: 0.0 for k in DATA_ROW_COLUMNS[7:23]}
        est, se = num("Effect Estimate"), num("SE") if "SE" in header else np.nan
        d.update({
            "Analysis group": float(comp), "Analysis number": float(out), "Analysis name": info["name"],
            "Subgroup": _subgroup_name(subgroups, comp, out, sub), "Applicability": "SUBGROUP_AND_OVERALL",
            "Study": c.text("Name"), "Study year": c.text("Year of study"),
            "Experimental mean": num("Mean 1"), "Experimental SD": num("SD 1"),
            "Experimental cases": num("Events 1"), "Experimental N": num("Total 1"),
            "Control mean": num("Mean 2"), "Control SD": num("SD 2"), "Control cases": num("Events 2"),
            "Control N": num("Total 2"), "Weight": num("Weight") if "Weight" in header else np.nan,
            "Mean": est, "CI start": num("CI Start"), "CI end": num("CI End"), "Footnotes": ""})
        if info["type"] == "Generic inverse variance":
            d["GIV Mean"], d["GIV SE"] = est, se
        data.append(d)
    if problems:
        raise InputError(problems)
    for d in data:  # blanks in unused numeric fields are 0.0, as RevMan Web writes them
        for k in DATA_ROW_COLUMNS[7:23]:
            if isinstance(d[k], float) and np.isnan(d[k]):
                d[k] = 0.0
    frame = lambda recs, cols: pd.DataFrame(recs, columns=cols)  # noqa: E731
    return Package(pkg_id, frame(analyses, OVERALL_COLUMNS_OLD), frame(data, DATA_ROW_COLUMNS),
                   frame(subgroups, SUBGROUP_COLUMNS) if subgroups else pd.DataFrame(),
                   pd.DataFrame(), pd.DataFrame(), {}, {}, (), "revman5-csv")


def _subgroup_name(subgroups, comp, out, sub):
    for s in subgroups:
        if s["Analysis group"] == comp and s["Analysis number"] == out and s["Subgroup number"] == sub:
            return s["Subgroup"]
    return ""
