"""Draw a digit or a shape with the mouse (or open a picture) and get it as the network's input.

    pad = DrawingPad()
    pad.set_dataset(session.dataset)                 # the input shape and the set's preprocessing
    pad.imageChanged.connect(lambda x: show_prediction_for(x))   # x: (C, H, W) float32, throttled while drawing
    pad.open_image("seven.png")                      # False (and a message on the pad) when unreadable

The drawing is kept on a fine grey canvas (256 px on its long side) and turned into an
input by the dataset's own `Dataset.to_input` — the same framing, polarity and
resampling as the set's samples — so what the network sees is what the right-hand
panel shows, pixel for pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

CANVAS = 256                 # canvas long side, in canvas pixels
EMIT_INTERVAL_MS = 50        # imageChanged at most 20 times a second while drawing
DEFAULT_BRUSH = 18           # canvas pixels


def qimage_to_grey(image: QtGui.QImage) -> np.ndarray:
    """(h, w) float64 in [0, 1] from any QImage; transparent parts count as white paper."""
    flat = QtGui.QImage(image.size(), QtGui.QImage.Format.Format_ARGB32)
    flat.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(flat)
    painter.drawImage(0, 0, image)
    painter.end()
    grey = flat.convertToFormat(QtGui.QImage.Format.Format_Grayscale8)
    h, w, stride = grey.height(), grey.width(), grey.bytesPerLine()
    buf = np.frombuffer(grey.constBits().asstring(stride * h), dtype=np.uint8).reshape(h, stride)
    return buf[:, :w].astype(np.float64) / 255.0


def grey_to_qimage(grey: np.ndarray) -> QtGui.QImage:
    a = np.ascontiguousarray((np.clip(grey, 0, 1) * 255).astype(np.uint8))
    h, w = a.shape
    return QtGui.QImage(a.data, w, h, w, QtGui.QImage.Format.Format_Grayscale8).copy()


def _fit_rect(outer: QtCore.QRectF, w: int, h: int) -> QtCore.QRectF:
    """The largest rect of aspect w:h centred in `outer`."""
    scale = min(outer.width() / w, outer.height() / h)
    rw, rh = w * scale, h * scale
    return QtCore.QRectF(outer.x() + (outer.width() - rw) / 2, outer.y() + (outer.height() - rh) / 2, rw, rh)


class DrawingCanvas(QtWidgets.QWidget):
    """A grey canvas drawn on with a round brush; `stroked` after every segment, `released` at the end."""

    stroked = QtCore.pyqtSignal()
    released = QtCore.pyqtSignal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.setCursor(QtCore.Qt.CursorShape.CrossCursor)
        self.brush = DEFAULT_BRUSH
        self.paper, self.ink = 0.0, 1.0          # light ink on dark paper, like the digits set
        self._last: QtCore.QPointF | None = None
        self.resize_canvas(CANVAS, CANVAS)

    def resize_canvas(self, w: int, h: int) -> None:
        self.image = QtGui.QImage(w, h, QtGui.QImage.Format.Format_Grayscale8)
        self.clear()

    def clear(self, paper: float = 0.0) -> None:
        self.paper, self.ink = paper, 1.0 - paper
        self.image.fill(QtGui.QColor.fromRgbF(paper, paper, paper))
        self.update()

    def set_grey(self, grey: np.ndarray) -> None:
        """Show `grey` (h, w) fitted into the canvas on paper of its own border colour; later strokes contrast with it."""
        from visualcnn.data.imaging import border_median

        paper = float(border_median(grey))
        paper = 1.0 if paper > 0.5 else 0.0
        self.clear(paper)
        src = grey_to_qimage(grey)
        painter = QtGui.QPainter(self.image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(_fit_rect(QtCore.QRectF(self.image.rect()), src.width(), src.height()), src)
        painter.end()
        self.update()

    def grey(self) -> np.ndarray:
        return qimage_to_grey(self.image)

    def _target(self) -> QtCore.QRectF:
        return _fit_rect(QtCore.QRectF(self.rect()).adjusted(1, 1, -1, -1), self.image.width(), self.image.height())

    def _to_canvas(self, pos: QtCore.QPointF) -> QtCore.QPointF:
        t = self._target()
        sx, sy = self.image.width() / t.width(), self.image.height() / t.height()
        return QtCore.QPointF((pos.x() - t.x()) * sx, (pos.y() - t.y()) * sy)

    def _draw(self, a: QtCore.QPointF, b: QtCore.QPointF) -> None:
        painter = QtGui.QPainter(self.image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        pen = QtGui.QPen(QtGui.QColor.fromRgbF(self.ink, self.ink, self.ink), self.brush,
                         QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenCapStyle.RoundCap, QtCore.Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        if a == b:
            painter.drawPoint(a)
        else:
            painter.drawLine(a, b)
        painter.end()
        self.update()
        self.stroked.emit()

    # Tracking a flag, not event.buttons(): synthetic moves (tests, tablets) may not carry the button state.
    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self._last = self._to_canvas(event.position())
            self._draw(self._last, self._last)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        if self._last is not None:
            p = self._to_canvas(event.position())
            self._draw(self._last, p)
            self._last = p

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if self._last is not None:
            self._last = None
            self.released.emit()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.drawImage(self._target(), self.image)
        painter.setPen(QtGui.QPen(style.FRAME, 1))
        painter.drawRect(self._target())
        painter.end()


class PixelView(QtWidgets.QWidget):
    """An (H, W) array in [0, 1] drawn large, one square per pixel, with a faint grid when the grid is small."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self._image: QtGui.QImage | None = None
        self._shape = (0, 0)

    def set_array(self, grey: np.ndarray | None) -> None:
        self._image = None if grey is None else grey_to_qimage(grey)
        self._shape = (0, 0) if grey is None else grey.shape
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        if self._image is None:
            painter.setPen(style.dim_text_color(self))
            painter.drawText(self.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, _("nothing drawn yet"))
            return
        H, W = self._shape
        t = _fit_rect(QtCore.QRectF(self.rect()).adjusted(1, 1, -1, -1), W, H)
        painter.drawImage(t, self._image)        # no smoothing: each input pixel stays a square
        if max(H, W) <= 32:
            painter.setPen(QtGui.QPen(style.with_alpha(style.FRAME, 90), 1))
            for i in range(1, W):
                x = t.x() + t.width() * i / W
                painter.drawLine(QtCore.QPointF(x, t.top()), QtCore.QPointF(x, t.bottom()))
            for j in range(1, H):
                y = t.y() + t.height() * j / H
                painter.drawLine(QtCore.QPointF(t.left(), y), QtCore.QPointF(t.right(), y))
        painter.setPen(QtGui.QPen(style.FRAME, 1))
        painter.drawRect(t)
        painter.end()


