"""``reviewbook audit``: recompute every analysis of a package and compare with
RevMan's stored results.

For each analysis (and each stored subgroup estimate) the engine recomputes the
pooled estimate with the settings the package records (method, measure, model,
estimator, CI method, level) and compares it with the stored estimate, CI
limits and, where stored, heterogeneity (Tau², Chi², I²) and the Z statistic.

Tolerance: by default each stored number is allowed half a unit in its last
stored decimal (RevMan writes rounded values, e.g. ``0.896866``), plus 1e-12.
``--tolerance X`` sets one absolute tolerance instead.

Every stored per-study result is checked too: the estimate, its CI (ratio
scale for RR/OR/HR) and the weight, within the rounding of the stored values
(:func:`study_tolerances`).  In JSON each analysis has ``"studies":
{"checked", "matched", "mismatches": [{"study", "quantity", "stored",
"recomputed", "reason"}]}`` and the summary ``"studies_checked"`` and
``"studies_matched"``; the text table says ``m/n studies match``.  Every
mismatch has a ``reason``: one of the categories of :data:`REASONS` (found on
the Pairwise70 collection: a study RevMan left without a result, arms
exchanged, another measure, weights shifted by another row, a multi-arm
study's shared arm, REML's last digit), then words.  Every row that gives no
result is listed in ``"not_estimable": [{"study", "reason"}]`` with the
engine's reason (no numbers, no participants, SD 0, SE 0, V 0, events above N,
a missing value), as RevMan shows such a study.

Statuses: ``match``; ``mismatch``; ``no stored estimate`` (RevMan stored blank
or all-zero numbers, so there is nothing to compare: reported, never counted as
a match); ``not estimable`` (no study is estimable, e.g. no events in either
arm: reported as RevMan does, no error); ``not computable`` with the reason.
Exit 0 when everything that can be compared matches, 1 on any mismatch, 2 on
invalid input.
"""
from __future__ import annotations

import math
import sys

import numpy as np
from dataclasses import asdict, dataclass, field


from ..engine import dist
from ..engine.pooling import backtransform
from ..engine.report import dumps, fmt
from ..errors import ArgumentError, InputError
from . import analysis as an
from .load import read_any as read
from .names import study_key
from .infer import column_tolerance
from .schema import StoredEstimate


@dataclass(frozen=True)
class Comparison:
    quantity: str
    stored: float
    recomputed: float | None
    abs_diff: float | None
    tolerance: float
    ok: bool


@dataclass(frozen=True)
class AuditRow:
    id: str
    name: str
    k: int | None
    status: str
    reason: str = ""
    method: str = ""
    stored: dict | None = None
    recomputed: dict | None = None
    max_abs_diff: float | None = None
    comparisons: tuple = ()
    subgroups: tuple = field(default=())
    studies: dict = field(default_factory=lambda: {"checked": 0, "matched": 0, "mismatches": []})
    not_estimable: tuple = ()  # {"study", "reason"} of every row that gives no result


def decimals_tolerance(value: float) -> float:
    """Half a unit in the last decimal of ``value`` as stored (its shortest repr)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        mant, exp = text.lower().split("e")
        dec = len(mant.split(".")[1]) if "." in mant else 0
        return 0.5 * 10.0 ** (int(exp) - dec) + 1e-12
    dec = len(text.split(".")[1]) if "." in text else 0
    if text.endswith(".0"):
        dec = 0
    return 0.5 * 10.0 ** (-dec) + 1e-12


def _compare(name, stored, recomputed, tolerance):
    tol = tolerance if tolerance is not None else decimals_tolerance(stored)
    if recomputed is None:
        return Comparison(name, stored, None, None, tol, False)
    diff = abs(recomputed - stored)
    return Comparison(name, stored, recomputed, diff, tol, diff <= tol)


def _comparisons(stored: StoredEstimate, r, tolerance, *, heterogeneity=True):
    pairs = [("estimate", stored.estimate, r.estimate), ("ci_low", stored.ci_low, r.ci_low),
             ("ci_high", stored.ci_high, r.ci_high)]
    if heterogeneity:
        if stored.chi2 is not None:
            pairs.append(("chi2", stored.chi2, r.q))
        if stored.i2 is not None and r.i2 is not None:
            pairs.append(("i2", stored.i2, r.i2))
        if stored.tau2 is not None and r.tau2 is not None:
            pairs.append(("tau2", stored.tau2, r.tau2))
        if stored.z is not None:
            pairs.append(("z", stored.z, abs(r.stat)))
    return tuple(_compare(n, s, c, tolerance) for n, s, c in pairs if s is not None)


@dataclass(frozen=True)
class StudyCheck:
    """RevMan's stored per-study results of one analysis against ours."""

    checked: int
    matched: int
    mismatches: tuple  # of dicts: study, quantity, stored, recomputed

    def to_dict(self) -> dict:
        return {"checked": self.checked, "matched": self.matched, "mismatches": list(self.mismatches)}


