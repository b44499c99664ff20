"""'What changed': compare this build's results with the previous build's.

Reports studies added or removed, estimates that moved and by how much,
certainty that changed, analyses added or removed, and which notebooks were
re-executed.  The page is generated from the two results files; it states
numbers computed here, none typed.
"""
from __future__ import annotations

from ..engine.report import fmt
from ..views.tables import escape, md_table


def diff(current: dict, previous: dict | None) -> dict:
    if not previous:
        return {"first": True}
    cur, prev = current["analyses"], previous["analyses"]
    out = {"first": False, "added": sorted(set(cur) - set(prev)), "removed": sorted(set(prev) - set(cur)),
           "moved": [], "studies": [], "certainty": [], "conclusion": []}
    for aid in sorted(set(cur) & set(prev)):
        a, b = cur[aid], prev[aid]
        if a.get("status") != "computed" or b.get("status") != "computed":
            if a.get("status") != b.get("status"):
                out["moved"].append((aid, a["name"], b.get("status"), a.get("status"), None))
            continue
        for field in ("estimate", "ci_low", "ci_high"):
            if a[field] != b[field]:
                out["moved"].append((aid, a["name"], f"{fmt(b['estimate'])} [{fmt(b['ci_low'])}, {fmt(b['ci_high'])}]",
                                     f"{fmt(a['estimate'])} [{fmt(a['ci_low'])}, {fmt(a['ci_high'])}]",
                                     a["estimate"] - b["estimate"]))
                break
        added = sorted(set(a["studies"]) - set(b["studies"]))
        removed = sorted(set(b["studies"]) - set(a["studies"]))
        if added or removed:
            out["studies"].append((aid, a["name"], added, removed))
        if a.get("certainty") != b.get("certainty"):
            out["certainty"].append((aid, a["name"], b.get("certainty"), a.get("certainty")))
        null = 1.0 if a["measure"] in ("RR", "OR") else 0.0
        sig_a = not (a["ci_low"] <= null <= a["ci_high"])
        sig_b = not (b["ci_low"] <= null <= b["ci_high"])
        if sig_a != sig_b:
            out["conclusion"].append((aid, a["name"], "CI excluded no effect" if sig_b else "CI included no effect",
                                      "CI excludes no effect" if sig_a else "CI includes no effect"))
    return out


def render_markdown(payload: dict) -> str:
    d = diff(payload["current"], payload.get("previous"))
    lines = ["(sec-what-changed)=", "# What changed", ""]
    executed = payload.get("executed", [])
    cached = payload.get("cached", [])
    if d["first"]:
        lines += ["This is the first build with these results: there is nothing to compare with.", ""]
    else:
        n_changes = sum(len(d[k]) for k in ("added", "removed", "moved", "studies", "certainty", "conclusion"))
        if n_changes == 0:
            lines += ["No pooled estimate, study list or certainty changed since the previous build.", ""]
        if d["added"] or d["removed"]:
            rows = [[a, "added"] for a in d["added"]] + [[a, "removed"] for a in d["removed"]]
            lines.append(md_table(["Analysis", "Change"], rows, caption="Analyses added or removed.",
                                  label="tbl-changes-analyses"))
        if d["studies"]:
            rows = [[a, n, ", ".join(ad) or "none", ", ".join(rm) or "none"] for a, n, ad, rm in d["studies"]]
            lines.append(md_table(["Analysis", "Outcome", "Studies added", "Studies removed"], rows,
                                  caption="Studies added or removed.", label="tbl-changes-studies"))
        if d["moved"]:
            rows = [[a, n, str(old), str(new), "" if delta is None else fmt(delta, 3)]
                    for a, n, old, new, delta in d["moved"]]
            lines.append(md_table(["Analysis", "Outcome", "Previous", "Current", "Change in estimate"], rows,
                                  caption="Estimates that moved.", label="tbl-changes-moved"))
        if d["certainty"] or d["conclusion"]:
            rows = [[a, n, f"certainty {old} → {new}"] for a, n, old, new in d["certainty"]]
            rows += [[a, n, f"{old} → {new}"] for a, n, old, new in d["conclusion"]]
            lines.append(md_table(["Analysis", "Outcome", "Change"], rows,
                                  caption="Conclusions or certainty that changed.", label="tbl-changes-conclusions"))
    lines += ["## Notebooks", "",
              "Re-executed in this build: " + (escape(", ".join(executed)) if executed else "none") + ".", "",
              "Taken from the cache (template, parameters and data unchanged): "
              + (escape(", ".join(cached)) if cached else "none") + ".", ""]
    return "\n".join(lines)
