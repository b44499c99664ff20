"""Build the embedded Cochrane data package from the extraction.

``python -m reviewbook build-package data/independent/extraction data/independent/package``

Reads ``studies.csv``, ``outcomes.csv``, ``excluded.csv``, ``windows.csv`` and
``study_flow.csv`` of the extraction folder and writes a package in the RevMan
Web layout, plus ``provenance.csv`` (one row per numeric value of the data rows,
naming the extraction row, source, location and transformation) and
``study-flow.csv`` at the package root.  The output is deterministic: building
twice gives identical bytes.  Rules (stated in ``data/README.md``):

* Pain intensity is put on 0-100: ``x * 100 / scale_max``.
* Dispersion: ``SD`` as is; ``SEM`` -> ``SD = SEM * sqrt(n)``; ``CI95`` ->
  ``SD = sqrt(n) * (upper - lower) / (2 * t(0.975, n - 1))`` (Cochrane Handbook
  6.5.2.2); ``IQR`` -> ``SD = IQR / 1.35`` with the median as the mean (Handbook
  6.5.2.5, flagged); ``unlabelled`` '±' -> SD or SEM by :func:`unlabelled_rule`;
  ``none`` -> not usable.
* Timing: ``t`` = days after the end of treatment, or days from its start when
  measured during an ongoing treatment (``days_after_end == 0``).  Outcomes with
  ``t <= 2`` (48 hours) are not pooled.  The window is the one whose range holds
  ``t``; within a window the latest time point is used.
* Crossover trials contribute only first-period data (``period_used``).
* Several experimental arms are combined (Handbook 6.5.2.10; events and totals
  added for dichotomous outcomes).
"""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine import dist
from ..engine.effects import combine_arms
from ..errors import InputError, Problem
from .datapackage import write
from .schema import DATA_ROW_COLUMNS, OVERALL_COLUMNS_OLD, OVERALL_NEW_EXTRA, SUBGROUP_COLUMNS, Package
from .tabular import Cells, read_csv

PACKAGE_ID = "CD015373-independent"  # our extraction, a second package beside the review's

COMPARISONS = [  # analysis group number = position + 1 (stable ids)
    ("ketamine_iv", "Intravenous ketamine versus control", "IV ketamine"),
    ("ketamine_oral", "Oral ketamine versus control", "Oral ketamine"),
    ("ketamine_topical", "Topical ketamine versus control", "Topical ketamine"),
    ("memantine", "Memantine versus control", "Memantine"),
    ("dextromethorphan", "Dextromethorphan versus control", "Dextromethorphan"),
    ("amantadine", "Amantadine versus control", "Amantadine"),
    ("magnesium", "Magnesium versus control", "Magnesium"),
]
AE_OUTCOMES = [  # analysis numbers 5.. (after the four pain windows)
    ("any_ae", "Any adverse event"), ("psychotomimetic", "Psychotomimetic effects"),
    ("nausea", "Nausea"), ("vomiting", "Vomiting"), ("dizziness", "Dizziness"),
    ("sedation", "Sedation or drowsiness"), ("headache", "Headache"),
    ("withdrawal_ae", "Withdrawal due to adverse events"), ("serious_ae", "Serious adverse events"),
]
CONDITION_LABELS = {
    "CRPS": "Complex regional pain syndrome", "fibromyalgia": "Fibromyalgia",
    "neuropathic_peripheral": "Peripheral neuropathic pain",
    "neuropathic_central": "Central neuropathic pain", "phantom_limb": "Phantom limb pain",
    "postherpetic_neuralgia": "Postherpetic neuralgia", "diabetic_neuropathy": "Diabetic neuropathy",
    "low_back_pain": "Low back pain", "ischaemic": "Ischaemic pain", "mixed": "Mixed chronic pain",
    "other": "Other chronic pain",
}
STUDY_COLUMNS = ["study", "comparison", "design", "period_used", "condition", "condition_group", "drug",
                 "route", "dose", "duration_days", "comparator", "control_type", "n_randomised",
                 "n_analysed", "country", "eligible", "reason", "citation", "pmid", "doi", "url",
                 "location", "registration", "notes"]
