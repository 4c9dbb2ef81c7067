"""An upload made safe to serve, and its renditions, at upload time: never in a page view.

Every file served is encoded again from the decoded pixels, so nothing of the upload but
its picture reaches a reader: no EXIF (GPS included), XMP, IPTC, ICC or comment block, and
no bytes of another format hidden in it. What cannot be a photograph on a page is refused
with a sentence that says why: not an image, damaged, SVG, animated, too large, a name
that lies about the content, text of another format hidden in it.
"""

import hashlib
import io
import re
import warnings
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image as Pillow
from PIL import ImageCms, ImageOps, UnidentifiedImageError

# Formats accepted from editors, by what Pillow finds in the file, with the names they go by.
ACCEPTED_FORMATS = {
    "JPEG": {".jpg", ".jpeg", ".jpe"},
    "PNG": {".png"},
    "WEBP": {".webp"},
    "GIF": {".gif"},
    "AVIF": {".avif"},
}
# Text that has no business in a photograph: a file holding it is also a page or a script
# that some browser or tool could be made to run (a polyglot), whatever else it is.
POLYGLOT_MARKERS = re.compile(rb"<(?:script|html|body|svg|iframe|object|embed)\b|javascript:", re.IGNORECASE)
SVG_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE\s+svg|<svg)", re.IGNORECASE | re.DOTALL
)

# How each rendition format is written: (file extension, content type, Pillow options).
ENCODINGS = {
    "avif": (".avif", "image/avif", {"quality": 55, "speed": 8}),
    "webp": (".webp", "image/webp", {"quality": 78, "method": 4}),
    "jpeg": (".jpg", "image/jpeg", {"quality": 82, "optimize": True, "progressive": True}),
    "png": (".png", "image/png", {"optimize": True}),
}
CONTENT_TYPES = {extension: content_type for extension, content_type, _ in ENCODINGS.values()}


@dataclass
class Rendition:
    format: str
    width: int
    height: int
    name: str
    content: bytes = field(repr=False)

    def outline(self):
        return {
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "name": self.name,
            "bytes": len(self.content),
        }


@dataclass
class ProcessedImage:
    """What an upload becomes: its digest, its size after orientation, the clean full-size
    copy kept as the library's file (`original`) and the renditions pages show."""

    content_hash: str
    width: int
    height: int
    fallback_format: str  # "jpeg", or "png" for a picture with transparency
    original: Rendition
    renditions: list


def megabytes(size):
    return f"{size / 1_000_000:.1f} MB"


def process_upload(upload):
    """Check an uploaded file (Django's UploadedFile) and make its renditions.

    Raises ValidationError with a message for the editor; reads the file, writes nothing.
    """
    limit = settings.IMAGES_MAX_UPLOAD_MB * 1_000_000
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"The file is {megabytes(upload.size)}; the limit is {settings.IMAGES_MAX_UPLOAD_MB} MB. "
            "Export a smaller copy (a photograph rarely needs more than 3,000 pixels across)."
        )
    upload.seek(0)
    data = upload.read()
    if not data:
        raise ValidationError("The file is empty (0 bytes): choose the image file again.")
    return process_bytes(data, upload.name or "")


def process_bytes(data, name):
    picture = open_picture(data, name)
    content_hash = hashlib.sha256(data).hexdigest()
    picture = clean_pixels(picture)
    fallback = "png" if picture.mode == "RGBA" else "jpeg"
    width, height = picture.size
    original = encode(picture, fallback, width, height)
    renditions = []
    for rendition_width in rendition_widths(width):
        resized = picture if rendition_width == width else resize(picture, rendition_width)
        for kind in ("avif", "webp", fallback):
            renditions.append(encode(resized, kind, *resized.size))
    return ProcessedImage(content_hash, width, height, fallback, original, renditions)


