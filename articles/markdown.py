"""Markdown to safe HTML, run once when an editor saves, never per request."""

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
    """Render editor Markdown to HTML and sanitize it.

    Editors are trusted to write, not to run code in readers' browsers: scripts,
    event handlers, styles and javascript: links are removed whatever the source.
    Headings get ids (`## Healing` -> `<h2 id="healing">`) so they can be linked.
    """
    html = markdown.markdown(
        text or "",
        extensions=["extra", "sane_lists", "smarty", "toc", SiteHeadingsExtension()],
        output_format="html",
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
