"""Markdown to safe HTML, run once when an editor saves, never per request."""

from html import unescape

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "img", "ins", "kbd", "li", "ol", "p", "pre",
    "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "*": {"id"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


class DemoteTitleHeadings(Treeprocessor):
    """Turn `# Heading` into h2: the article's title is the page's only h1."""

    def run(self, root):
        for element in root.iter("h1"):
            element.tag = "h2"


class SiteHeadingsExtension(Extension):
    def extendMarkdown(self, md):
        # Before "toc" (priority 5) so heading ids are given to the final levels.
        md.treeprocessors.register(DemoteTitleHeadings(md), "demote_title_headings", 30)


def render_markdown(text):
    """Render editor Markdown to sanitized HTML (see `render_markdown_with_headings`)."""
    return render_markdown_with_headings(text)[0]


def render_markdown_with_headings(text):
    """Render editor Markdown to HTML, sanitize it, and list its section headings.

    Editors are trusted to write, not to run code in readers' browsers: scripts,
    event handlers, styles and javascript: links are removed whatever the source.
    Headings get ids (`## Healing` -> `<h2 id="healing">`) so they can be linked;
    the h2 headings are returned as [{"id": ..., "name": ...}] for a table of contents.
    """
    md = markdown.Markdown(
        extensions=["extra", "sane_lists", "smarty", "toc", SiteHeadingsExtension()],
        output_format="html",
    )
    html = md.convert(text or "")
    headings = [
        {"id": token["id"], "name": unescape(token["name"])}
        for token in flatten_toc(md.toc_tokens)
        if token["level"] == 2
    ]
    return sanitize(html), headings


def flatten_toc(tokens):
    for token in tokens:
        yield token
        yield from flatten_toc(token.get("children", []))


def sanitize(html):
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
