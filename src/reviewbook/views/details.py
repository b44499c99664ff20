"""The answer on top: key findings as a reader scans them (MAGICapp's
multilayer format and the Cochrane Library's key messages put the answer first
and the detail a click below, in :class:`~reviewbook.views.tables.Dropdown`)."""
from __future__ import annotations

from .tables import Markup, escape


def _md(text) -> str:
    """Text escaped; :class:`~reviewbook.views.tables.Markup` (trusted Markdown
    the book assembled from escaped text) as it is."""
    return str(text) if isinstance(text, Markup) else escape(text)


def _plain(text) -> str:
    return text.text if isinstance(text, Markup) else str(text)


def _strong(text) -> str:
    """``text`` in bold, its outer spaces outside the markers (CommonMark closes
    ``**`` only after a non-space: ``**Setting: **`` would show its asterisks)."""
    raw = str(text)
    core = raw.strip()
    if not core:
        return _md(text)
    lead, trail = raw[:len(raw) - len(raw.lstrip())], raw[len(raw.rstrip()):]
    inner = Markup(core, core) if isinstance(text, Markup) else core
    return f"{lead}**{_md(inner)}**{trail}"


class Findings:
    """Key findings as a reader scans them: a bold heading per comparison, its
    bottom line (optional), one bullet per outcome (escaped text, or
    :class:`~reviewbook.views.tables.Markup`, with ``strong`` parts shown in
    bold), and a closing line.  ``groups``: (heading, [[(text, strong), ...],
    ...], closing[, bottom line])."""

    def __init__(self, groups, *, name: str | None = None):
        self.groups, self.name = [tuple(g) + ("",) * (4 - len(g)) for g in groups], name

    def _repr_markdown_(self):
        out = []
        if self.name:
            out.append(f"({self.name})=\n")
        for heading, bullets, closing, bottom in self.groups:
            out.append(f"**{_md(heading)}**\n")
            if bottom:
                out.append(f"{_md(bottom)}\n")
            for parts in bullets:
                out.append("- " + "".join(_strong(t) if strong else _md(t) for t, strong in parts))
            if closing:
                out.append(f"\n{_md(closing)}")
            out.append("")
        return "\n".join(out) + "\n"

    def __repr__(self):
        lines = []
        for heading, bullets, closing, bottom in self.groups:
            lines.append(_plain(heading))
            if bottom:
                lines.append(_plain(bottom))
            lines += ["- " + "".join(_plain(t) for t, _ in parts) for parts in bullets]
            if closing:
                lines.append(_plain(closing))
            lines.append("")
        return "\n".join(lines).rstrip()


class Block:
    """A block of trusted Markdown the book assembles itself from escaped text
    (e.g. the landing page's version statement), with its plain-text form."""

    def __init__(self, markdown: str, text: str):
        self.markdown, self.text = markdown, text

    def _repr_markdown_(self):
        return self.markdown.rstrip() + "\n"

    def __repr__(self):
        return self.text


class Notes:
    """Keyed notes (footnotes of a table), as the notes under a
    :class:`~reviewbook.views.tables.Table` are written, for use apart from it
    (e.g. folded in a :class:`~reviewbook.views.tables.Dropdown`)."""

    def __init__(self, notes):
        self.notes = [(str(k), str(t)) for k, t in notes]

    def _repr_markdown_(self):
        from .tables import linked

        return "\n".join(f"- **{escape(k)}**: {linked(t)}" for k, t in self.notes) + "\n"

    def __repr__(self):
        return "\n".join(f"{k}: {t}" for k, t in self.notes)
