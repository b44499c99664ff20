"""Trial sequential analysis figure: the cumulative z-curve against the
O'Brien-Fleming monitoring boundaries over the required information size."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..engine.report import fmt  # noqa: E402
from .style import COLORS, apply_style, plain  # noqa: E402


def tsa_plot(accrued, z, labels, boundary_n, boundary_z, ris, *, title=None,
             ylabel="Cumulative z (negative: lower values with the experimental intervention)", futility=None):
    """``accrued``/``z``: cumulative participants and z after each study (in
    order); ``boundary_n``/``boundary_z``: the monitoring boundary at the
    actual looks and at further looks up to the required information size
    (participants, critical z); ``ris``: the diversity-adjusted required
    information size; ``futility``: the inner-wedge (futility) boundary at the
    same looks, or None.  ``ylabel`` says which side is which (from the
    direction of benefit)."""
    import textwrap

    apply_style()
    fig, ax = plt.subplots(figsize=(8.0, 5.2))
    accrued = np.asarray(accrued, float)
    z = np.asarray(z, float)
    xmax = max(float(ris) if np.isfinite(ris) else 0.0, float(accrued.max())) * 1.08
    ax.axhline(0, color="0.3", lw=0.7)
    for i, s in enumerate((1.96, -1.96)):
        ax.axhline(s, color="0.55", lw=0.8, ls=":", label="Conventional z = ±1.96" if i == 0 else None)
    bn, bz = np.asarray(boundary_n, float), np.asarray(boundary_z, float)
    ax.plot(bn, bz, color=COLORS["accent"], lw=1.4, marker="o", ms=3, label="O'Brien-Fleming boundary")
    ax.plot(bn, -bz, color=COLORS["accent"], lw=1.4, marker="o", ms=3)
    if futility is not None:
        fz = np.asarray(futility, float)
        ok = np.isfinite(fz)
        if ok.any():
            ax.plot(bn[ok], fz[ok], color="0.35", lw=1.1, ls="--", label="Futility boundary (non-binding)")
            ax.plot(bn[ok], -fz[ok], color="0.35", lw=1.1, ls="--")
    ax.plot(np.concatenate([[0], accrued]), np.concatenate([[0], z]), color=COLORS["study"], lw=1.6,
            marker="s", ms=4, label="Cumulative z-curve")
    # studies are numbered on the curve (names would overlap where studies are small)
    # and named in a key under the plot
    for i, (x, y) in enumerate(zip(accrued, z), start=1):
        ax.annotate(str(i), (x, y), textcoords="offset points", xytext=(0, 7), ha="center",
                    fontsize=7, color="0.25")
    key = "; ".join(f"{i} {plain(lab, 40)}" for i, lab in enumerate(labels, start=1))
    if np.isfinite(ris):
        ax.axvline(ris, color="0.2", lw=1.0, ls="--", label=f"Required information size ({int(fmt(ris, 0)):,})")
    ax.axvline(accrued[-1], color=COLORS["study"], lw=0.8, ls="-.", label=f"Accrued ({fmt(accrued[-1], 0)})")
    # boundaries above |z| = 8 at the first looks are cut off, as TSA software does
    top = max(6.0, float(np.nanmax(np.abs(z))) + 1, float(np.nanmax(bz[np.isfinite(bz)])) + 0.5
              if np.isfinite(bz).any() else 6.0)
    top = min(top, max(8.0, float(np.nanmax(np.abs(z))) + 1))
    ax.set_ylim(-top, top)
    ax.set_xlim(0, xmax)
    ax.set_xlabel("Cumulative participants (information)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(plain(title), fontsize=10)
    lines = textwrap.wrap("Studies in order: " + key, 125)
    # a fixed layout in inches (the labels are of known size): saved without a tight
    # bounding box, the figure is drawn once instead of three times
    h = 5.0 + 0.12 * len(lines)
    fig.set_size_inches(8.0, h)
    key_top = 0.12 + 0.12 * len(lines)
    legend_y = key_top + 0.08
    fig.subplots_adjust(left=0.085, right=0.98, top=1 - 0.35 / h, bottom=(legend_y + 0.4 + 0.5) / h)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="lower center", bbox_to_anchor=(0.5, legend_y / h),
               ncol=3, frameon=False)
    fig.text(0.02, 0.1 / h, "\n".join(lines), fontsize=7, color="0.25", va="bottom")
    return fig