OUTCOME_COLUMNS = ["study", "comparison", "arm", "arm_label", "outcome", "time_label",
                   "days_from_start", "days_after_end", "n", "value_type", "reported_mean",
                   "reported_dispersion", "dispersion_type", "events", "scale", "scale_max",
                   "citation", "url", "location", "verbatim", "notes"]
DISPERSION_TYPES = ("SD", "SEM", "CI95", "IQR", "unlabelled", "none", "")
OUTCOMES = ("pain",) + tuple(o for o, _ in AE_OUTCOMES)


@dataclass(frozen=True)
class Window:
    name: str
    lower: float  # exclusive, days
    upper: float  # inclusive, days (inf for open)
    label: str

    def holds(self, t: float) -> bool:
        return self.lower < t <= self.upper


@dataclass(frozen=True)
class Continuous:
    """One arm's pain value on 0-100 with the rule that produced it."""

    n: float
    mean: float
    sd: float
    transformation: str
    line: int


def unlabelled_rule(value: float, n: float, scale_max: float):
    """Decide whether an unlabelled '±' is an SD or an SEM.

    The SD of a score bounded in [0, scale_max] is at most ``scale_max / 2``.
    Read as an SEM, the implied SD is ``value * sqrt(n)``: if that exceeds the
    bound, the '±' must be an SD.  Read as an SD, a value below 10% of the scale
    range is implausibly small for between-patient variation in chronic pain
    (Cochrane Handbook 6.5.2.3 warns that SEs are often reported as SDs): then it
    is read as an SEM.  Anything else is ambiguous and is not pooled.
    Returns ``("SD" | "SEM" | None, reason)``.
    """
    if value * math.sqrt(n) > scale_max / 2:
        return "SD", (f"unlabelled ±{value:g} read as SD: as an SEM it would imply SD "
                      f"{value * math.sqrt(n):.2f} > {scale_max / 2:g}, the largest possible on 0-{scale_max:g}")
    if value < 0.1 * scale_max:
        return "SEM", (f"unlabelled ±{value:g} read as SEM: as an SD it would be below 10% of the "
                       f"0-{scale_max:g} range, implausibly small for chronic pain scores")
    return None, f"unlabelled ±{value:g} is ambiguous (could be SD or SEM): not pooled"


def _read(folder: Path, name: str, columns, problems):
    path = folder / name
    if not path.exists():
        problems.append(Problem(name, None, None, "a missing file", f"{folder.name}/{name}"))
        return []
    header, rows = read_csv(path, name)
    missing = [c for c in columns if c not in header]
    for c in missing:
        problems.append(Problem(name, 1, c, "no such column", f"a column '{c}'"))
    return [] if missing else rows


