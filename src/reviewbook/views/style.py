"""One consistent style for every figure of the book, and safe text."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

COLORS = {"study": "#1f4e79", "subtotal": "#4a4a4a", "total": "#000000", "accent": "#c0392b"}

#: seaborn 0.13's "deep" palette (``seaborn.palettes.SEABORN_PALETTES["deep"]``): the colour cycle.
DEEP = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974",
        "#64B5CD")
#: The rcParams of seaborn 0.13's ``set_theme(context="paper", style="ticks", font="DejaVu Sans")``
#: (its ``plotting_context("paper")`` and ``axes_style("ticks")``), with the book's own settings last
#: (DPI, SVG hash salt, title and font size).  Written out, so that drawing a figure does not import
#: seaborn (which imports scipy.stats: over a second per kernel).  ``image.cmap`` is left as it is:
#: no figure of the book maps values to colours.
THEME = {
    "axes.axisbelow": True, "axes.edgecolor": ".15", "axes.facecolor": "white", "axes.grid": False,
    "axes.labelcolor": ".15", "axes.labelsize": 9.600000000000001, "axes.linewidth": 1.0,
    "axes.spines.bottom": True, "axes.spines.left": True, "axes.spines.right": True, "axes.spines.top": True,
    "figure.facecolor": "white", "font.family": ["DejaVu Sans"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "grid.color": ".8", "grid.linestyle": "-", "grid.linewidth": 0.8,
    "legend.fontsize": 8.8, "legend.title_fontsize": 9.600000000000001,
    "lines.linewidth": 1.2000000000000002, "lines.markersize": 4.800000000000001, "lines.solid_capstyle": "round",
    "patch.edgecolor": "w", "patch.force_edgecolor": True, "patch.linewidth": 0.8,
    "text.color": ".15",
    "xtick.bottom": True, "xtick.color": ".15", "xtick.direction": "out", "xtick.labelsize": 8.8,
    "xtick.major.size": 4.800000000000001, "xtick.major.width": 1.0, "xtick.minor.size": 3.2,
    "xtick.minor.width": 0.8, "xtick.top": False,
    "ytick.color": ".15", "ytick.direction": "out", "ytick.labelsize": 8.8, "ytick.left": True,
    "ytick.major.size": 4.800000000000001, "ytick.major.width": 1.0, "ytick.minor.size": 3.2,
    "ytick.minor.width": 0.8, "ytick.right": False,
    # the book's own
    "figure.dpi": 110, "savefig.dpi": 150, "svg.hashsalt": "reviewbook", "text.usetex": False,
    "axes.titlesize": 10, "font.size": 9,
}
#: seaborn's colour codes for the "deep" palette (``set_color_codes("deep")``): one-letter colours.
CODES = {"b": DEEP[0], "g": DEEP[2], "r": DEEP[3], "m": DEEP[4], "y": DEEP[8], "c": DEEP[9], "k": (0.1, 0.1, 0.1)}


def apply_style():
    """seaborn 'ticks' style at paper context, DejaVu Sans, fixed DPI (readable at print size):
    :data:`THEME`, the "deep" colour cycle and colour codes."""
    from cycler import cycler
    from matplotlib import colors

    matplotlib.rcParams.update(THEME)
    matplotlib.rcParams["axes.prop_cycle"] = cycler("color", [colors.to_rgb(c) for c in DEEP])
    for code, c in CODES.items():
        rgb = colors.to_rgb(c)
        colors.colorConverter.colors[code] = rgb
        colors.colorConverter.cache[code] = rgb


def plain(text, limit: int | None = None) -> str:
    """Text from a data package as plain text in matplotlib: '$' would start
    mathtext, so it is escaped; long labels are shortened with an ellipsis."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")
