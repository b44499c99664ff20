"""Reproduction: our numbers beside the review's.

* :func:`compare_published`: the review's published pooled estimates (the
  review file's ``published`` CSV, one row per analysis id) beside ours.
* :func:`study_results`: every stored per-study result of RevMan beside ours.
* :func:`compare_extractors`: a second, independent extraction of the same
  trials beside the review's data rows, value by value.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

from ..engine.report import fmt, fmt_effect
from ..package import analysis as an
from ..package import audit as au


def read_csv(path) -> list:
    """Rows (dicts) of a CSV file the review file names, such as its published
    estimates (``analysis`` names the analysis id) or the second extractor's map;
    ``[]`` when it names none.  Read as a regular file within the size bound of a
    package file (a pipe, device or folder is refused, :class:`InputError`)."""
    if path is None:
        return []
    import io

    from ..package.tabular import decode, read_bytes

    data = read_bytes(path, "a CSV file named by the review file")
    return list(csv.DictReader(io.StringIO(decode(data, Path(path).name), newline="")))


def _num(x):
    x = (x or "").strip()
    return float(x) if x else None


def _rounds_to(ours: float, published: float) -> bool:
    """Whether ``ours`` rounds to ``published`` at the decimals it is published with."""
    text = repr(published)
    dec = len(text.split(".")[1]) if "." in text and not text.endswith(".0") else 0
    return abs(round(ours, dec) - published) < 0.5 * 10 ** (-dec) + 1e-12


def compare_published(pkg, review, aids, settings) -> list:
    """Table rows: analysis, outcome, published, certainty, ours, studies, agreement."""
    rows = []
    ids = set(pkg.analysis_ids())
    for pub in read_csv(review.published):
        aid = pub.get("analysis", "").strip()
        if aid not in aids:
            continue
        est, lo, hi = _num(pub.get("estimate")), _num(pub.get("ci_low")), _num(pub.get("ci_high"))
        outcome = pub.get("analysis_name", "")
        published = (fmt_effect(pub["measure"], est, lo, hi) if est is not None
                     else (pub.get("note") or "not pooled"))
        certainty = pub.get("certainty") or "not reported"
        if aid not in ids:
            rows.append([aid, outcome, published, certainty, "no such analysis in this package", "", ""])
            continue
        ar = an.run(pkg, aid, **settings)
        r = ar.result
        if r is None:
            rows.append([aid, outcome, published, certainty, "Not estimable", "0", ""])
            continue
        agree = ""
        if est is not None:
            ok = all(_rounds_to(o, p) for o, p in ((r.estimate, est), (r.ci_low, lo), (r.ci_high, hi)))
            agree = ("reproduced to the published decimals" if ok else
                     f"differs: ours − published = {fmt(r.estimate - est)}")
        else:
            agree = f"the review did not pool this ({pub.get('note') or 'no pooled estimate'})"
        rows.append([aid, outcome, published, certainty, fmt_effect(r.measure, r.estimate, r.ci_low, r.ci_high, label=r.label),
                     f"{r.k} ({ar.participants} participants)", agree])
    return rows


def study_results(pkg) -> tuple:
    """Every stored per-study result beside ours: ``(rows, checked, matched)``."""
    tols = au.study_tolerances(pkg)
    out, checked, matched = [], 0, 0
    for aid in pkg.analysis_ids():
        try:
            res = an.run(pkg, aid)
        except an.NotComputable:
            continue
        chk = au.check_studies(pkg, aid, res, tols)
        checked += chk.checked
        matched += chk.matched
        bad = {(m["study"], m["quantity"]) for m in chk.mismatches}
        rows = pkg.rows_of(aid)
        ours = {}
        if res.result is not None:
            z = 1.959963984540054 if res.settings.study_level == 0.95 else _z(res.settings.study_level)
            for a, st in zip(res.arms, res.result.studies):
                half = z * math.sqrt(st.vi)
                from ..engine.pooling import backtransform

                ours[a["label"]] = tuple(backtransform(res.result.measure, v)
                                         for v in (st.yi, st.yi - half, st.yi + half))
        weights = res.weights()
        for label, (_, row) in zip(res.labels, rows.iterrows()):
            stored = [row.get(c) for c in ("Mean", "CI start", "CI end", "Weight")]
            stored = [None if v is None or v != v else float(v) for v in stored]
            o = ours.get(label)
            if stored[0] is None and o is None:
                out.append([aid, label, "Not estimable", "Not estimable", "", "", "agree (not estimable)"])
                continue
            s_txt = "blank" if stored[0] is None else f"{fmt(stored[0], 4)} [{fmt(stored[1], 4)}, {fmt(stored[2], 4)}]"
            o_txt = "Not estimable" if o is None else f"{fmt(o[0], 4)} [{fmt(o[1], 4)}, {fmt(o[2], 4)}]"
            w_s = "" if stored[3] is None else fmt(stored[3], 2)
            w_o = "" if label not in weights else fmt(weights[label], 2)
            status = "match" if not any(k[0] == label for k in bad) else \
                "differs: " + ", ".join(q for (lab, q) in sorted(bad) if lab == label)
            out.append([aid, label, s_txt, o_txt, w_s, w_o, status])
    return out, checked, matched


def _z(level):
    from ..engine.dist import norm_ppf

    return float(norm_ppf(0.5 + level / 2))


# ------------------------------------------------------------------ second extractor

ARM_VALUES = {"Continuous": ("Experimental mean", "Experimental SD", "Experimental N", "Control mean",
                             "Control SD", "Control N"),
              "Dichotomous": ("Experimental cases", "Experimental N", "Control cases", "Control N")}


def compare_extractors(pkg, other, mapping) -> list:
    """Value-by-value rows for every trial both packages have.

    ``mapping`` rows: ``independent_analysis, review_analysis, study, agreement_note``
    (the reason, in our words, for any difference).  Returns rows of
    ``study, our analysis, review analysis, column, ours, review's, agree, why``.
    """
    out = []
    for m in mapping:
        oa, ra, study = m["independent_analysis"], m["review_analysis"], m["study"]
        if oa not in other.analysis_ids() or ra not in pkg.analysis_ids():
            continue
        o_rows = other.rows_of(oa)
        r_rows = pkg.rows_of(ra)
        o = o_rows[o_rows["Study"] == study]
        r = r_rows[r_rows["Study"] == study]
        if o.empty or r.empty:
            continue
        dtype = pkg.analysis(ra).data_type
        for col in ARM_VALUES.get(dtype, ()):
            ov, rv_ = float(o.iloc[0][col]), float(r.iloc[0][col])
            agree = abs(ov - rv_) <= max(0.005, 1e-6 * abs(rv_))
            digits = 0 if col.endswith((" N", " cases")) else 2  # counts are whole numbers
            out.append([study, oa, ra, col, fmt(ov, digits), fmt(rv_, digits), "yes" if agree else "no",
                        "" if agree else m.get("why_different", "")])
    return out