def study_tolerances(pkg, tolerance=None) -> dict:
    """Absolute tolerance by stored per-study column: the rounding of the stored
    values (half a unit in the column's last stored decimal, see
    :func:`reviewbook.package.infer.column_tolerance`), or ``tolerance``."""
    cols = ("Mean", "CI start", "CI end", "Weight")
    if tolerance is not None:
        return dict.fromkeys(cols, tolerance)
    return {c: (column_tolerance(pkg.rows[c]) if c in pkg.rows.columns else 5e-7) for c in cols}


def check_studies(pkg, aid, res, tols) -> StudyCheck:
    """Every stored per-study ``Mean``, ``CI start``, ``CI end`` (ratio scale for
    ratio measures) and ``Weight`` of analysis ``aid`` against ``res``.

    A row counts as checked when RevMan stored a result for it, or when we
    estimate a study RevMan left blank although it stored results for other
    studies of the analysis (a disagreement about estimability).  Rows blank on
    both sides (not estimable) are not counted, nor analyses for which RevMan
    stored no per-study result at all (blank or all zero).  Each mismatch
    carries a ``reason``: a category of :data:`REASONS` and words
    (:func:`classify`).
    """
    rows = pkg.rows_of(aid)
    if "Mean" not in rows.columns:
        return StudyCheck(0, 0, ())
    stored_any = False
    for c in ("Mean", "CI start", "CI end", "Weight"):
        if c in rows.columns:
            v = rows[c].to_numpy(dtype=float)
            stored_any = stored_any or bool(((v == v) & (v != 0)).any())
    if not stored_any:
        # RevMan stored nothing for any study of this analysis (blank or all zero, as it
        # writes results it did not compute): there is nothing to check
        return StudyCheck(0, 0, ())
    est = {}
    if res.result is not None:
        z = dist.norm_ppf(0.5 + res.settings.study_level / 2)
        for label, st in zip((a["label"] for a in res.arms), res.result.studies):
            half = z * math.sqrt(st.vi)
            with np.errstate(over="ignore"):  # an overflowing ratio is compared as inf (a mismatch)
                est[label] = tuple(backtransform(res.result.measure, x) for x in (st.yi, st.yi - half, st.yi + half))
    weights = res.weights()
    checked = matched = 0
    per_row = []
    for i, (label, (_, row)) in enumerate(zip(res.labels, rows.iterrows())):
        stored = [None if not (row[c] == row[c]) else float(row[c]) for c in ("Mean", "CI start", "CI end")]
        w = row.get("Weight", float("nan"))
        w = None if not (w == w) or w == 0 else float(w)
        if all(v is None or v == 0 for v in stored) and w is None:
            stored = [None, None, None]
        ours = est.get(label)
        if stored[0] is None and ours is None:
            continue
        checked += 1
        bad = []
        if stored[0] is None or ours is None:
            bad.append({"study": label, "quantity": "estimate", "stored": stored[0],
                        "recomputed": None if ours is None else ours[0]})
        else:
            for q, sv, ov, col in zip(("estimate", "ci_low", "ci_high"), stored, ours, ("Mean", "CI start", "CI end")):
                if sv is not None and not _within(sv, ov, tols[col]):
                    bad.append({"study": label, "quantity": q, "stored": sv, "recomputed": ov})
            ow = weights.get(label)
            if w is not None and (ow is None or not _within(w, ow, tols["Weight"])):
                bad.append({"study": label, "quantity": "weight", "stored": w, "recomputed": ow})
        if bad:
            per_row.append((i, label, stored, ours, bad))
        else:
            matched += 1
    mismatches = []
    estimability = {i for i, _, stored, ours, _ in per_row if (stored[0] is None) != (ours is None)}
    for i, label, stored, ours, bad in per_row:
        reason = classify(pkg, aid, res, rows, i, stored, ours, bad, tols, estimability - {i})
        mismatches.extend(dict(m, reason=reason) for m in bad)
    return StudyCheck(checked, matched, tuple(mismatches))