def read_extraction(folder):
    """Read and validate the extraction; returns (studies, outcomes, excluded, windows, flow)."""
    folder = Path(folder)
    problems: list[Problem] = []
    studies = _read(folder, "studies.csv", STUDY_COLUMNS, problems)
    outcomes = _read(folder, "outcomes.csv", OUTCOME_COLUMNS, problems)
    excluded = _read(folder, "excluded.csv", ["study", "comparison", "reason", "citation", "url"], problems)
    windows_rows = _read(folder, "windows.csv", ["window", "lower_days", "upper_days", "label"], problems)
    flow = _read(folder, "study_flow.csv", ["step", "count", "source", "note"], problems)
    keys = set()
    for line, r in studies:
        c = Cells("studies.csv", line, r, problems)
        key = (c.text("study"), c.text("comparison"))
        if key in keys:
            c.problem("study", f"'{key[0]}' ({key[1]}) again", "each study once per comparison")
        keys.add(key)
        if c.text("comparison") not in [x for x, _, _ in COMPARISONS]:
            c.problem("comparison", f"'{c.text('comparison')}'", "one of " + ", ".join(x for x, _, _ in COMPARISONS))
        if c.text("eligible") not in ("yes", "no", "uncertain"):
            c.problem("eligible", f"'{c.text('eligible')}'", "yes, no or uncertain")
        if c.text("design") not in ("parallel", "crossover", "unknown", ""):
            c.problem("design", f"'{c.text('design')}'", "parallel, crossover, unknown or blank")
    for line, r in outcomes:
        c = Cells("outcomes.csv", line, r, problems)
        if (c.text("study"), c.text("comparison")) not in keys:
            c.problem("study", f"'{c.text('study')}' ({c.text('comparison')})", "a study listed in studies.csv")
        if c.text("arm") not in ("experimental", "control"):
            c.problem("arm", f"'{c.text('arm')}'", "experimental or control")
        if c.text("outcome") not in OUTCOMES:
            c.problem("outcome", f"'{c.text('outcome')}'", "one of " + ", ".join(OUTCOMES))
        if c.text("dispersion_type") not in DISPERSION_TYPES:
            c.problem("dispersion_type", f"'{c.text('dispersion_type')}'", "one of SD, SEM, CI95, IQR, unlabelled, none")
        c.number("n", required=False, minimum=0, strict_minimum=True)
        for col in ("days_from_start", "days_after_end"):
            c.number(col, required=False, minimum=0)
        for col in ("reported_mean", "reported_dispersion", "scale_max"):
            c.number(col, required=False)
        c.number("events", required=False, integer=True, minimum=0)
        if not c.text("citation") or not c.text("location"):
            c.problem("citation" if not c.text("citation") else "location", "an empty cell",
                      "the source of the row's numbers (citation and location)")
    windows = []
    for line, r in windows_rows:
        c = Cells("windows.csv", line, r, problems)
        lo = c.number("lower_days", minimum=0)
        hi = c.text("upper_days")
        up = math.inf if hi in ("inf", "") else c.number("upper_days")
        if lo is not None and up is not None:
            windows.append(Window(c.text("window"), lo, up, c.text("label")))
    if problems:
        raise InputError(problems)
    return studies, outcomes, excluded, windows, flow


def _f(x):
    x = (x or "").strip()
    return float(x) if x else None


def timing(r) -> float | None:
    start, end = _f(r["days_from_start"]), _f(r["days_after_end"])
    if end is not None and end > 0:
        return end
    return start


def continuous_value(r, line):
    """(Continuous | None, reason) for one pain row."""
    n, mean, disp = _f(r["n"]), _f(r["reported_mean"]), _f(r["reported_dispersion"])
    scale_max = _f(r["scale_max"])
    dtype = r["dispersion_type"].strip()
    if n is None or mean is None or scale_max is None:
        return None, "no mean, n or scale in the source"
    if dtype in ("none", "") or disp is None:
        return None, "no measure of dispersion reported"
    factor = 100.0 / scale_max
    steps = []
    if dtype == "unlabelled":
        dtype, why = unlabelled_rule(disp, n, scale_max)
        steps.append(why)
        if dtype is None:
            return None, why
    if dtype == "SD":
        sd = disp
    elif dtype == "SEM":
        sd = disp * math.sqrt(n)
        steps.append(f"SD = SEM × √n = {disp:g} × √{n:g}")
    elif dtype == "CI95":
        upper = None
        for part in r["notes"].split(";"):
            if part.strip().startswith("ci_upper="):
                upper = float(part.strip().split("=", 1)[1])
        if upper is None:
            return None, "95% CI upper limit missing (notes 'ci_upper=')"
        sd = math.sqrt(n) * (upper - disp) / (2 * dist.t_ppf(0.975, n - 1))
        steps.append("SD = √n × (upper − lower) / (2 t(0.975, n−1)), Handbook 6.5.2.2")
    elif dtype == "IQR":
        sd = disp / 1.35
        steps.append("median used as mean and SD = IQR/1.35 (Handbook 6.5.2.5; approximation, flagged)")
    else:
        return None, f"dispersion type {dtype}"
    if factor != 1:
        steps.append(f"× {factor:g} to 0-100 (0-{scale_max:g} scale)")
    return Continuous(n, mean * factor, sd * factor, "; ".join(steps) or "none", line), ""


