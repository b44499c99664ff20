"""One consistent style for every figure of the book, and safe text."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

COLORS = {"study": "#1f4e79", "subtotal": "#4a4a4a", "total": "#000000", "accent": "#c0392b"}


def apply_style():
    """seaborn 'ticks' style at paper context, DejaVu Sans, fixed DPI (readable at print size).

    seaborn (which imports scipy.stats, half a second) is imported here, when a
    figure is drawn, not when the book's modules are: a notebook whose figures
    all come from the figure cache never pays for it."""
    import seaborn as sns

    sns.set_theme(context="paper", style="ticks", font="DejaVu Sans",
                  rc={"figure.dpi": 110, "savefig.dpi": 150, "svg.hashsalt": "reviewbook",
                      "text.usetex": False, "axes.titlesize": 10, "font.size": 9})


def plain(text, limit: int | None = None) -> str:
    """Text from a data package as plain text in matplotlib: '$' would start
    mathtext, so it is escaped; long labels are shortened with an ellipsis."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")