#: Categories of a stored per-study result that is not reproduced (the ``reason``
#: of each mismatch starts with one), found on the Pairwise70 collection.
REASONS = {
    "revman-not-estimable": "RevMan stored no result for this study; its data give one here",
    "not-estimable-here": "RevMan stored a result; the data give none here",
    "swapped-arms": "the stored result is the study's with experimental and control arms exchanged",
    "other-measure": "the stored result is the study's under another effect measure or formula",
    "follows-other-row": "only the weight differs, because another study of the analysis is estimable on "
                         "one side only",
    "multi-arm-shared-control": "only the weight differs, in an analysis where a multi-arm study's shared "
                                "arm appears in several rows",
    "reml-iteration": "only the weight differs, by less than 1e-4 percentage points, under REML, whose "
                      "tau-squared RevMan finds by iteration: its solution and the exact maximum agree to about "
                      "6 significant digits",
    "weight-unexplained": "only the weight differs, for none of the reasons above",
    "estimate-unexplained": "the estimate or CI differs, for none of the reasons above",
}


def classify(pkg, aid, res, rows, i, stored, ours, bad, tols, others) -> str:
    """The reason one study's stored result is not reproduced: ``category: words``.

    ``rows`` are the analysis's rows, ``i`` the study's position, ``stored`` and
    ``ours`` (estimate, CI low, CI high) or None, ``bad`` its mismatches,
    ``others`` the positions of other rows whose estimability differs.
    """
    def say(cat, extra=""):
        return f"{cat}: {REASONS[cat]}" + (f" ({extra})" if extra else "")

    if stored[0] is None:
        return say("revman-not-estimable")
    if ours is None:
        why = dict(res.excluded).get(res.labels[i], "")
        return say("not-estimable-here", why.replace("not estimable: ", ""))
    if any(m["quantity"] != "weight" for m in bad):
        alt = _alternative(res.settings, rows.iloc[[i]], stored, tols)
        if alt is not None:
            return say(*alt)
        return say("estimate-unexplained")
    if others:
        return say("follows-other-row", ", ".join(res.labels[j] for j in sorted(others)))
    if _shares_an_arm(rows):
        return say("multi-arm-shared-control")
    diff = max(abs(m["stored"] - m["recomputed"]) for m in bad if m["recomputed"] is not None) if all(
        m["recomputed"] is not None for m in bad) else None
    if res.engine_method == "REML" and diff is not None and diff < 1e-4:
        return say("reml-iteration", f"largest difference {diff:.1e}")
    return say("weight-unexplained")


def _shares_an_arm(rows) -> bool:
    """Whether one study appears in several rows with the same control (or
    experimental) arm: a multi-arm study whose shared arm is counted again."""
    arm_cols = {"Control": ("Control cases", "Control N", "Control mean", "Control SD"),
                "Experimental": ("Experimental cases", "Experimental N", "Experimental mean", "Experimental SD")}
    study = rows["Study"].map(study_key)
    for cols in arm_cols.values():
        cols = [c for c in cols if c in rows.columns]
        key = study + "|" + rows[cols].astype(str).agg("|".join, axis=1) if cols else study
        if key.duplicated().any():
            return True
    return False


