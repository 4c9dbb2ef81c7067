"""The HTML that shows an image, rendered when a page's content is stored (an article's
save), never in a page view: <picture> with AVIF and WebP sources and a JPEG or PNG
<img>, each with a srcset of the renditions and the size of the picture, so that the
browser picks the smallest file that fills its place and reserves that place before
the file arrives."""

from django.conf import settings
from django.template.loader import render_to_string

from images.models import READING_COLUMN_SIZES
from images.processing import CONTENT_TYPES

PICTURE_TEMPLATE = "images/_picture.html"
FIGURE_TEMPLATE = "images/_figure.html"


def media_url(name):
    """The address readers fetch a stored file at: MEDIA_URL (the site's own /media/, or
    an object storage's or CDN's address) followed by its name."""
    return f"{settings.MEDIA_URL}{name}"


def srcset(renditions):
    return ", ".join(f"{media_url(r['name'])} {r['width']}w" for r in renditions)


def picture_context(image, *, sizes=READING_COLUMN_SIZES, alt=None, priority=False, largest_width=None):
    """What the picture templates need of `image`: `alt` replaces its own alt text when not
    empty (an editor's ![alt](image:ID)); `largest_width` leaves out the wider renditions
    (a thumbnail never needs them)."""

    def kept(kind):
        renditions = image.renditions_of(kind)
        if largest_width:
            renditions = [r for r in renditions if r["width"] <= largest_width] or renditions[:1]
        return renditions

    fallback = kept(image.fallback_format)
    largest = fallback[-1]
    return {
        "sources": [
            {"type": CONTENT_TYPES[f".{kind}"], "srcset": srcset(kept(kind))}
            for kind in ("avif", "webp")
            if image.renditions_of(kind)
        ],
        "src": media_url(largest["name"]),
        "srcset": srcset(fallback),
        "sizes": sizes,
        "width": largest["width"],
        "height": largest["height"],
        "alt": "" if image.decorative else (alt or image.alt_text),
        "priority": priority,
        "caption": image.caption,
        "credit": image.credit,
    }


def picture_html(image, **options):
    """<picture> of `image` (see picture_context for the options)."""
    return render_to_string(PICTURE_TEMPLATE, picture_context(image, **options))


def figure_html(image, **options):
    """<figure> of `image`: its picture with its caption and credit."""
    return render_to_string(FIGURE_TEMPLATE, picture_context(image, **options))


def preview_outline(image):
    """What link previews and structured data say of an image (stored with an article, so
    that the page view reads it from the article's row): its largest JPEG or PNG."""
    largest = image.largest()
    return {
        "url": media_url(largest["name"]),
        "width": largest["width"],
        "height": largest["height"],
        "type": CONTENT_TYPES[".png" if image.fallback_format == "png" else ".jpg"],
        "alt": "" if image.decorative else image.alt_text,
    }
