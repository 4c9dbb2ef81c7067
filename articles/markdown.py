"""Markdown to safe HTML, run once when an editor saves, never per request."""

import markdown
import nh3

MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "smarty", "toc"]
# baselevel 2: an editor's `#` heading becomes h2, because the page title is the only h1.
MARKDOWN_CONFIG = {"toc": {"baselevel": 2}}

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


def render_markdown(text):
    """Render editor Markdown to HTML and sanitize it.

    Editors are trusted to write, not to run code in readers' browsers: scripts,
    event handlers, styles and javascript: links are removed whatever the source.
    """
    html = markdown.markdown(
        text or "",
        extensions=MARKDOWN_EXTENSIONS,
        extension_configs=MARKDOWN_CONFIG,
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
