"""Which pages show an image. The images app knows no page: the app that shows images
(articles) registers how to find the pages, and the library's admin asks here."""

from typing import NamedTuple

_finders = []


class Page(NamedTuple):
    """Something that shows an image: its label, its admin address, and whether readers see it."""

    label: str
    admin_url: str
    published: bool


def register(finder):
    """`finder(images)` returns {image pk: [Page]} of what shows each."""
    if finder not in _finders:
        _finders.append(finder)
    return finder


def pages_showing_each(images):
    """{image pk: [Page]} of everything that shows each of `images`, from
    every finder: one query a finder, however many images."""
    pages = {image.pk: [] for image in images}
    for finder in _finders:
        for pk, found in finder(list(pages)).items():
            pages[pk].extend(found)
    return pages


def pages_showing(image):
    return pages_showing_each([image])[image.pk]
