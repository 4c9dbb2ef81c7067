"""Cached pages compressed once, when they are stored, and sent as the reader's browser accepts.

- A page without holes is stored as Brotli and as gzip; a hit sends the stored bytes.
- A page with holes (a form's tokens, filled in per request) cannot be stored compressed
  whole, and a Brotli stream cannot be spliced (later bytes may refer back into a hole). It
  is sent as gzip put together per request: each part between holes is stored as deflate
  data ended by a full flush, which makes it independent of what came before, and the few
  bytes of each hole go between them as uncompressed deflate blocks; a gzip header and
  trailer (the CRC of the filled page) make one ordinary gzip member of it. That costs a
  few microseconds per request, where compressing the page whole costs about 150 µs.
- A browser that accepts neither gets the page as it is.

Pages carry no secret next to text a reader chose: the CSRF token is masked anew for every
request (Django's answer to BREACH), and the form token changes on every request too.
"""

import gzip
import struct
import zlib
from functools import lru_cache

import brotli

# Both once per store, on a page's miss: Brotli quality 5 costs about 0.2 ms on a 10 KB page
# (quality 11 costs 11 ms for 10% less).
BROTLI_QUALITY = 5
GZIP_LEVEL = 6
# Smaller bodies gain nothing from compression that their headers would not eat.
MINIMUM_SIZE = 500
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"  # no name, no time, OS unknown
GZIP_END = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)


def compressed_forms(content, hole_markers, charset):
    """What an entry stores beside its text: {"br": bytes, "gzip": bytes} for a page without
    holes, {"gzip_parts": [bytes, ...]} (deflate data of the parts between holes) for one with
    them, or {} for a page too small to compress."""
    data = content.encode(charset)
    if len(data) < MINIMUM_SIZE:
        return {}
    if not hole_markers:
        return {
            "br": brotli.compress(data, quality=BROTLI_QUALITY),
            "gzip": gzip.compress(data, GZIP_LEVEL, mtime=0),
        }
    parts, rest = [], content
    for marker in hole_markers:
        part, rest = rest.split(marker, 1)
        parts.append(part)
    parts.append(rest)
    return {"gzip_parts": [independent_deflate(part.encode(charset)) for part in parts]}


def independent_deflate(data):
    """Raw deflate data for `data` ended by a full flush: byte-aligned and referring to nothing
    before it, so pieces made this way follow one another in one deflate stream."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def stored_blocks(data):
    """`data` as deflate "stored" blocks (RFC 1951, 3.2.4): not compressed, which random tokens
    would not be anyway, and written without calling zlib."""
    blocks = []
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start : start + 0xFFFF]
        blocks.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(blocks)


def spliced_gzip(parts, hole_values, filled):
    """One gzip member of the stored parts with this request's hole values between them;
    `filled` is the whole page as bytes, for the trailer's CRC and size."""
    pieces = [GZIP_HEADER, parts[0]]
    for value, part in zip(hole_values, parts[1:], strict=True):
        pieces += [stored_blocks(value), part]
    pieces += [GZIP_END, struct.pack("<II", zlib.crc32(filled), len(filled) & 0xFFFFFFFF)]
    return b"".join(pieces)


def accepted_encodings(request):
    """The content codings the request accepts (`Accept-Encoding`, q=0 meaning refused)."""
    return codings_of(request.META.get("HTTP_ACCEPT_ENCODING", "")[:200])


@lru_cache(maxsize=256)
def codings_of(header):
    """The codings an `Accept-Encoding` value accepts (browsers send a handful of values)."""
    accepted = set()
    for item in header.split(","):
        name, _, parameters = item.partition(";")
        quality = parameters.strip().removeprefix("q=")
        try:
            refused = bool(parameters.strip()) and float(quality) == 0
        except ValueError:
            refused = False
        if name.strip() and not refused:
            accepted.add(name.strip().lower())
    return frozenset(accepted)
