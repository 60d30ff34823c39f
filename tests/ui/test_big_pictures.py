"""Big pictures in the window (issue 12 §11): past the stated limit they are refused from the header, before
anything decodes them; big but allowed ones are decoded off the GUI thread, with progress."""

from __future__ import annotations

import struct
import threading
import time
import zlib

from PyQt6 import QtGui
from PyQt6.QtCore import QTimer

import ui.picture_load as picture_load
from ui import files as files_mod
from visualcnn import limits


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR chunk claiming width×height (and a truncated body): what a header reader sees."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\0" * 64


def test_an_8000_by_8000_picture_is_refused_from_its_header_before_decoding(window, tmp_path, monkeypatch):
    path = tmp_path / "huge.png"
    path.write_bytes(png_header(8000, 8000))
    decoded = []
    monkeypatch.setattr(picture_load, "decode_grey", lambda *a, **k: decoded.append(a))
    monkeypatch.setattr(files_mod, "get_open_path", lambda *a: str(path))
    s = window.controller.session
    t0 = time.perf_counter()
    window.actions["open_image"].trigger()
    assert time.perf_counter() - t0 < 2.0 and not decoded and s.pinned is None
    text = window.banner.text()
    assert window.banner.isVisible() and "huge.png" in text and "8000×8000" in text
    assert f"over the limit of {limits.MAX_IMAGE_PIXELS:,}" in text and "MAX_IMAGE_PIXELS" in text


def test_a_big_picture_loads_off_the_gui_thread_with_progress(window, qtbot, tmp_path, monkeypatch):
    img = QtGui.QImage(2000, 1500, QtGui.QImage.Format.Format_RGB32)        # 3 megapixels: allowed, but big
    img.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(img)
    painter.setPen(QtGui.QPen(QtGui.QColor("black"), 120))
    painter.drawLine(1000, 150, 1000, 1350)                                 # a dark "1" on white paper
    painter.end()
    path = tmp_path / "big.png"
    assert img.save(str(path))
    gate = threading.Event()
    real = picture_load.decode_grey

    def slow_decode(*args, **kwargs):
        assert gate.wait(10), "the test never opened the gate"
        return real(*args, **kwargs)
    monkeypatch.setattr(picture_load, "decode_grey", slow_decode)
    monkeypatch.setattr(files_mod, "get_open_path", lambda *a: str(path))
    s = window.controller.session
    window.actions["open_image"].trigger()          # returns while the picture is still being decoded
    assert s.pinned is None
    ticks = []
    QTimer.singleShot(20, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: bool(ticks) and "decoding big.png (2000×1500 px)" in window.pad.message.text(),
                    timeout=3000)                   # the event loop runs, and says what it is doing
    with qtbot.waitSignal(window.pad.imageChanged, timeout=10000):
        gate.set()
    qtbot.waitUntil(lambda: s.pinned is not None, timeout=5000)
    x = s.pinned[0][0]
    C, H, W = s.dataset.input_shape
    assert x.shape == (C, H, W) and x[0, :, W // 2 - 1:W // 2 + 1].sum() > 0 and x[0, :, 0].sum() == 0
    assert "big.png, 2000×1500 px" in window.pad.canvas_caption.text()
    assert window.pad.message.text() == ""


def test_a_big_picture_that_fails_to_decode_says_so_in_the_window(window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "broken.png"
    path.write_bytes(png_header(2000, 2000))         # a header within the limit, no picture behind it
    monkeypatch.setattr(files_mod, "get_open_path", lambda *a: str(path))
    window.actions["open_image"].trigger()
    qtbot.waitUntil(lambda: window.banner.isVisible() and "broken.png" in window.banner.text(), timeout=5000)
    assert window.controller.session.pinned is None