def _mean_transformation(r) -> str:
    scale_max = float(r["scale_max"])
    return f"× {100 / scale_max:g} to 0-100" if scale_max != 100 else "none"


def build(extraction, *, pkg_id=PACKAGE_ID):
    """Build the package; returns ``(Package, provenance DataFrame, flow DataFrame)``."""
    studies, outcomes, excluded, windows, flow = read_extraction(extraction)
    info = {(r["study"], r["comparison"]): r for _, r in studies}
    status = {k: [] for k in info}  # reasons a study contributes nothing
    used = {k: False for k in info}

    def eligible(key):
        s = info[key]
        if s["eligible"] != "yes":
            return False, s["reason"] or f"eligibility {s['eligible']}"
        if s["design"] not in ("parallel", "crossover"):
            return False, "design not reported"
        if s["design"] == "crossover" and s["period_used"].strip() != "first period":
            return False, "crossover trial without first-period data"
        return True, ""

    rows, prov = [], []
    analyses = []
    for g_index, (code, group_name, label) in enumerate(COMPARISONS, start=1):
        # ----- pain, per window
        # each pain row is judged once, then falls in (at most) one window
        per_window = {win.name: {} for win in windows}
        for line, r in outcomes:
            if r["comparison"] != code or r["outcome"] != "pain":
                continue
            key = (r["study"], code)
            ok, why = eligible(key)
            t = timing(r)
            if not ok:
                status[key].append(f"pain: {why}")
                continue
            if t is None:
                continue
            if t <= 2:
                status[key].append(f"pain at {r['time_label']}: measured within 48 hours of treatment")
                continue
            win = next((w for w in windows if w.holds(t)), None)
            if win is None:
                continue
            val, why = continuous_value(r, line)
            if val is None:
                status[key].append(f"pain at {r['time_label']}: {why}")
                continue
            per_window[win.name].setdefault(r["study"], []).append((t, r, val))
        for w_index, win in enumerate(windows, start=1):
            per_study = per_window[win.name]
            data_rows = []
            for study in sorted(per_study):
                items = per_study[study]
                latest = max(t for t, _, _ in items)
                chosen = [(r, v) for t, r, v in items if t == latest]
                exp = [(r, v) for r, v in chosen if r["arm"] == "experimental"]
                ctl = [(r, v) for r, v in chosen if r["arm"] == "control"]
                if not exp or not ctl or len(ctl) > 1:
                    status[(study, code)].append(
                        f"pain ({win.name} term): {'no control arm value' if not ctl else 'no experimental arm value' if not exp else 'several control arms'}")
                    continue
                n1, m1, s1 = combine_arms([v.n for _, v in exp], [v.mean for _, v in exp], [v.sd for _, v in exp])
                r2, v2 = ctl[0]
                used[(study, code)] = True
                sg = CONDITION_LABELS.get(info[(study, code)]["condition_group"], "Other chronic pain")
                data_rows.append(dict(study=study, subgroup=sg, m1=m1, s1=s1, n1=n1, m2=v2.mean, s2=v2.sd,
                                      n2=v2.n, exp=exp, ctl=ctl, combined=len(exp) > 1))
            if not data_rows:
                continue
            aid = (g_index, w_index)
            name = f"Pain intensity, {win.name} term ({win.label}), 0-100"
            analyses.append(_analysis(aid, name, group_name, "Continuous", label, "pain"))
            for d in data_rows:
                row = _blank_row(aid, name, d["subgroup"], d["study"])
                row.update({"Experimental mean": d["m1"], "Experimental SD": d["s1"], "Experimental N": d["n1"],
                            "Control mean": d["m2"], "Control SD": d["s2"], "Control N": d["n2"]})
                rows.append(row)
                comb = " (arms combined, Handbook 6.5.2.10)" if d["combined"] else ""
                for arm, items in (("Experimental", d["exp"]), ("Control", d["ctl"])):
                    first_row, first_val = items[0]
                    for field, how in (("mean", _mean_transformation(first_row)),
                                       ("SD", first_val.transformation), ("N", "n as reported")):
                        col = f"{arm} {field}"
                        prov.append(_prov(aid, d["study"], col, row[col], items,
                                          outcomes_lines=[v.line for _, v in items], transformation=how + comb))
        # ----- adverse events
        for a_index, (ocode, oname) in enumerate(AE_OUTCOMES, start=len(windows) + 1):
            items = [(line, r) for line, r in outcomes if r["comparison"] == code and r["outcome"] == ocode]
            per_study = {}
            for line, r in items:
                key = (r["study"], code)
                ok, why = eligible(key)
                if not ok:
                    status[key].append(f"{oname.lower()}: {why}")
                    continue
                if _f(r["events"]) is None or _f(r["n"]) is None:
                    status[key].append(f"{oname.lower()}: no event count or denominator")
                    continue
                per_study.setdefault(r["study"], []).append((line, r))
            data_rows = []
            for study in sorted(per_study):
                exp = [(l, r) for l, r in per_study[study] if r["arm"] == "experimental"]
                ctl = [(l, r) for l, r in per_study[study] if r["arm"] == "control"]
                if not exp or len(ctl) != 1:
                    status[(study, code)].append(f"{oname.lower()}: counts for one arm only")
                    continue
                used[(study, code)] = True
                data_rows.append((study, exp, ctl))
            if not data_rows:
                continue
            aid = (g_index, a_index)
            analyses.append(_analysis(aid, oname, group_name, "Dichotomous", label, ocode))
            for study, exp, ctl in data_rows:
                sg = CONDITION_LABELS.get(info[(study, code)]["condition_group"], "Other chronic pain")
                row = _blank_row(aid, oname, sg, study)
                row.update({"Experimental cases": sum(float(r["events"]) for _, r in exp),
                            "Experimental N": sum(float(r["n"]) for _, r in exp),
                            "Control cases": float(ctl[0][1]["events"]), "Control N": float(ctl[0][1]["n"])})
                rows.append(row)
                comb = "events and totals of arms added" if len(exp) > 1 else "as reported"
                for col, arm in (("Experimental cases", exp), ("Experimental N", exp), ("Control cases", ctl),
                                 ("Control N", ctl)):
                    prov.append(_prov(aid, study, col, row[col], [(r, None) for _, r in arm],
                                      outcomes_lines=[l for l, _ in arm], transformation=comb))

    pkg = _package(pkg_id, analyses, rows, studies, excluded, status, used, info)
    provenance = pd.DataFrame(prov, columns=["analysis", "study", "column", "value", "extraction_lines",
                                             "citation", "url", "location", "verbatim", "transformation"])
    flow_frame = pd.DataFrame([[r.get(c, "") for c in ("step", "count", "source", "note")] for _, r in flow],
                              columns=["step", "count", "source", "note"])
    return pkg, provenance, flow_frame


