"""A picture's size from its header, checked against the limits before anything decodes it.

Decoding an 8000×8000 photo to pick a network input froze the window for seconds and took
hundreds of megabytes. `check_picture(path)` reads only the header (PNG, JPEG, GIF, BMP, WebP)
and refuses a file or a picture past `visualcnn.limits` with one line naming it; the window then
decodes and resamples what passed on a worker thread. Qt-free: no decoding here.
"""

from __future__ import annotations

import struct
from pathlib import Path

from visualcnn import limits
from visualcnn.errors import DataError
from visualcnn.reading import opened
from visualcnn.i18n import N_, _

#: how much of a file the header search reads (a JPEG's size sits after its metadata segments)
HEADER_BYTES = 1 << 20
FORMATS = N_("PNG, JPEG, GIF, BMP or WebP")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first start-of-frame segment of a JPEG, or None if the header is cut short."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:                      # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if length < 2:
            return None
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            if i + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def picture_size(head: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) read from the first bytes of a picture file, or None when not recognised."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24 and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return "PNG", width, height
    if head.startswith(b"\xff\xd8"):
        size = _jpeg_size(head)
        return None if size is None else ("JPEG", *size)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return "GIF", width, height
    if head.startswith(b"BM") and len(head) >= 26:
        width, height = struct.unpack("<ii", head[18:26])
        return "BMP", abs(width), abs(height)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP" and len(head) >= 30:
        chunk = head[12:16]
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", head[26:30])
            return "WebP", width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(head[21:25], "little")
            return "WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            return "WebP", int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def check_picture(path: str | Path) -> tuple[str, int, int]:
    """(format, width, height) of the picture at `path` if it may be opened, else a DataError naming the file
    and the limit: missing, too big a file, not a picture this can read, or more pixels than MAX_IMAGE_PIXELS."""
    path = Path(path)
    with opened(path, DataError) as (f, size):
        head = f.read(HEADER_BYTES)
    limits.check(size, "MAX_IMAGE_FILE_BYTES", path.name, _("the file's size"), DataError, "bytes")
    found = picture_size(head)
    if found is None:
        raise DataError(_("{name}: not a picture this can open (expected {FORMATS})").format(
                            name=path.name, FORMATS=_(FORMATS)))
    kind, width, height = found
    if width < 1 or height < 1:
        raise DataError(_("{name}: its {kind} header says {width}×{height} pixels; not a picture").format(
                            name=path.name, kind=kind, width=width, height=height))
    limits.check(width * height, "MAX_IMAGE_PIXELS", path.name, _("the picture's size "
                                                                  "({width}×{height} pixels)").format(
                                                                    width=width, height=height),
                 DataError)
    return kind, width, height


__all__ = ["FORMATS", "check_picture", "picture_size"]
