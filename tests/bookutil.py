"""Helpers for the end-to-end tests: a clean copy of the repository, builds in
it, and a headless-browser check of the built site."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def clean_copy(dest: Path) -> Path:
    """The repository's files as git sees them (tracked + untracked, not ignored):
    no build output, caches or virtual environment."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    return dest


def dates_now() -> set:
    """Today's date in ISO form, in UTC and in local time: a date a program wrote during a
    test is among those read just before and just after it (a run may cross midnight)."""
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    return {now.date().isoformat(), now.astimezone().date().isoformat()}


def copy_built(repo: Path, dest: Path) -> Path:
    """A copy of a built clean copy (its site, the build's cache and state included), for
    a test that changes files without disturbing the shared build."""
    shutil.copytree(repo, dest, symlinks=True)
    return dest


def run_book(repo: Path, *args, timeout=600, **kw):
    """``python -m reviewbook book ...`` with the copy's own package on the path."""
    env = dict(os.environ, PYTHONPATH=str(repo / "src"))
    return subprocess.run([sys.executable, "-m", "reviewbook", "book", *map(str, args)], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=timeout, **kw)


def goto(page, url: str) -> None:
    """Open ``url`` and wait until it has loaded; a page with a meta refresh (index.html)
    is followed to where it sends the reader (read from the file itself), and that page's
    load is waited for."""
    import re as _re

    page.goto(url)
    page.wait_for_load_state("load")
    source = Path(unquote(urlparse(url).path))
    m = _re.search(r'<meta[^>]+http-equiv="refresh"[^>]+content="[^"]*url=([^"]+)"',
                   source.read_text(errors="replace"), _re.I) if source.is_file() else None
    if m:
        target = (source.parent / unquote(m.group(1).split("#")[0])).resolve().as_uri()
        page.wait_for_url(lambda u: u.split("#")[0] == target, timeout=20000)
        page.wait_for_load_state("load")


def browse(pages, site: Path):
    """Open each page from file:// in Debian's chromium (Playwright drives it).

    Returns a list of problems: outside requests, images that did not load,
    internal links to missing files, and JavaScript dialogs (e.g. from injected
    script)."""
    from playwright.sync_api import sync_playwright

    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page()
        requests, failed = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("dialog", lambda d: (problems.append(f"dialog opened: {d.message}"), d.dismiss()))
        for rel in pages:
            url = (site / rel).as_uri()
            requests.clear()
            failed.clear()
            goto(page, url)
            for u in requests:
                # blob: URLs hold data the page made itself (itables' offline loader), never a download
                if not u.startswith(("file:", "data:", "about:", "blob:")):
                    problems.append(f"{rel}: request to an outside host: {u}")
            for u in failed:
                problems.append(f"{rel}: failed to load {u}")
            for src, ok in page.eval_on_selector_all(
                    "img", "els => els.map(e => [e.src, e.complete && e.naturalWidth > 0])"):
                if not ok:
                    problems.append(f"{rel}: image did not load: {src}")
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                parsed = urlparse(href)
                if parsed.scheme == "file":
                    target = Path(unquote(parsed.path))
                    if not target.exists():
                        problems.append(f"{rel}: broken internal link: {href}")
        browser.close()
    return problems


