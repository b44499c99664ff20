"""One PDF of the whole book for journal submission (``make pdf``).

Prints the built site with Debian's chromium (driven by Playwright): a title
page with the data package id, the date and the software versions, then every
page of the book in table-of-contents order with its figures and tables, and
page numbers in the footer, every dropdown open.  Code cells (not shown on
the site) are left out.
Built offline: the pages load nothing from outside.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import sys
from pathlib import Path

import yaml

from .runner import BOOK, BUILD, SITE

CSS = """
@page { size: A4; margin: 18mm 15mm 20mm 15mm; }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; line-height: 1.35; color: #000; }
h1 { font-size: 17pt; page-break-before: always; margin-top: 0; }
h1.title { page-break-before: avoid; font-size: 22pt; margin-top: 60mm; }
h2 { font-size: 13pt; page-break-after: avoid; }
h3 { font-size: 11pt; page-break-after: avoid; }
table { border-collapse: collapse; font-size: 7.5pt; margin: 6pt 0; width: 100%; page-break-inside: auto; }
th, td { border: 0.4pt solid #999; padding: 2pt 3pt; text-align: left; vertical-align: top; }
tr { page-break-inside: avoid; }
figure, .figure { page-break-inside: avoid; margin: 6pt 0; }
img { max-width: 100%; }
figcaption, caption, .caption { font-size: 8.5pt; color: #333; }
.titlepage td { border: none; font-size: 10pt; padding: 2pt 8pt 2pt 0; }
a { color: #000; text-decoration: none; }
.admonition { border-left: 3pt solid #999; padding: 2pt 8pt; margin: 6pt 0; }
"""


def _pages():
    """The pages of the published site, in TOC order (the runner saves its TOC)."""
    path = BUILD / "toc.yml" if (BUILD / "toc.yml").exists() else BOOK / "_toc.yml"
    toc = yaml.safe_load(path.read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def _article(path: Path) -> str:
    text = path.read_text()
    m = re.search(r'<article class="bd-article">(.*?)</article>', text, re.S)
    body = m.group(1) if m else ""
    body = re.sub(r'<details class="[^"]*\bhide\b[^"]*">.*?</details>', "", body, flags=re.S)
    body = re.sub(r'<div class="cell_input[^"]*">.*?</div>\s*</div>', "", body, flags=re.S)
    body = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", body, flags=re.S)
    body = expand(body)
    base = path.parent

    def fix(mm):
        src = mm.group(1)
        if re.match(r"^[a-z]+:", src):
            return mm.group(0)
        return f'src="{(base / src).resolve().as_uri()}"'

    return re.sub(r'src="([^"]+)"', fix, body)


def expand(body: str) -> str:
    """Every detail shown, as printing the site shows it: each ``<details>``
    (the dropdowns) opened, and each figure shown as an SVG document
    (``<object>``, for its tooltips on screen) printed as an image."""
    body = re.sub(r"<details\b(?![^>]*\bopen\b)", "<details open", body)

    def image(m):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
        return f'<img src="{attrs.get("data", "")}" alt="{attrs.get("aria-label", "")}" style="width: 100%">'

    return re.sub(r'<object\b([^>]*type="image/svg\+xml"[^>]*)>.*?</object>', image, body, flags=re.S)


def versions() -> dict:
    from importlib.metadata import version

    out = {"Python": sys.version.split()[0]}
    for pkg in ("reviewbook", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "papermill", "jupyter-book",
                "myst-nb", "nbval"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            out[pkg] = "not installed"
    return out


def combined_html(site: Path, today: str) -> str:
    state = json.loads((site.parent / "state.json").read_text()) if (site.parent / "state.json").exists() else {}
    pkg_id = state.get("package", "unknown")
    rows = [("Data package", pkg_id), ("Date", today)] + [(k, v) for k, v in versions().items()]
    heading = state.get("title") or f"A reproducible appendix to the data package {pkg_id}"
    cite = state.get("citation") or ""
    cite = re.sub(r"\*([^*]+)\*", r"<i>\1</i>", html.escape(cite))  # the review file's Markdown italics
    title = (f"<h1 class='title'>{html.escape(heading)}</h1>" + (f"<p>{cite}</p>" if cite else "")
             + "<table class='titlepage'>"
             + "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
             + "</table>")
    parts = [title]
    for f in _pages():
        page = site / f"{f}.html"
        if page.exists():
            parts.append(f"<section>{_article(page)}</section>")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Appendix</title><style>{CSS}</style>"
            f"</head><body>{''.join(parts)}</body></html>")


def build_pdf(output: Path, site: Path = SITE) -> Path:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("Debian's chromium is needed to print the PDF (apt-get install chromium)")
    if not (site / "index.html").exists():
        raise RuntimeError("no built site: run `make book` first")
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()  # UTC, as every date the project writes
    tmp = site.parent / "appendix.html"
    tmp.write_text(combined_html(site, today))
    output.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(tmp.as_uri())
        page.wait_for_load_state("load")
        # every detail expanded: the collapsed layers of the site are printed open
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.pdf(path=str(output), format="A4", print_background=False, display_header_footer=True,
                 header_template="<span></span>",
                 footer_template="<div style='font-size:8px;width:100%;text-align:center;'>"
                                 "<span class='pageNumber'></span> / <span class='totalPages'></span></div>",
                 margin={"top": "18mm", "bottom": "20mm", "left": "15mm", "right": "15mm"})
        browser.close()
    tmp.unlink()
    return output


def main(output="book/_build/appendix.pdf") -> int:
    from .runner import ROOT

    out = Path(output)
    if not out.is_absolute():
        out = ROOT / out
    try:
        build_pdf(out)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"pdf: {out}")
    return 0
