"""Stored image files served by the site itself, for the embedded default and for object
storage that readers do not reach directly. Only names the library writes are served:
a digest and a width, in a format it makes, under images/; no other path of the storage,
and no way out of it."""

import logging
import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_safe

from images.processing import CONTENT_TYPES

STORED_NAME = re.compile(
    r"images/[0-9a-f]{20}-[1-9][0-9]{0,4}(?:_[A-Za-z0-9]{7})?(\.avif|\.webp|\.jpg|\.png)"
)
# A name never changes content (it is a digest of it): browsers and CDNs keep it a year.
logger = logging.getLogger(__name__)
IMMUTABLE = "public, max-age=31536000, immutable"


@require_safe
def serve_media(request, name):
    match = STORED_NAME.fullmatch(name)
    if match is None:
        raise Http404("No such image file.")
    try:
        if not default_storage.exists(name):
            raise Http404("No such image file.")
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("No such image file.") from None
    except Http404:
        raise
    except Exception:  # object storage down: a short answer, not a stack trace
        logger.exception("Reading the stored file %s failed", name)
        response = HttpResponse(
            "The image store is not answering; try again shortly.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "10"
        return response
    response = FileResponse(handle, content_type=CONTENT_TYPES[match.group(1)])
    response["Cache-Control"] = IMMUTABLE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
