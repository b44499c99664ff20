"""The answer on top: key findings as a reader scans them (MAGICapp's
multilayer format and the Cochrane Library's key messages put the answer first
and the detail a click below, in :class:`~reviewbook.views.tables.Dropdown`)."""
from __future__ import annotations

from .tables import escape


def _strong(text: str) -> str:
    """``text`` in bold, its outer spaces outside the markers (CommonMark closes
    ``**`` only after a non-space: ``**Setting: **`` would show its asterisks)."""
    core = text.strip()
    if not core:
        return escape(text)
    lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    return f"{lead}**{escape(core)}**{trail}"


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
                out.append("- " + "".join(_strong(t) if strong else escape(t) for t, strong in parts))
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