class DrawingPad(QtWidgets.QWidget):
    """Canvas (or opened picture) on the left, what the network gets on the right; brush, clear, open."""

    imageChanged = QtCore.pyqtSignal(object)     # (C, H, W) float32 in [0, 1]: the network input
    failed = QtCore.pyqtSignal(str)              # a picture could not be used: the message (also shown on the pad)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = None
        self._input: np.ndarray | None = None
        self._source: np.ndarray | None = None      # an opened picture, until drawn over
        self._load = None                           # a big picture being decoded off the GUI thread (PictureLoad)
        self.canvas = DrawingCanvas()
        self.preview = PixelView()
        self.canvas_caption = QtWidgets.QLabel()
        self.preview_caption = QtWidgets.QLabel()
        for label in (self.canvas_caption, self.preview_caption):
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            label.setFont(style.font(style.FONT_SMALL_PT))
            label.setWordWrap(True)
        self.brush_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.brush_slider.setRange(2, 60)
        self.brush_slider.setValue(DEFAULT_BRUSH)
        self.brush_slider.setToolTip(_("Brush diameter"))
        self.brush_slider.valueChanged.connect(self.set_brush)
        self.clear_button = QtWidgets.QPushButton(_("Clear"))
        self.clear_button.clicked.connect(self.clear)
        self.open_button = QtWidgets.QPushButton(_("Open picture…"))
        self.open_button.clicked.connect(self._open_dialog)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setFont(style.font(style.FONT_SMALL_PT))
        self.message.setStyleSheet("color: #c0392b")

        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(EMIT_INTERVAL_MS)
        self._timer.timeout.connect(self._convert_and_emit)
        self.canvas.stroked.connect(self._on_stroke)
        self.canvas.released.connect(self._convert_and_emit)

        panels = QtWidgets.QGridLayout()
        panels.addWidget(self.canvas, 0, 0)
        panels.addWidget(self.preview, 0, 1)
        panels.addWidget(self.canvas_caption, 1, 0)
        panels.addWidget(self.preview_caption, 1, 1)
        panels.setColumnStretch(0, 1)
        panels.setColumnStretch(1, 1)
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(QtWidgets.QLabel(_("Brush")))
        controls.addWidget(self.brush_slider, 1)
        controls.addWidget(self.clear_button)
        controls.addWidget(self.open_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(style.MARGIN, style.MARGIN, style.MARGIN, style.MARGIN)
        layout.setSpacing(style.SPACING)
        layout.addLayout(panels, 1)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        self._update_captions()

    # -- API ------------------------------------------------------------------------------
    def set_dataset(self, dataset) -> None:
        """Use `dataset`'s input shape and preprocessing (clears the pad)."""
        self.dataset = dataset
        C, H, W = dataset.input_shape
        side = CANVAS / max(H, W)
        self.canvas.resize_canvas(int(round(W * side)), int(round(H * side)))
        self.clear()

    def set_brush(self, diameter: int) -> None:
        self.canvas.brush = int(diameter)
        if self.brush_slider.value() != diameter:
            self.brush_slider.setValue(int(diameter))

    def clear(self) -> None:
        self._cancel_load()
        self._timer.stop()
        self._source = None
        self._input = None
        self.canvas.clear()
        self.preview.set_array(None)
        self.message.setText("")
        self._update_captions()

    def current_input(self) -> np.ndarray | None:
        """The last converted input (C, H, W), or None when nothing is drawn."""
        return self._input

    def open_image(self, path: str | Path) -> bool:
        """Load a PNG/JPEG/GIF/BMP/WebP picture as the input; False, with a message, if it cannot be used.
        Its size is read from its header first and a picture past the limits is refused before decoding; a big
        one (over ui.picture_load.SYNC_PIXELS) is decoded off the GUI thread, with its progress in the message
        line (True then means "loading"; imageChanged or failed follows)."""
        from ui.picture_load import SYNC_PIXELS, LoadedPicture, PictureLoad, decode_grey
        from visualcnn.data.picture import check_picture

        path = Path(path)
        self._cancel_load()
        try:
            _kind, width, height = check_picture(path)
            if self.dataset is None:
                return self._fail(_("No data set yet: the picture's target size comes from the data set."))
            if width * height > SYNC_PIXELS:
                self._load = load = PictureLoad(path, self.dataset, width, height, self)
                load.progress.connect(lambda _pct, text: load is self._load and self._loading(text))
                load.loaded.connect(lambda picture: load is self._load and self._show_picture(picture))
                load.failed.connect(lambda text: load is self._load and self._fail(text))
                # started from the event loop: whoever called open_image can still connect to self._load first
                QtCore.QTimer.singleShot(0, load.start)
                return True
            grey = decode_grey(path)
            converted = self.dataset.to_input(grey)
        except VisualCNNError as e:
            text = str(e)
            return self._fail(text if text.startswith(("Cannot", path.name)) or path.name in text else
                              _("Cannot use {file}: {why}").format(file=path.name, why=text))
        self._show_picture(LoadedPicture(path, width, height, grey, converted))
        return True

    def _loading(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)

    def _cancel_load(self) -> None:
        load, self._load = self._load, None
        if load is not None:
            load.cancel()

    def _show_picture(self, picture) -> None:
        self._load = None
        grey = picture.grey
        self._timer.stop()
        self._source = grey
        self.canvas.set_grey(grey)
        self.message.setStyleSheet("color: #c0392b")
        self.message.setText("")
        bright = np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])) > 0.5
        self._update_captions(_("original {file}, {width}×{height} px").format(
            file=picture.path.name, width=picture.width, height=picture.height)
            + (" " + _("(dark ink on light paper: inverted)") if bright else ""))
        self._publish(picture.converted)

    # -- internals -----------------------------------------------------------------------
    def _fail(self, text: str) -> bool:
        self._load = None
        self.message.setStyleSheet("color: #c0392b")
        self.message.setText(text)
        self.failed.emit(text)
        return False

    def _open_dialog(self) -> None:
        path, _filter = QtWidgets.QFileDialog.getOpenFileName(
            self, _("Open a picture"), "", _("Pictures") + " (*.png *.jpg *.jpeg *.bmp *.gif);;" + _("All files") + " (*)")
        if path:
            self.open_image(path)

    def _on_stroke(self) -> None:
        self._source = None                        # drawn over: the canvas is now the source
        if not self._timer.isActive():
            self._timer.start()

    def _convert_and_emit(self) -> None:
        self._timer.stop()
        if self.dataset is None:
            self.message.setText(_("No data set yet: cannot convert the drawing to an input."))
            return
        grey = self._source if self._source is not None else self.canvas.grey()
        if np.ptp(grey) == 0:
            return                                 # a blank canvas is not an input
        try:
            converted = self.dataset.to_input(grey)
        except VisualCNNError as e:
            self._fail(str(e))
            return
        if self._source is None:
            self._update_captions()
        self._publish(converted)

    def _publish(self, x: np.ndarray) -> None:
        self._input = x
        self.preview.set_array(x.mean(axis=0))
        self.imageChanged.emit(x)

    def _update_captions(self, source: str | None = None) -> None:
        self.canvas_caption.setText(source or _("draw here with the left mouse button"))
        if self.dataset is None:
            self.preview_caption.setText(_("network input (no data set)"))
        else:
            C, H, W = self.dataset.input_shape
            self.preview_caption.setText(_("network input {height}×{width}, preprocessed like the {name} set").format(
                height=H, width=W, name=self.dataset.name))


__all__ = ["DrawingCanvas", "DrawingPad", "PixelView", "grey_to_qimage", "qimage_to_grey"]
