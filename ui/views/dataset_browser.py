"""Browse the current dataset as thumbnails; pick one to step on.

    browser = DatasetBrowser()
    browser.set_dataset(session.dataset)
    browser.sampleChosen.connect(session.pin_input)          # (x (1, C, H, W), labels (1,))
    # predictions for "show misclassified": computed off the GUI thread, e.g.
    worker.submit(lambda s: predict_labels(s, "test"), tag="predictions")
    worker.jobDone.connect(lambda tag, preds: browser.set_predictions("test", preds) if tag == "predictions" else None)

Thumbnails are made lazily, when the view asks for a row's icon, and cached; the model
holds an index array (the filter), never a widget per image, so 60,000 MNIST images
cost nothing until scrolled to.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from visualcnn.data import class_label
from visualcnn.i18n import _

THUMB = 56              # thumbnail side in pixels
CACHE = 2000            # thumbnails kept
ALL = -1


def predict_labels(session, split: str = "test", batch_size: int = 256) -> np.ndarray:
    """Arg-max predictions (N,) for a split, on a copy of the network (the session's step state is untouched).

    The copy is taken under the session's lock; the forward passes then run without it,
    so call this on the worker thread (RunWorker.submit) rather than per paint.
    """
    with session.lock:
        net = session.network.copy()
    x = getattr(session.dataset, f"x_{split}")
    out = np.empty(len(x), dtype=np.int64)
    for s in range(0, len(x), batch_size):
        out[s:s + batch_size] = net.forward(x[s:s + batch_size]).argmax(axis=1)
    return out


def to_qimage(image: np.ndarray) -> QtGui.QImage:
    """(C, H, W) or (H, W) floats in [0, 1] → an 8-bit QImage (grey, or RGB for 3 channels); owns its pixels."""
    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 3 and a.shape[0] == 3:
        rgb = np.ascontiguousarray((np.clip(a.transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8))
        H, W = rgb.shape[:2]
        return QtGui.QImage(rgb.data, W, H, 3 * W, QtGui.QImage.Format.Format_RGB888).copy()
    if a.ndim == 3:
        a = a.mean(axis=0)
    grey = np.ascontiguousarray((np.clip(a, 0, 1) * 255).astype(np.uint8))
    H, W = grey.shape
    return QtGui.QImage(grey.data, W, H, W, QtGui.QImage.Format.Format_Grayscale8).copy()


class DatasetModel(QtCore.QAbstractListModel):
    """Rows = the filtered indices of one split; icons made on demand."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset = None
        self.split = "train"
        self.rows = np.zeros(0, dtype=np.int64)
        self.predictions: dict[str, np.ndarray] = {}
        self._cache: OrderedDict[tuple[str, int], QtGui.QIcon] = OrderedDict()

    def set_rows(self, dataset, split: str, rows: np.ndarray) -> None:
        self.beginResetModel()
        if dataset is not self.dataset:
            self._cache.clear()
        self.dataset, self.split, self.rows = dataset, split, rows
        self.endResetModel()

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def sample(self, row: int) -> tuple[np.ndarray, int]:
        i = int(self.rows[row])
        return getattr(self.dataset, f"x_{self.split}")[i], int(getattr(self.dataset, f"y_{self.split}")[i])

    def data(self, index: QtCore.QModelIndex, role: int = QtCore.Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.dataset is None:
            return None
        i = int(self.rows[index.row()])
        names = [class_label(n) for n in self.dataset.class_names]
        label = int(getattr(self.dataset, f"y_{self.split}")[i])
        pred = self.predictions.get(self.split)
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            if pred is not None and pred[i] != label:
                return f"{names[label]} → {names[pred[i]]}"
            return names[label]
        if role == QtCore.Qt.ItemDataRole.DecorationRole:
            key = (self.split, i)
            icon = self._cache.get(key)
            if icon is None:
                img = to_qimage(getattr(self.dataset, f"x_{self.split}")[i])
                pix = QtGui.QPixmap.fromImage(img.scaled(THUMB, THUMB, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                                                         QtCore.Qt.TransformationMode.FastTransformation))
                icon = QtGui.QIcon(pix)
                self._cache[key] = icon
                if len(self._cache) > CACHE:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
            return icon
        if role == QtCore.Qt.ItemDataRole.ToolTipRole:
            text = _("{split} #{index}: label {label}").format(split=split_label(self.split), index=i,
                                                                label=names[label])
            if pred is not None:
                text += ", " + _("predicted {label}").format(label=names[pred[i]])
            return text
        if role == QtCore.Qt.ItemDataRole.ForegroundRole and pred is not None and pred[i] != label:
            return QtGui.QBrush(style.PREDICTED)
        return None


def split_label(split: str) -> str:
    """'train' / 'test' in the current language."""
    return _("training") if split == "train" else _("test") if split == "test" else split


class DatasetBrowser(QtWidgets.QWidget):
    """Thumbnails of the dataset with class filter, split choice and "misclassified only"."""

    #: x (1, C, H, W) float32 and labels (1,) int64 — the arguments of Session.pin_input
    sampleChosen = QtCore.pyqtSignal(object, object)
    #: the user ticked "misclassified only" for a split without predictions: compute them (see predict_labels)
    predictionsWanted = QtCore.pyqtSignal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = None
        self.model = DatasetModel(self)
        self.view = QtWidgets.QListView()
        self.view.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.view.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.view.setMovement(QtWidgets.QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QtWidgets.QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.view.setGridSize(QtCore.QSize(THUMB + 30, THUMB + 28))
        self.view.setSpacing(2)
        self.view.setWordWrap(False)
        self.view.setFont(style.font(style.FONT_SMALL_PT))
        self.view.setModel(self.model)
        self.view.activated.connect(self._choose)
        self.view.doubleClicked.connect(self._choose)

        self.split_box = QtWidgets.QComboBox()
        for split in ("train", "test"):
            self.split_box.addItem(split_label(split), split)
        self.class_box = QtWidgets.QComboBox()
        self.wrong_box = QtWidgets.QCheckBox(_("misclassified only"))
        self.wrong_box.setToolTip(_("Show only the images the network currently gets wrong "
                                    "(predictions as of the last refresh)"))
        self.use_button = QtWidgets.QPushButton(_("Step on this image"))
        self.use_button.setToolTip(_("Make the selected image the input of the next iteration (double-click works "
                                     "too)"))
        self.use_button.clicked.connect(lambda: self._choose(self.view.currentIndex()))
        self.count_label = QtWidgets.QLabel()
        self.count_label.setFont(style.font(style.FONT_SMALL_PT))
        for w in (self.split_box, self.class_box):
            w.currentIndexChanged.connect(self._refilter)
        self.wrong_box.toggled.connect(self._wrong_toggled)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel(_("Split")))
        top.addWidget(self.split_box)
        top.addWidget(QtWidgets.QLabel(_("Class")))
        top.addWidget(self.class_box)
        top.addWidget(self.wrong_box)
        top.addStretch(1)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.use_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(style.MARGIN, style.MARGIN, style.MARGIN, style.MARGIN)
        layout.setSpacing(style.SPACING)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)
        self._refilter()

    # -- API --------------------------------------------------------------------------
    def set_dataset(self, dataset) -> None:
        """Show `dataset` (a new one forgets predictions and the class filter)."""
        self.dataset = dataset
        self.model.predictions = {}
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem(_("all classes"), ALL)
        if dataset is not None:
            for k, name in enumerate(dataset.class_names):
                self.class_box.addItem(class_label(name), k)
        self.class_box.blockSignals(False)
        self.wrong_box.setChecked(False)
        self._refilter()

    def set_predictions(self, split: str, predictions: np.ndarray | None) -> None:
        """Predicted labels (N,) for every image of `split` (None forgets them)."""
        if predictions is None:
            self.model.predictions.pop(split, None)
        else:
            self.model.predictions[split] = np.asarray(predictions, dtype=np.int64)
        self._refilter()

    def set_filter(self, split: str | None = None, label: int | None = None, misclassified: bool | None = None) -> None:
        """Programmatic filter (label ALL / -1 for every class)."""
        if split is not None:
            self.split_box.setCurrentIndex(self.split_box.findData(split))
        if label is not None:
            self.class_box.setCurrentIndex(max(0, self.class_box.findData(int(label))))
        if misclassified is not None:
            self.wrong_box.setChecked(misclassified)

    @property
    def split(self) -> str:
        return self.split_box.currentData() or "train"

    def visible_indices(self) -> np.ndarray:
        """Dataset indices (into the current split) currently shown, in order."""
        return self.model.rows.copy()

    def choose_row(self, row: int) -> None:
        self._choose(self.model.index(row, 0))

    # -- internals ----------------------------------------------------------------------
    def _wrong_toggled(self, on: bool) -> None:
        self._refilter()                 # asks for predictions (predictionsWanted) if there are none

    def _refilter(self, *_args):
        ds = self.dataset
        if ds is None:
            self.model.set_rows(None, "train", np.zeros(0, dtype=np.int64))
            self.count_label.setText(_("no data set"))
            self.use_button.setEnabled(False)
            return
        split = self.split
        if self.wrong_box.isChecked() and split not in self.model.predictions:
            self.predictionsWanted.emit(split)
        y = getattr(ds, f"y_{split}")
        keep = np.ones(len(y), dtype=bool)
        label = self.class_box.currentData()
        if label is not None and label != ALL:
            keep &= y == label
        pred = self.model.predictions.get(split)
        waiting = self.wrong_box.isChecked() and pred is None
        if self.wrong_box.isChecked() and pred is not None:
            keep &= pred != y
        rows = np.flatnonzero(keep)
        self.model.set_rows(ds, split, rows)
        text = (_("{shown} of {total} training images") if split == "train" else
                _("{shown} of {total} test images")).format(shown=f"{len(rows):,}", total=f"{len(y):,}")
        if waiting:
            text += " " + _("(computing predictions…)")
        elif pred is not None:
            text += "; " + _("{wrong} misclassified (shown as label → prediction)").format(
                wrong=f"{int(np.sum(pred != y)):,}")
        self.count_label.setText(text)
        self.use_button.setEnabled(len(rows) > 0)
        if len(rows):
            self.view.setCurrentIndex(self.model.index(0, 0))

    def _choose(self, index: QtCore.QModelIndex) -> None:
        if not index.isValid():
            return
        x, label = self.model.sample(index.row())
        self.sampleChosen.emit(np.array(x[None], dtype=np.float32), np.array([label], dtype=np.int64))


__all__ = ["DatasetBrowser", "DatasetModel", "predict_labels", "to_qimage"]