def _analysis(aid, name, group_name, dtype, label, outcome):
    a = {c: "" for c in OVERALL_COLUMNS_OLD + OVERALL_NEW_EXTRA}
    pain = dtype == "Continuous"
    a.update({
        "Analysis group": float(aid[0]), "Analysis number": float(aid[1]), "Analysis name": name,
        "Analysis group name": group_name, "Data source": "Custom input", "Data type": dtype,
        "Log-scale data": "false" if pain else "true", "Outcome": outcome,
        "Experimental group label": label, "Control group label": "Control",
        "Statistical method": "IV" if pain else "MH",
        "Effect measure": "Mean Difference" if pain else "Risk Ratio",
        "Unit of effect measure": "points on 0-100" if pain else "",
        "Analysis model": "Random effect", "Subgroup by": "Condition",
        "Subgroup estimates": "true", "Overall estimates": "true", "Test for subgroup differences": "true",
        "Swap event and non-event": "false", "Study CI": "95%", "Estimate CI": "95%",
        "Heterogeneity estimator": "REML" if pain else "DL", "CI method": "Wald",
        "Prediction interval": "false", "CI/PI level": "95%",
        "Graph label (left)": f"Favours {label}",
        "Graph label (right)": "Favours control", "Show risk of bias": "false",
        "ID": f"analysis:{aid[0]}.{aid[1]}",
    })
    for c in ("Experimental cases", "Experimental N", "Control cases", "Control N", "Mean", "CI start",
              "CI end", "Heterogeneity Tau²", "Heterogeneity Chi²", "Heterogeneity df", "Heterogeneity P",
              "Heterogeneity I²", "Effect Z", "Effect P", "Subgroup Chi²", "Subgroup df", "Subgroup P",
              "Subgroup I²"):
        a[c] = np.nan  # no RevMan result is stored for our own data set
    return a


