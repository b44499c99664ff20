"""The atlas page: one self-contained HTML file (no outside request).

:func:`html` takes the outcomes of :func:`reviewbook.package.atlas.run` (one
per review) and their totals and returns the page: the totals, the mismatch
categories with counts and example analysis ids, a plot of the share of stored
per-study results reproduced per review (inline SVG: one point per review
against its number of data rows, log scale), and a table of every review that
sorts on a click on any column header (a few lines of inline JavaScript; the
table reads fine without it).  Every text that comes from the data (review ids,
reasons, which may quote a file's cells) is HTML-escaped.
"""
from __future__ import annotations

import math
from html import escape

from ..package.atlas import percent

COLUMNS = ["review", "rows", "analyses", "studies_checked", "studies_matched", "analyses_mismatched",
           "status", "reason", "seconds"]
NUMERIC = {"rows", "analyses", "studies_checked", "studies_matched", "analyses_mismatched", "seconds"}
COLOURS = {"ok": "#1b7837", "mismatch": "#d95f02", "refused": "#b2182b"}

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#222;max-width:80rem}
table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0;user-select:none}
th.num,td.num{text-align:right}
td.reason{max-width:40rem;word-break:break-word}
.ok{color:#1b7837}.mismatch{color:#d95f02}.refused{color:#b2182b}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{font-weight:600}
"""

_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = th.classList.contains('num');
    var dir = th.dataset.dir === 'asc' ? -1 : 1;
    table.querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
    th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      if (numeric) { x = parseFloat(x); y = parseFloat(y);
        if (isNaN(x)) x = -Infinity; if (isNaN(y)) y = -Infinity; return dir * (x - y); }
      return dir * x.localeCompare(y);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


def _rate(o):
    return o.studies_matched / o.studies_checked if o.studies_checked else None


def plot_svg(outcomes, width=760, height=300) -> str:
    """Inline SVG: per review, the share of stored per-study results reproduced
    (y, percent) against its data rows (x, log scale); refused reviews on a
    strip below the axis."""
    left, right, top, bottom = 60, 20, 20, 60
    pw, ph = width - left - right, height - top - bottom
    rows = [max(1, o.rows) for o in outcomes] or [1]
    lo, hi = math.log10(min(rows)), math.log10(max(rows))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    rates = [_rate(o) for o in outcomes]
    ymin = min([r for r in rates if r is not None] + [0.9])
    ymin = math.floor(ymin * 20) / 20  # a multiple of 5%

    def x(n):
        return left + pw * (math.log10(max(1, n)) - lo) / (hi - lo)

    def y(r):
        return top + ph * (1 - (r - ymin) / (1 - ymin)) if 1 - ymin > 0 else top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Share of stored per-study results reproduced, per review">',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    steps = 4
    for i in range(steps + 1):
        r = ymin + (1 - ymin) * i / steps
        yy = y(r)
        parts.append(f'<line x1="{left - 4}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" font-size="11" text-anchor="end">'
                     f'{100 * r:.1f}%</text>')
    for p in range(math.floor(lo), math.ceil(hi) + 1):
        if lo - 1e-9 <= p <= hi + 1e-9:
            xx = x(10 ** p)
            parts.append(f'<line x1="{xx:.1f}" y1="{top + ph}" x2="{xx:.1f}" y2="{top + ph + 4}" stroke="#999"/>')
            parts.append(f'<text x="{xx:.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle">'
                         f'{10 ** p:,}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 22}" font-size="12" text-anchor="middle">'
                 'data rows of the review (log scale)</text>')
    parts.append(f'<text x="14" y="{top + ph / 2:.1f}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + ph / 2:.1f})">stored results reproduced</text>')
    if any(o.status == "refused" or r is None for o, r in zip(outcomes, rates)):
        parts.append(f'<text x="{left}" y="{height - 4}" font-size="11" fill="{COLOURS["refused"]}">'
                     'refused reviews (and reviews with nothing to compare) are on the strip below the axis</text>')
    for o, r in zip(outcomes, rates):
        colour = COLOURS.get(o.status, "#555")
        tip = escape(f"{o.review}: {o.status}, {o.studies_matched}/{o.studies_checked} per-study results, "
                     f"{o.rows} rows")
        if o.status == "refused" or r is None:
            yy = top + ph + 30
        else:
            yy = y(r)
        parts.append(f'<circle cx="{x(o.rows):.1f}" cy="{yy:.1f}" r="3.5" fill="{colour}" fill-opacity="0.7">'
                     f'<title>{tip}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(col, value):
    cls = ' class="num"' if col in NUMERIC else (' class="reason"' if col == "reason" else "")
    if col == "status":
        cls = f' class="{escape(str(value))}"'
    return f'<td{cls} data-v="{escape(str(value))}">{escape(str(value))}</td>'


def html(outcomes, summary, title="Atlas of imported and audited reviews") -> str:
    """The atlas page (see the module docstring)."""
    facts = [
        ("reviews", f"{summary['reviews']} ({summary['ok']} ok, {summary['mismatch']} mismatch, "
                    f"{summary['refused']} refused)"),
        ("data rows", f"{summary['rows']:,}"),
        ("analyses", f"{summary['analyses']:,} ({summary['analyses_mismatched']:,} with a mismatch)"),
        ("stored per-study results reproduced",
         f"{summary['studies_matched']:,} of {summary['studies_checked']:,} "
         f"({percent(summary['studies_matched'], summary['studies_checked'])})"),
    ]
    if summary.get("wall_seconds") is not None:
        jobs = summary.get("jobs")
        how = (f"{jobs} process" + ("es" if jobs != 1 else "")) if jobs else "a Dask cluster"
        facts.append(("time", f"{summary['wall_seconds']:.1f} s wall on {how}; "
                              f"{summary['seconds_total']:.1f} s summed over reviews"))
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{escape(title)}</h1>", "<dl>"]
    out += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts]
    out.append("</dl>")
    cats = summary.get("mismatch_categories") or {}
    if cats:
        out.append("<h2>Stored per-study results not reproduced, by reason</h2>")
        out.append('<table><thead><tr><th>reason</th><th class="num">studies</th><th class="num">analyses</th>'
                   '<th class="num">reviews</th><th>examples (review:analysis)</th></tr></thead><tbody>')
        for k, v in cats.items():
            out.append(f"<tr><td>{escape(k)}</td><td class=\"num\">{v['studies']}</td>"
                       f"<td class=\"num\">{v['analyses']}</td><td class=\"num\">{v['reviews']}</td>"
                       f"<td>{escape(', '.join(v['examples']))}</td></tr>")
        out.append("</tbody></table>")
    out.append("<h2>Share of stored per-study results reproduced, per review</h2>")
    out.append(plot_svg(outcomes))
    out.append("<h2>Every review</h2><p>Click a column header to sort.</p>")
    num = ' class="num"'
    head = "".join(f"<th{num if c in NUMERIC else ''}>{escape(c)}</th>" for c in COLUMNS)
    out.append(f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>')
    for o in outcomes:
        r = o.row()
        out.append("<tr>" + "".join(_cell(c, r[c]) for c in COLUMNS) + "</tr>")
    out.append("</tbody></table>")
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"
