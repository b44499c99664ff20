"""The prose of a review file is data, never markup: a whitelist of inline Markdown.

A review file's text (``question``, ``data``, ``citation``, a section's
``intro``, an outcome rule's ``direction_source``, ...) is pasted into the
book's pages, which MyST renders.  Left unchecked, that text could pull a file
into the site (``{include}``, ``{literalinclude}``, a link or image to a local
file), run script (raw HTML, ``{eval-rst}``/``{raw}``), or reach the
substitution templates.  So each text is parsed with the MyST parser the book
uses (markdown-it-py with the book's extensions) and every token must be one of

* plain text, soft and hard line breaks, paragraphs (blank lines);
* emphasis and strong emphasis (``*text*``, ``**text**``);
* links whose target is an ``http://`` or ``https://`` address, inline or as
  ``<https://...>``, or a DOI (``[text](doi:10.1002/...)``, ``<doi:10.1002/...>``;
  :func:`with_doi_links` makes it a link to ``https://doi.org/...``);
* the book's own roles: ``{ref}`` to one of the book's labels (``sec-...``,
  ``tbl-...``, ``fig-...``: lower-case letters, digits, ``-`` and ``_``, with an
  optional title ``{ref}`text <sec-x>```), and ``{glue}``/``{glue:text}`` of a
  value glued by one of the book's own notebooks
  (``sections/<page>.ipynb::<name>[:<format>]``).

Anything else (directives and colon fences, other roles, raw HTML of any tag,
images, code, math, substitutions ``{{ }}``, targets ``(label)=``, headings,
lists, tables, link definitions to files) is refused, naming the field and its
line in the YAML file.
"""
from __future__ import annotations

import functools
import re

#: Link targets allowed in review-file prose.
LINK = re.compile(r"https?://[^\s<>\"'`\\]+", re.ASCII)
#: A label of the book (``{ref}`` target).
LABEL = r"[a-z0-9][a-z0-9_-]{0,80}"
REF = re.compile(rf"(?:{LABEL}|[^`<>{{}}\n]{{1,200}} <{LABEL}>)", re.ASCII)
#: A glued value of one of the book's own notebooks, with an optional format spec.
GLUE = re.compile(r"(?:(?:sections/)?[a-z0-9_]{1,60}\.ipynb::)?[A-Za-z_][A-Za-z0-9_]{0,80}(?::[A-Za-z0-9.,%+-]{0,12})?",
                  re.ASCII)
ROLES = {"ref": REF, "glue": GLUE, "glue:text": GLUE}
BLOCK = {"paragraph_open", "paragraph_close", "inline"}
INLINE = {"text", "text_special", "softbreak", "hardbreak", "em_open", "em_close", "strong_open", "strong_close",
          "link_close", "link_open", "myst_role"}
#: What the messages say is allowed.
ALLOWED = ("text with *emphasis*, **strong**, links to http(s) addresses or DOIs, {ref} to a label of the book and "
           "{glue:text} of the book's own notebooks (directives, other roles, raw HTML, images, code, math, "
           "substitutions and targets are not allowed)")

#: What a refused token is, in words.
_WORDS = {
    "fence": "a fenced block or directive", "colon_fence": "a ':::' directive", "html_block": "raw HTML",
    "html_inline": "raw HTML", "image": "an image", "code_inline": "code", "code_block": "an indented code block",
    "math_inline": "math", "math_block": "math", "math_inline_double": "math", "math_block_label": "math",
    "substitution_inline": "a substitution", "substitution_block": "a substitution", "myst_target": "a target",
    "myst_line_comment": "a comment", "myst_block_break": "a block break", "heading_open": "a heading",
    "bullet_list_open": "a list", "ordered_list_open": "a list", "table_open": "a table",
    "blockquote_open": "a block quote", "hr": "a rule", "footnote_ref": "a footnote",
    "dl_open": "a definition list", "front_matter": "front matter",
}


#: A DOI link target (``doi:10.<registrant>/<suffix>``), inline or as an autolink.
_DOI_INLINE = re.compile(r"\]\(doi:(10\.\d{4,9}/[^\s()<>\[\]]+)\)")
_DOI_AUTO = re.compile(r"<doi:(10\.\d{4,9}/[^\s()<>\[\]]+)>")


def with_doi_links(text: str) -> str:
    """``text`` with each DOI link target made an https://doi.org address (Sphinx
    knows no ``doi:`` scheme); nothing else is changed."""
    text = _DOI_INLINE.sub(lambda m: f"](https://doi.org/{m.group(1)})", str(text))
    return _DOI_AUTO.sub(lambda m: f"[doi:{m.group(1)}](https://doi.org/{m.group(1)})", text)


@functools.lru_cache(maxsize=1)
def _parser():
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    # the extensions of _config.yml (parse.myst_enable_extensions): whatever they can make is seen
    config = MdParserConfig(enable_extensions={"colon_fence", "deflist", "substitution", "dollarmath"})
    return create_md_parser(config, RendererHTML)


def _snippet(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def refusal(text: str) -> str | None:
    """None when ``text`` keeps to the whitelist; else what was found, in words,
    with the offending piece (for a located message)."""
    if not text or not str(text).strip():
        return None
    tokens = _parser().parse(str(text))
    for tok in tokens:
        if tok.type not in BLOCK:
            what = _WORDS.get(tok.type, f"markup ({tok.type})")
            if tok.type == "fence" and tok.info.strip().startswith("{"):
                what = f"the directive {tok.info.strip().split()[0]}"
            elif tok.type == "colon_fence":
                what = f"the directive ':::{tok.info.strip()}'"
            piece = tok.content or tok.info or tok.markup
            return f"{what} ('{_snippet(piece)}')"
        for child in tok.children or ():
            if child.type not in INLINE:
                what = _WORDS.get(child.type, f"markup ({child.type})")
                piece = child.content or child.attrs.get("src", "") or child.markup
                return f"{what} ('{_snippet(piece)}')"
            if child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                if not LINK.fullmatch(href):
                    return f"a link to '{_snippet(href)}' (not an http(s) address or a DOI)"
            if child.type == "myst_role":
                name = child.meta.get("name", "")
                rule = ROLES.get(name)
                if rule is None:
                    return f"the role {{{name}}} ('{_snippet(child.content)}')"
                if not rule.fullmatch(child.content):
                    return f"{{{name}}}`{_snippet(child.content)}` (not a label or value of the book)"
    return None
