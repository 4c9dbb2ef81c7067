"""What a page says of itself to search engines and link previews: its canonical address,
and the plain text of stored HTML for a description."""

from html import unescape

from django import template
from django.utils.html import strip_tags

from articles.structured_data import page_address

register = template.Library()


@register.simple_tag(takes_context=True)
def canonical_url(context):
    """The page's canonical address (also its og:url): see structured_data.page_address().

    A detail page is known by its object's address, even when shown at another one (an
    article shown again at its comments address, with the errors of a refused comment).
    """
    shown = context.get("object")
    path = shown.get_absolute_url() if hasattr(shown, "get_absolute_url") else None
    query = {"q": context["search_query"]} if context.get("search_query") else {}
    page = context.get("page_obj")
    return page_address(context["request"], path, page=page.number if page else 1, **query)


@register.filter
def plain_text(html):
    """The text a reader reads of stored HTML: tags removed, character references decoded
    (the template escapes it again where it goes)."""
    return unescape(strip_tags(html))
