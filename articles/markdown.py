"""Markdown to safe HTML, run once when an editor saves, never per request."""

import logging
import re
import secrets
from html import unescape

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "ins",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "*": {"id"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

logger = logging.getLogger(__name__)

# An image of the library as Markdown writes it: <img alt="..." src="image:12" />.
LIBRARY_IMG = re.compile(r'<img\b[^>]*?\bsrc="image:([^"]*)"[^>]*>')
ALT = re.compile(r'\balt="([^"]*)"')


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
    html, embedded = mark_library_images(md.convert(text or ""))
    headings = [
        {"id": token["id"], "name": unescape(token["name"])}
        for token in flatten_toc(md.toc_tokens)
        if token["level"] == 2
    ]
    return embed_library_images(sanitize(html), embedded), headings


def mark_library_images(html):
    """Put a marker that sanitizing keeps in place of each ![alt](image:ID): the markup that
    shows the image is the site's own, added after the editor's HTML is sanitized. The
    markers hold a random word, so that no text typed by an editor can be one."""
    nonce = secrets.token_hex(8)
    embedded = {}

    def mark(match):
        marker = f"libraryimage{nonce}n{len(embedded)}"
        alt = ALT.search(match.group(0))
        embedded[marker] = (match.group(1), unescape(alt.group(1)) if alt else "")
        return marker

    return LIBRARY_IMG.sub(mark, html), embedded


def embed_library_images(html, embedded):
    """Replace each marker by its image: a <figure> with caption and credit when the image
    is a paragraph of its own, else the <picture> alone, within the text. An image that is
    not in the library (saved without the form's check) shows nothing."""
    from images.markup import figure_html, picture_html
    from images.models import Image

    if not embedded:
        return html
    numbers = {int(ref) for ref, _ in embedded.values() if ref.isdigit()}
    images = Image.objects.usable().in_bulk(numbers)
    for marker, (ref, alt) in embedded.items():
        image = images.get(int(ref)) if ref.isdigit() else None
        if image is None:
            logger.warning("Markdown embeds image:%s, which is not in the library", ref)
        figure = figure_html(image, alt=alt) if image else ""
        html = html.replace(f"<p>{marker}</p>", figure).replace(
            marker, picture_html(image, alt=alt) if image else ""
        )
    return html


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
