"""The book's figure style, written out in reviewbook.views.style so that drawing a figure
does not import seaborn (and scipy.stats), is the style seaborn's theme gave."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib as mpl
if sys.argv[1] == "seaborn":
    import seaborn as sns
    # the call reviewbook.views.style.apply_style made before the theme was written out
    sns.set_theme(context="paper", style="ticks", font="DejaVu Sans",
                  rc={"figure.dpi": 110, "savefig.dpi": 150, "svg.hashsalt": "reviewbook",
                      "text.usetex": False, "axes.titlesize": 10, "font.size": 9})
else:
    from reviewbook.views.style import apply_style
    apply_style()
    assert "seaborn" not in sys.modules and "scipy.stats" not in sys.modules
rc = {k: repr(v) for k, v in mpl.rcParams.items() if k != "image.cmap"}
rc["colour codes"] = repr({c: mpl.colors.colorConverter.colors[c] for c in "bgrmyck"})
print(json.dumps(rc))
"""


def _rc(mode: str) -> dict:
    import json
    import os

    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def test_style_is_seaborns_ticks_paper_theme_without_importing_it():
    ours, theirs = _rc("ours"), _rc("seaborn")
    # every rcParam of matplotlib (all but image.cmap: seaborn's "rocket" colormap exists only
    # with seaborn imported, and no figure of the book maps values to colours) plus the colour codes
    assert len(theirs) > 300  # matplotlib 3.x has about 340 rcParams (matplotlib.rcParams.keys())
    assert ours.keys() == theirs.keys()
    assert [k for k in theirs if ours[k] != theirs[k]] == []