def _alternative(settings, row, stored, tols):
    """Another reading of one row that reproduces its stored estimate and CI:
    ``(category, words)`` or None.  Tried: the arms exchanged, and the other
    effect measures and formulas of the data type (with the arms as they are
    and exchanged), at the analysis's study CI level."""
    from . import infer as inf

    dtype = {"Contrast level": inf.GIV}.get(settings.data_type, settings.data_type)
    if dtype not in (inf.CONTINUOUS, inf.DICHOTOMOUS, inf.GIV, inf.OE):
        return None
    swapped = row.copy()
    if dtype in (inf.CONTINUOUS, inf.DICHOTOMOUS):
        for f in ("mean", "SD", "cases", "N"):
            swapped[f"Experimental {f}"], swapped[f"Control {f}"] = row[f"Control {f}"].values, row[f"Experimental {f}"].values
    else:
        for c in ("GIV Mean", "O-E"):
            if c in swapped.columns:
                swapped[c] = -row[c].values
    current = None
    variants = inf.variants_for(dtype) + inf.fallback_variants_for(dtype)
    for v in variants:
        if v.measure == settings.measure_code and v.swap == settings.swap_events and not v.peto and (
                dtype != inf.CONTINUOUS or v.measure != "SMD" or v.smd == settings.smd_formula):
            current = v
    tol = (tols["Mean"], tols["CI start"], tols["CI end"])
    for data, exchanged in ((swapped, True), (row, False)):
        for v in variants:
            if not exchanged and v == current:
                continue
            try:
                es = inf.study_effects(v, data.reset_index(drop=True), ("s",))
            except Exception:  # noqa: BLE001 - a reading that does not apply
                continue
            pred = inf.predicted_cis(es, settings.study_level, 1)[0]
            if all(sv is not None and p == p and abs(sv - p) <= t + 1e-9 * abs(sv)
                   for sv, p, t in zip(stored, pred, tol)):
                if exchanged and v == current:
                    return ("swapped-arms", "")
                words = v.label + (", arms exchanged" if exchanged else "")
                return ("other-measure", words)
    return None


def _within(stored, ours, tol) -> bool:
    return abs(stored - ours) <= tol + 1e-9 * abs(stored)


def _summary(r):
    return {"estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "tau2": r.tau2,
            "chi2": r.q, "i2": r.i2, "z": abs(r.stat), "p": r.p}


def audit_package(pkg, tolerance=None):
    """Audit rows for every analysis of ``pkg`` (a :class:`Package`)."""
    out = []
    tols = study_tolerances(pkg, tolerance)
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        stored = s.stored
        st = {"estimate": stored.estimate, "ci_low": stored.ci_low, "ci_high": stored.ci_high,
              "tau2": stored.tau2, "chi2": stored.chi2, "i2": stored.i2, "z": stored.z, "p": stored.p}
        try:
            with np.errstate(over="ignore"):  # a ratio beyond float range is shown as inf, not warned about
                res = an.run(pkg, aid)
        except an.NotComputable as exc:
            out.append(AuditRow(aid, s.name, len(pkg.rows_of(aid)) or None, "not computable", str(exc),
                                stored=st))
            continue
        studies = check_studies(pkg, aid, res, tols)
        r = res.result
        excluded = tuple({"study": a, "reason": b} for a, b in res.excluded)
        if r is None:
            ok = not studies.mismatches
            out.append(AuditRow(aid, s.name, 0, "not estimable" if ok else "mismatch",
                                "no study is estimable (" + "; ".join(f"{a}: {b}" for a, b in res.excluded)
                                + ")", res.engine_method, st, None, None, (), (), studies.to_dict(), excluded))
            continue
        subrows = []
        stored_sub = pkg.subgroups_of(aid)
        if res.subgroups is not None and not stored_sub.empty:
            by_name = dict(res.subgroups.groups)
            for _, row in stored_sub.iterrows():
                ss = StoredEstimate(*(None if row[c] != row[c] else float(row[c])
                                      for c in ("Mean", "CI start", "CI end")))
                mr = by_name.get(row["Subgroup"])
                if mr is None:
                    subrows.append({"subgroup": row["Subgroup"], "status": "not computable",
                                    "reason": "no estimable study in this subgroup"})
                elif ss.is_blank:
                    subrows.append({"subgroup": row["Subgroup"], "status": "no stored estimate"})
                else:
                    comps = _comparisons(ss, mr, tolerance, heterogeneity=False)
                    subrows.append({"subgroup": row["Subgroup"], "k": mr.k,
                                    "status": "match" if all(c.ok for c in comps) else "mismatch",
                                    "comparisons": [asdict(c) for c in comps]})
        if stored.is_blank:
            status = "mismatch" if studies.mismatches else "no stored estimate"
            out.append(AuditRow(aid, s.name, r.k, status,
                                "RevMan stored no pooled result for this analysis (blank or zero); "
                                "recomputed values are shown but not compared",
                                res.engine_method, st, _summary(r), None, (), tuple(subrows), studies.to_dict(),
                                excluded))
            continue
        comps = _comparisons(stored, r, tolerance)
        ok = (all(c.ok for c in comps) and all(x["status"] != "mismatch" for x in subrows)
              and not studies.mismatches)
        diffs = [c.abs_diff for c in comps if c.quantity in ("estimate", "ci_low", "ci_high")
                 and c.abs_diff is not None]
        out.append(AuditRow(aid, s.name, r.k, "match" if ok else "mismatch", "", res.engine_method, st,
                            _summary(r), max(diffs) if diffs else None, comps, tuple(subrows),
                            studies.to_dict(), excluded))
    return out


