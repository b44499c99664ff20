"""Stage 5: publishing.  The executed notebooks kept in the cache, then the new site
swapped into place by renames (the old site stays until the new one is complete) and
the build's results, pages and state recorded, with SIGTERM held so that the swap and
what records it are never cut in two."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import quick
from .base import Paths, log
from .execute import Ran, store
from .plan import Plan

#: Set (non-empty) once a build of this process has published its site.
PUBLISHED: list = []


def publish(paths: Paths, plan: Plan, staging: Path, ran: Ran, html: Path) -> Path:
    """Cache the executed notebooks, swap the site ``html`` into ``paths.site`` and record
    the state of this build (and the site's ``results.json`` beside it, for the next build's
    comparison); returns the published site's index page."""
    from ...package.lock import sigterm_held

    store(paths, plan, staging, ran.todo)
    log("[5/5] publishing the new site")
    with sigterm_held():  # the two renames of the swap, and what records them, are never cut in two
        _swap(html, paths.site)
        PUBLISHED.append(paths.site)
        shutil.copy2(paths.site / "results.json", paths.build / "results.json")  # written once, by site.make
        shutil.copy2(paths.work / "src" / "_toc.yml", paths.build / "toc.yml")  # the published site's pages (for the PDF)
        paths.state.write_text(json.dumps({"key": plan.total_key, "package": plan.pkg.id,
                                           "title": plan.review.title, "seconds": ran.seconds,
                                           "citation": plan.review.citation, quick.RECORD: plan.inputs},
                                          indent=2))
    return paths.site / "index.html"


def _swap(new: Path, target: Path) -> None:
    """Replace ``target`` with ``new`` by renames (the old site stays until the new one is complete)."""
    backup = target.with_name(target.name + ".old")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        target.rename(backup)
    shutil.move(str(new), str(target))
    if backup.exists():
        shutil.rmtree(backup)
