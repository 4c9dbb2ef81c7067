"""Putting an upload into the library, and taking an image's files out of the storage.

Files are written before the row that names them, and their names are digests of their
content: a failure at any step leaves at most files no row names, which a retry of the
same upload reuses, never a row whose files are missing.
"""

import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

logger = logging.getLogger(__name__)


def write_files(processed):
    """Write the clean copy and the renditions of `processed` (images.processing) to the
    default storage; returns {name it asked for: name stored}. A ValidationError says what
    failed, after removing what this call wrote."""
    written = []
    stored = {}
    try:
        for rendition in (processed.original, *processed.renditions):
            if default_storage.exists(rendition.name):
                stored[rendition.name] = rendition.name  # the same bytes, by their name
                continue
            name = default_storage.save(rendition.name, ContentFile(rendition.content))
            written.append(name)
            stored[rendition.name] = name
    except Exception as error:  # any storage failure (disk full, S3 down) is told, not raised
        logger.exception("Storing an image failed")
        delete_files(written)
        raise ValidationError(
            f"The image could not be stored ({type(error).__name__}): nothing was saved. "
            "Try again in a moment."
        ) from error
    return stored


def fill_image(image, processed, stored, original_name):
    """Set on `image` (not yet saved) what the upload `processed` made of it."""
    image.file.name = stored[processed.original.name]
    image.original_name = original_name[:255]
    image.content_hash = processed.content_hash
    image.width, image.height = processed.width, processed.height
    image.renditions = [
        {**rendition.outline(), "name": stored[rendition.name]} for rendition in processed.renditions
    ]


def delete_files(names):
    """Remove files from the storage; a failure is logged, and leaves only a file no row names."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # an orphan file harms nothing; a failed delete must not
            logger.exception("Could not delete the stored file %s", name)


def image_deleted(sender, instance, **kwargs):
    """post_delete receiver: the image's files leave the storage once the delete commits."""
    names = instance.file_names()
    transaction.on_commit(lambda: delete_files(names))