def _ci(d):
    if d is None or d.get("estimate") is None:
        return "n/a"
    return f"{fmt(d['estimate'], 4)} [{fmt(d['ci_low'], 4)}, {fmt(d['ci_high'], 4)}]"


def render(pkg_id, rows) -> str:
    lines = [f"Audit of package {pkg_id}: {len(rows)} analyses",
             f"{'id':<6} {'k':>3}  {'stored':<28} {'recomputed':<28} {'max |diff|':>10}  status"]
    for r in rows:
        diff = "" if r.max_abs_diff is None else f"{r.max_abs_diff:.2e}"
        stored = _ci(r.stored) if r.status != "no stored estimate" else "(blank)"
        lines.append(f"{r.id:<6} {r.k if r.k is not None else '':>3}  {stored:<28} {_ci(r.recomputed):<28} "
                     f"{diff:>10}  {r.status}")
        lines.append(f"       {r.name}" + (f" [{r.method}]" if r.method else ""))
        st = r.studies
        if st["checked"] or st["mismatches"]:
            lines.append(f"       {st['matched']}/{st['checked']} studies match")
        for m in st["mismatches"]:
            lines.append(f"       study {m['study']}, {m['quantity']}: stored {m['stored']}, "
                         f"recomputed {m['recomputed']}" + (f"; {m['reason']}" if m.get("reason") else ""))
        if r.status != "not estimable":
            for x in r.not_estimable:
                lines.append(f"       study {x['study']}: {x['reason']}")
        if r.reason:
            lines.append(f"       reason: {r.reason}")
        for c in r.comparisons:
            if not c.ok:
                lines.append(f"       {c.quantity}: stored {c.stored}, recomputed {c.recomputed} "
                             f"(|diff| {c.abs_diff}, tolerance {c.tolerance:.1e})")
        for sg in r.subgroups:
            lines.append(f"       subgroup {sg['subgroup']}: {sg['status']}")
    counts = _counts(rows)
    lines.append("Summary: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                 + f"; {_studies_total(rows, 'matched')}/{_studies_total(rows, 'checked')} "
                   "stored per-study results match")
    return "\n".join(lines)


def _counts(rows) -> dict:
    counts = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def _studies_total(rows, key) -> int:
    return sum(r.studies[key] for r in rows)


def run_audit(path, *, as_json=False, tolerance=None) -> int:
    if tolerance is not None and not tolerance > 0:
        print("error: --tolerance must be > 0", file=sys.stderr)
        return 2
    try:
        pkg = read(path)
        rows = audit_package(pkg, tolerance)
    except InputError as exc:
        return exc.report()
    except ArgumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for w in pkg.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if as_json:


        counts = _counts(rows)
        counts["studies_checked"] = _studies_total(rows, "checked")
        counts["studies_matched"] = _studies_total(rows, "matched")
        print(dumps({"package": pkg.id, "format": pkg.source_format,
                     "tolerance": tolerance if tolerance is not None else "rounding of stored values",
                     "analyses": [asdict(r) for r in rows], "summary": counts}))
    else:
        print(render(pkg.id, rows))
    return 1 if any(r.status == "mismatch" for r in rows) else 0
