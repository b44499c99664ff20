"""Layers: details a reader opens on demand (sphinx-design's ``dropdown``,
which Jupyter Book 1.x ships), as MAGICapp's multilayer format and GRADEpro's
interactive summary of findings put the answer on top and the detail a click
below.  Printing opens every block (``book/_static``'s print handler).
"""
from __future__ import annotations

import re

from .tables import escape

_FENCE = re.compile(r"^(:{3,})", re.M)


class Dropdown:
    """A collapsible block titled ``title`` holding ``parts`` (tables, figures,
    notes, other dropdowns); ``open``: shown expanded at first."""

    def __init__(self, title: str, parts, *, open: bool = False, name: str | None = None):
        self.title, self.parts, self.open, self.name = title, list(parts), open, name

    def _repr_markdown_(self):
        inner = "\n".join(p._repr_markdown_() for p in self.parts)
        depth = max([len(m.group(1)) for m in _FENCE.finditer(inner)] + [3]) + 1
        fence = ":" * depth
        opts = ":open:\n" if self.open else ""
        if self.name:
            opts += f":name: {self.name}\n"
        return f"{fence}{{dropdown}} {escape(self.title)}\n{opts}\n{inner}\n{fence}\n"

    def __repr__(self):
        body = "\n\n".join(repr(p) for p in self.parts)
        return f"[{self.title}]\n{body}"


class Findings:
    """Key findings as a reader scans them: a bold heading per comparison, one
    bullet per outcome (escaped text, with ``strong`` parts shown in bold), and a
    closing line.  ``groups``: (heading, [[(text, strong), ...], ...], closing)."""

    def __init__(self, groups, *, name: str | None = None):
        self.groups, self.name = list(groups), name

    def _repr_markdown_(self):
        out = []
        if self.name:
            out.append(f"({self.name})=\n")
        for heading, bullets, closing in self.groups:
            out.append(f"**{escape(heading)}**\n")
            for parts in bullets:
                out.append("- " + "".join(f"**{escape(t)}**" if strong else escape(t) for t, strong in parts))
            if closing:
                out.append(f"\n{escape(closing)}")
            out.append("")
        return "\n".join(out) + "\n"

    def __repr__(self):
        lines = []
        for heading, bullets, closing in self.groups:
            lines.append(heading)
            lines += ["- " + "".join(t for t, _ in parts) for parts in bullets]
            if closing:
                lines.append(closing)
            lines.append("")
        return "\n".join(lines).rstrip()