def open_picture(data, name):
    """The decoded picture of `data`, or a ValidationError that says what is wrong with it."""
    if SVG_START.match(data[:4096]):
        raise ValidationError(
            "SVG files are not accepted: they can carry scripts that would run in readers' "
            "browsers. Export the picture as PNG or JPEG and upload that."
        )
    if POLYGLOT_MARKERS.search(data):
        raise ValidationError(
            "The file holds HTML or script text besides a picture (a polyglot file), so it is "
            "refused. Open it in an image editor and export it again as JPEG or PNG."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Pillow.DecompressionBombWarning)
        try:
            picture = Pillow.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
        except UnidentifiedImageError:
            raise ValidationError(
                "The file is not an image this site accepts: upload a JPEG, PNG, WebP, GIF or AVIF file."
            ) from None
        except (Pillow.DecompressionBombError, Pillow.DecompressionBombWarning):
            raise too_many_pixels() from None
        pixels = picture.width * picture.height
        if pixels > settings.IMAGES_MAX_PIXELS:
            raise too_many_pixels(picture.width, picture.height)
        extension = re.search(r"\.[^.]*$", name.lower())
        if extension and extension.group() not in ACCEPTED_FORMATS[picture.format]:
            raise ValidationError(
                f"The file's name ends in {extension.group()} but it holds a {picture.format} image. "
                "Rename it or export it again, so that its name says what it is."
            )
        if getattr(picture, "is_animated", False) and getattr(picture, "n_frames", 1) > 1:
            raise ValidationError(
                f"This is an animated {picture.format} ({picture.n_frames} frames), and animations are "
                "refused, not cut to their first frame: upload a still image of the moment to show."
            )
        try:
            picture.load()
        except (OSError, SyntaxError, ValueError) as error:
            raise ValidationError(
                f"The image could not be read to the end ({error}): the file is damaged or incomplete. "
                "Export it again from its source."
            ) from None
        except (Pillow.DecompressionBombError, Pillow.DecompressionBombWarning):
            raise too_many_pixels() from None
    return picture


def too_many_pixels(width=None, height=None):
    limit = f"{settings.IMAGES_MAX_PIXELS / 1_000_000:g} megapixels"
    if width is None:  # so many that Pillow refused to go on (a decompression bomb's shape)
        return ValidationError(f"The image has more pixels than the limit of {limit}: export a smaller copy.")
    return ValidationError(
        f"The image is {width:,} × {height:,} pixels; the limit is {limit}. Export a smaller copy."
    )


def clean_pixels(picture):
    """The picture turned as the camera meant it, in sRGB, 8 bits a channel: RGB, or RGBA
    when it has any transparency. Every metadata block is left behind."""
    picture = ImageOps.exif_transpose(picture)
    icc = picture.info.get("icc_profile")
    if picture.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit (or 32-bit) grey: scaled to 8 bits, not clipped to white.
        picture = picture.point(lambda value: value / 256).convert("L")
    if picture.mode == "CMYK" or (icc and picture.mode in ("RGB", "RGBA", "L")):
        picture = to_srgb(picture, icc)
    if picture.mode in ("P", "LA", "PA", "La", "RGBa") or "transparency" in picture.info:
        picture = picture.convert("RGBA")
    if picture.mode == "RGBA" and picture.getchannel("A").getextrema()[0] == 255:
        picture = picture.convert("RGB")
    if picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGB")
    # Pillow writes what `info` holds (EXIF, XMP, ICC, comments) into the files it saves.
    picture.info = {}
    return picture


def to_srgb(picture, icc):
    """Colours converted from the file's embedded profile to sRGB, what browsers assume of
    a picture without one; CMYK without a profile is converted plainly."""
    mode = "RGBA" if picture.mode == "RGBA" else "RGB"
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(picture, source, ImageCms.createProfile("sRGB"), outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the colours as they are
    return picture.convert(mode)


def rendition_widths(width):
    """The widths renditions are made at: each of IMAGES_WIDTHS narrower than the picture,
    and the picture's own width up to the largest of them. Never wider than the upload."""
    widths = sorted(settings.IMAGES_WIDTHS)
    chosen = [candidate for candidate in widths if candidate < width]
    chosen.append(min(width, widths[-1]))
    return sorted(set(chosen))


def resize(picture, width):
    height = max(1, round(picture.height * width / picture.width))
    return picture.resize((width, height), Pillow.Resampling.LANCZOS, reducing_gap=3.0)


def encode(picture, kind, width, height):
    """`picture` written as `kind`, named by a digest of the bytes written: a file whose
    name never changes content, so it can be served as immutable."""
    extension, _, options = ENCODINGS[kind]
    buffer = io.BytesIO()
    picture.save(buffer, format=kind.upper(), **options)
    content = buffer.getvalue()
    digest = hashlib.sha256(content).hexdigest()[:20]
    return Rendition(kind, width, height, f"images/{digest}-{width}{extension}", content)
