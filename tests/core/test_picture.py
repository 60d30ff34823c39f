"""Pictures opened as input (issue 12 §11): refused past a stated size from the header alone, before decoding."""

from __future__ import annotations

import struct
import zlib

import pytest

from visualcnn import limits
from visualcnn.data.picture import check_picture, picture_size
from visualcnn.errors import DataError


def png(width: int, height: int, pixels: bool = True) -> bytes:
    """A valid greyscale PNG (data only when small: the header is what is checked)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\0" + b"\x80" * width for _ in range(height)) if pixels else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\0"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def test_a_small_png_passes(tmp_path):
    (tmp_path / "a.png").write_bytes(png(30, 20))
    assert check_picture(tmp_path / "a.png") == ("PNG", 30, 20)


@pytest.mark.parametrize("name,data,size", [
    ("huge.png", png(8000, 8000, pixels=False), "8000×8000"),
    ("huge.jpg", jpeg_header(8000, 8000), "8000×8000"),
    ("wide.gif", b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\0" * 10, "65535×65535"),
    ("tall.bmp", b"BM" + b"\0" * 16 + struct.pack("<ii", 5000, -5000) + b"\0" * 30, "5000×5000"),
])
def test_a_picture_past_the_limit_is_refused_from_its_header(tmp_path, name, data, size):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DataError, match=rf"{name}: the picture's size \({size} pixels\) is [\d,]+, over the limit "
                                        rf"of {limits.MAX_IMAGE_PIXELS:,} \(visualcnn.limits.MAX_IMAGE_PIXELS\)"):
        check_picture(tmp_path / name)


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n", b"not a picture at all", b"\xff\xd8\xff\xe0\x00"])
def test_what_is_not_a_picture_is_one_line(tmp_path, data):
    (tmp_path / "x.png").write_bytes(data)
    with pytest.raises(DataError, match=r"x\.png: not a picture this can open \(expected PNG, JPEG"):
        check_picture(tmp_path / "x.png")


def test_a_file_past_the_byte_limit_is_refused_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_IMAGE_FILE_BYTES", 40)
    (tmp_path / "big.png").write_bytes(png(30, 20))
    with pytest.raises(DataError, match=r"big\.png: the file's size is \d+ bytes, over the limit of 40 bytes"):
        check_picture(tmp_path / "big.png")


def test_header_sizes_of_each_format():
    assert picture_size(png(7, 9)) == ("PNG", 7, 9)
    assert picture_size(jpeg_header(640, 480)) == ("JPEG", 640, 480)
    assert picture_size(b"RIFF\0\0\0\0WEBPVP8X" + b"\0" * 8 + (99).to_bytes(3, "little") + (49).to_bytes(3, "little")) \
        == ("WebP", 100, 50)