def _blank_row(aid, name, subgroup, study):
    row = {c: 0.0 for c in DATA_ROW_COLUMNS[7:23]}
    row.update({"Analysis group": float(aid[0]), "Analysis number": float(aid[1]), "Analysis name": name,
                "Subgroup": subgroup, "Applicability": "SUBGROUP_AND_OVERALL", "Study": study,
                "Study year": study.rsplit(" ", 1)[-1][:4], "Footnotes": ""})
    for c in ("Weight", "Mean", "CI start", "CI end"):
        row[c] = np.nan
    return row


def _prov(aid, study, column, value, arm_items, outcomes_lines, transformation):
    r = arm_items[0][0]
    return {"analysis": f"{aid[0]}.{aid[1]}", "study": study, "column": column, "value": value,
            "extraction_lines": " ".join(str(x) for x in outcomes_lines), "citation": r["citation"],
            "url": r["url"], "location": r["location"], "verbatim": r["verbatim"],
            "transformation": transformation}


def _package(pkg_id, analyses, rows, studies, excluded, status, used, info):
    overall = pd.DataFrame(analyses, columns=OVERALL_COLUMNS_OLD + OVERALL_NEW_EXTRA)
    data = pd.DataFrame(rows, columns=DATA_ROW_COLUMNS)
    sinfo, rob, included_ris = [], [], []
    seen = set()
    for _, s in studies:
        if s["eligible"] == "no" or s["study"] in seen:
            continue
        seen.add(s["study"])
        same = [k for k in info if k[0] == s["study"] and info[k]["eligible"] != "no"]
        contributed = [k[1] for k in same if used[k]]
        reasons = sorted({x for k in same for x in status[k]}) or sorted(
            {info[k]["reason"].strip() for k in same if info[k]["reason"].strip()})
        pooled = ("Contributes data to: " + ", ".join(contributed)) if contributed else "Not pooled"
        notes = f"{pooled}. " + ("Reasons: {" + " | ".join(reasons) + "}. " if reasons and not contributed else "")
        notes += f"Eligibility: {s['eligible']}. " + (s["notes"] or "")
        interventions = "; ".join(f"{info[k]['drug']} {info[k]['route']} {info[k]['dose']}".strip()
                                  + f" vs {info[k]['comparator']}" for k in same)
        sinfo.append({
            "Study": s["study"], "Year": s["study"].rsplit(" ", 1)[-1][:4], "Data source": "PUB",
            "Char: Methods": f"RCT, {s['design']}" + (f"; period used: {s['period_used']}" if s["design"] == "crossover" else "")
            + (f"; registration {s['registration']}" if s["registration"] else ""),
            "Char: Participants": f"{s['condition']} ({CONDITION_LABELS.get(s['condition_group'], 'Other chronic pain')}); "
            f"randomised: {s['n_randomised'] or 'not reported'}; country: {s['country'] or 'not reported'}",
            "Char: Interventions": interventions + (f"; duration {s['duration_days']} days" if s["duration_days"] else ""),
            "Char: Outcomes": "as extracted in data/extraction/outcomes.csv",
            "Char: Notes": notes.strip() + f" Source: {s['citation']} ({s['location']})",
        })
        rob.append({"Study": s["study"],
                    "Domain (judgement): Overall risk of bias (RoB 2)": "Not assessed",
                    "Domain (support): Overall risk of bias (RoB 2)":
                        "The review's RoB 2 judgements are not public; none was found for this trial, so none is given."})
        rec = {"TY": ["JOUR"], "NS": [s["study"]]}
        if s["citation"]:
            rec["T1"] = [s["citation"]]
        if s["pmid"]:
            rec["AN"] = [s["pmid"]]
        if s["doi"]:
            rec["DO"] = [s["doi"]]
        if s["url"]:
            rec["UR"] = [s["url"]]
        included_ris.append(rec)
    excluded_ris = [{"TY": ["JOUR"], "NS": [r["study"]], "N1": [r["reason"]]}
                    | ({"T1": [r["citation"]]} if r["citation"] else {}) | ({"UR": [r["url"]]} if r["url"] else {})
                    for _, r in excluded]
    return Package(pkg_id, overall, data, pd.DataFrame(columns=SUBGROUP_COLUMNS),
                   pd.DataFrame(sinfo, columns=["Study", "Year", "Data source", "Char: Methods",
                                                "Char: Participants", "Char: Interventions",
                                                "Char: Outcomes", "Char: Notes"]),
                   pd.DataFrame(rob), {"included": included_ris, "excluded": excluded_ris}, {})