def rendered_math(page_file: Path) -> int:
    """Number of equations MathJax rendered on a page opened from file://."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        page = browser.new_page()
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        # MathJax 3 typesets after loading: wait for its start-up promise, then count
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        n = page.evaluate("MathJax.startup.promise.then(() => document.querySelectorAll('mjx-container').length)")
        browser.close()
    return n


#: Words of working notes that must never reach a reader's page (issue #16).
WORKING_NOTE_WORDS = ("session", "corpus", "the lead", "NOT verified", "general knowledge")
#: Template markup that must never show as text on a built page.
TEMPLATE_MARKUP = ("{{", "}}", "{glue}", "{ref}")

_FIGURES_LOADED_JS = """() => Array.from(document.querySelectorAll('object[type="image/svg+xml"]'))
  .every(o => o.contentDocument && o.contentDocument.querySelector('svg'))"""

_MEASURE_JS = """() => {
  const doc = document.documentElement;
  const objects = Array.from(document.querySelectorAll('object[type="image/svg+xml"]'));
  const fonts = [];
  for (const o of objects) {
    const svg = o.contentDocument && o.contentDocument.querySelector('svg');
    if (!svg || !o.closest('figure')) continue;
    // the figure is drawn into the object's box (viewBox, preserveAspectRatio "meet"); the
    // box is what the reader sees, whatever the nested document last laid out
    const box = o.getBoundingClientRect(), vb = svg.viewBox && svg.viewBox.baseVal;
    const scale = vb && vb.width > 0 ? Math.min(box.width / vb.width, box.height / vb.height)
                                     : svg.getScreenCTM().a;
    let smallest = Infinity;
    for (const t of svg.querySelectorAll('text')) {
      const size = parseFloat(o.contentDocument.defaultView.getComputedStyle(t).fontSize);
      if (size > 0) smallest = Math.min(smallest, size * scale);
    }
    fonts.push([o.getAttribute('data'), smallest, o.getBoundingClientRect().width]);
  }
  // tables that scroll sideways in their own box: is their first data column (the second
  // cell of the first body row) in view, left of the box's right edge?
  const wide = [];
  for (const t of document.querySelectorAll('.bd-article table')) {
    const box = t.closest('.pst-scrollable-table-container, .dt-layout-table') || t.parentElement;
    const row = t.tBodies[0] && t.tBodies[0].rows[0];
    if (!row || box.scrollWidth <= box.clientWidth + 1 || !box.getClientRects().length) continue;
    const cell = row.cells[1] || row.cells[0];
    const b = box.getBoundingClientRect(), c = cell.getBoundingClientRect();
    wide.push([t.id || (t.querySelector('caption') || {}).innerText || '', c.left < b.right - 20]);
  }
  return {height: doc.scrollHeight, width: doc.scrollWidth, viewport: window.innerWidth,
          text: document.body.innerText, fonts: fonts, wide: wide};
}"""


def audit_site(pages, site: Path, shots: Path | None = None, widths=(1280, 390), axe=True, opened=True):
    """Open each page from file:// in Debian's chromium at each width (first
    as shown: dropdowns closed) and measure what a reader gets.

    Returns ``{page: {width: {"height", "scroll_width", "viewport", "text",
    "wide", "console", "fonts", "open_scroll_width", "axe"}}}``: the page's
    height and scroll width in CSS px and its visible text as first shown, its
    tables that scroll sideways (id, whether the first data column is in
    view) and the errors it logged to the console; then, with every dropdown
    opened (as printed), for each SVG figure document the smallest text size in
    CSS px as drawn (font size times the figure's scale on screen) and the
    figure's width, and the page's scroll width; and (at the first width)
    axe-core's violations with WCAG 2 A/AA tags.
    Screenshots of every page at every width go to ``shots`` (PNG).  ``axe=False`` leaves
    out axe-core and ``opened=False`` the second look with every dropdown open (no "axe",
    "fonts" or "open_scroll_width"), for a caller that checks neither."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    checker = Axe() if axe else None
    out = {}
    with sync_playwright() as p:
        # file access between files: the figure documents' text can be measured
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic", "--allow-file-access-from-files"])
        for width in widths:
            page = browser.new_page(viewport={"width": width, "height": 900})
            console = []
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console.append(str(e)))
            for rel in pages:
                console.clear()
                goto(page, (site / rel).as_uri())
                if page.evaluate("document.querySelector('table.reviewbook-sortable') !== null"):
                    page.wait_for_function("document.documentElement.dataset.reviewbookTables === 'ready'",
                                           timeout=20000)
                m = page.evaluate(_MEASURE_JS)
                entry = {"height": m["height"], "scroll_width": m["width"], "viewport": m["viewport"],
                         "text": m["text"], "wide": m["wide"], "console": list(console)}
                if width == widths[0] and checker is not None:
                    res = checker.run(page, options={"runOnly": {"type": "tag", "values": [
                        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, "resultTypes": ["violations"]})
                    entry["axe"] = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:5])
                                    for v in res.response["violations"]]
                if shots is not None:
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / f"{rel.replace('/', '_').removesuffix('.html')}-{width}.png"),
                                    full_page=True)
                if opened:
                    # every detail open, as printed: the figures inside the dropdowns are drawn now
                    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
                    page.wait_for_function(_FIGURES_LOADED_JS, timeout=20000)
                    m = page.evaluate(_MEASURE_JS)
                    entry["fonts"], entry["open_scroll_width"] = m["fonts"], m["width"]
                out.setdefault(rel, {})[width] = entry
            page.close()
        browser.close()
    return out


def leaves(obj):
    """The tables, figures and notes of an output, dropdowns and bundles opened."""
    for p in getattr(obj, "parts", None) or ():
        if hasattr(p, "parts"):
            yield from leaves(p)
        else:
            yield p
