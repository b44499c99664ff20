"""Risk-of-bias figures in the style of robvis (McGuinness & Higgins 2021, Res
Synth Methods 12:55): a traffic-light plot (one row per study and set of
judgements, one column per RoB 2 domain) and a weighted-free summary bar plot
(the share of judgements per domain).  They take a tidy table of judgements
and draw nothing that is not in it: a judgement the package does not carry
is "Not reported", never imputed.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from .style import apply_style, plain  # noqa: E402

LEVELS = ("Low risk", "Some concerns", "High risk", "Not applicable", "Not reported")
COLOURS = {"Low risk": "#02C100", "Some concerns": "#E2DF07", "High risk": "#BF0000", "Not applicable": "#9fc5e8",
           "Not reported": "#cccccc"}
SYMBOLS = {"Low risk": "+", "Some concerns": "-", "High risk": "×", "Not applicable": "NA", "Not reported": "?"}
#: Short names of the RoB 2 domains (D1-D5 and Overall), by words in the domain name.
SHORT = (("randomi", "D1"), ("deviation", "D2"), ("missing", "D3"), ("measurement", "D4"),
         ("selection", "D5"), ("overall", "Overall"))


def short_name(domain: str) -> str:
    d = domain.lower()
    for word, code in SHORT:
        if word in d:
            return code
    return domain[:10]


def traffic_light(rows, domains):
    """``rows``: list of (label, {domain: judgement}); returns the Figure."""
    apply_style()
    n, m = len(rows), len(domains)
    fig = plt.figure(figsize=(2.6 + 0.75 * m, 0.9 + 0.34 * n + 1.3))
    ax = fig.add_axes([0.0, 0.0, 1.0, 1.0])
    ax.set_xlim(-3.6, m + 0.2)
    ax.set_ylim(-(n + 3.8), 1.4)
    ax.axis("off")
    for j, d in enumerate(domains):
        ax.text(j + 0.5, 0.5, short_name(d), ha="center", va="center", fontsize=9, fontweight="bold")
    for i, (label, judged) in enumerate(rows):
        y = -(i + 0.5)
        ax.text(-0.1, y, plain(label, 44), ha="right", va="center", fontsize=8)
        for j, d in enumerate(domains):
            level = judged.get(d) or "Not reported"
            ax.add_patch(Rectangle((j, y - 0.5), 1, 1, fill=False, lw=0.4, ec="0.6"))
            ax.plot([j + 0.5], [y], marker="o", markersize=17, color=COLOURS[level], lw=0)
            ax.text(j + 0.5, y, SYMBOLS[level], ha="center", va="center", fontsize=9, fontweight="bold",
                    color="black" if level != "High risk" else "white")
    legend_y = -(n + 1.0)
    keys = "; ".join(f"{short_name(d)}: {d}" for d in domains)
    for k, line in enumerate(_wrap(keys, 95)):
        ax.text(-3.5, legend_y - 0.6 * k, line, ha="left", va="center", fontsize=7, color="0.25")
    ax.text(-3.5, legend_y - 0.6 * (k + 1) - 0.3, "Judgement: " + ", ".join(f"{SYMBOLS[x]} {x}" for x in LEVELS),
            ha="left", va="center", fontsize=7, color="0.25")
    return fig


def summary_bars(rows, domains):
    """Share of each judgement per domain (unweighted), as robvis' summary plot."""
    apply_style()
    fig, ax = plt.subplots(figsize=(8.0, 0.55 * len(domains) + 1.4))
    for j, d in enumerate(reversed(domains)):
        counts = {lev: 0 for lev in LEVELS}
        for _, judged in rows:
            counts[judged.get(d) or "Not reported"] += 1
        total = sum(counts.values()) or 1
        left = 0.0
        for lev in LEVELS:
            share = 100.0 * counts[lev] / total
            if share:
                ax.barh(j, share, left=left, color=COLOURS[lev], edgecolor="white", height=0.7)
                if share >= 8:
                    ax.text(left + share / 2, j, f"{counts[lev]}", ha="center", va="center", fontsize=8)
            left += share
    ax.set_yticks(range(len(domains)))
    ax.set_yticklabels([plain(d, 60) for d in reversed(domains)], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of results judged (%)")
    handles = [Rectangle((0, 0), 1, 1, color=COLOURS[lev]) for lev in LEVELS]
    ax.legend(handles, LEVELS, ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.35, -0.28), frameon=False)
    fig.tight_layout()
    return fig


def _wrap(text, width):
    import textwrap

    return textwrap.wrap(text, width) or [""]