def main(extraction, output) -> int:
    extraction, output = Path(extraction), Path(output)
    try:
        pkg, provenance, flow = build(extraction)
    except InputError as exc:
        return exc.report()
    tmp = output.with_name(output.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    pkg = Package(pkg.id, pkg.analyses, pkg.rows, pkg.subgroup_estimates, pkg.studies, pkg.risk_of_bias,
                  pkg.references, {"study-flow.csv": flow, "provenance.csv": provenance})
    write(pkg, tmp)
    if output.exists():
        shutil.rmtree(output)
    tmp.rename(output)  # never leave a half-written package in place
    n_rows = len(pkg.rows)
    print(f"wrote {output}: {len(pkg.analyses)} analyses, {n_rows} data rows, "
          f"{len(pkg.studies)} studies, {len(provenance)} provenance rows")
    return 0


def coverage_by_comparison(extraction, package_dir):
    """Per comparison: studies described, studies with pooled data, participants
    in pooled analyses, outcome rows extracted.  Used for data/README.md (a test
    checks that the README states these numbers)."""
    from .datapackage import read

    studies, outcomes, _, _, _ = read_extraction(extraction)
    pkg = read(package_dir)
    pooled, parts = {}, {}
    for _, r in pkg.rows.iterrows():
        code = COMPARISONS[int(r["Analysis group"]) - 1][0]
        pooled.setdefault(code, set()).add(r["Study"])
        n = int(r["Experimental N"] + r["Control N"])
        parts[(code, r["Study"])] = max(parts.get((code, r["Study"]), 0), n)
    rows = []
    for code, _name, label in COMPARISONS:
        described = {r["study"] for _, r in studies if r["comparison"] == code and r["eligible"] != "no"}
        n_out = sum(1 for _, r in outcomes if r["comparison"] == code)
        rows.append((label, len(described), len(pooled.get(code, ())),
                     sum(v for (c, _), v in parts.items() if c == code), n_out))
    return rows
