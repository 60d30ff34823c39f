"""StackEditor: the layer stack as rows, with buttons to add, remove, duplicate and move layers, the property
form of the selected one and the input shape and loss reduction; every edit is validated at once and undoable
(see the package doc)."""

from __future__ import annotations

import copy
from typing import Any, Callable

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QBrush, QColor, QFont, QUndoStack
from PyQt6.QtWidgets import (
    QComboBox, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QMenu, QMessageBox, QScrollArea, QSpinBox, QSplitter,
    QStyle, QToolButton, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _
from visualcnn.layers import LAYER_TYPES
from visualcnn.spec import format_shape

from ..controls import error_label, show_error
from .form import LayerForm, choice_label
from .layers import convert_layer, describe, layer_rows, new_layer
from .tree import _LayerTree
from .undo import _SpecCommand

ERROR_BRUSH = QBrush(QColor(220, 40, 40, 90))


class StackEditor(LayerForm, QWidget):
    """Builds the spec. load_spec(spec) to show a network's spec; spec() is what is shown now."""

    specApplied = pyqtSignal(dict)            # a valid spec that differs from the network's: rebuild
    validityChanged = pyqtSignal(bool, str)   # valid?, the core's message when not
    layerSelected = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.validator: Callable[[dict], Any] | None = None    # spec -> Network, raises VisualCNNError
        self.is_trained: Callable[[], bool] = lambda: False
        self.undo_stack = QUndoStack(self)
        self._spec: dict[str, Any] = {"input_shape": [1, 8, 8], "layers": [], "loss": {"type": "softmax_cross_entropy",
                                                                                          "reduction": "mean"}}
        self._applied: dict[str, Any] | None = None
        self._discard_confirmed = False
        self.valid = True
        self.error_message = ""
        self.error_index: int | None = None
        self._form_key: Any = None
        self._form_widgets: dict[str, Any] = {}

        self.tree = _LayerTree()
        self.tree.setToolTip(_("the layer stack, input at the top; drag a row to move it"))
        self.error = error_label()
        self.add_menu = QMenu(_("Add layer"), self)
        self.add_actions: dict[str, QAction] = {}
        for kind, cls in LAYER_TYPES.items():
            act = self.add_menu.addAction(f"{kind}")
            act.setToolTip(describe(cls))
            act.setStatusTip(describe(cls))
            act.triggered.connect(lambda _c=False, k=kind: self.add_layer(k))
            self.add_actions[kind] = act
        self.add_menu.setToolTipsVisible(True)
        self.add_button = self._button(_("Add layer"), QStyle.StandardPixmap.SP_FileDialogNewFolder,
                                       _("add a layer after the selected one"))
        self.add_button.setMenu(self.add_menu)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # icon-only buttons (tooltips name them) keep the dock narrow enough for a 1280-pixel screen
        self.remove_button = self._button("", QStyle.StandardPixmap.SP_TrashIcon, _("Remove the selected layer"),
                                          self.remove_layer)
        self.duplicate_button = self._button("", QStyle.StandardPixmap.SP_FileDialogContentsView,
                                             _("Duplicate: insert a copy of the selected layer below it"),
                                             self.duplicate_layer)
        self.up_button = self._button("", QStyle.StandardPixmap.SP_ArrowUp, _("Move the selected layer up"),
                                      lambda: self.move_layer(-1))
        self.down_button = self._button("", QStyle.StandardPixmap.SP_ArrowDown, _("Move the selected layer down"),
                                        lambda: self.move_layer(+1))
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.duplicate_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.layer_box = QGroupBox(_("Layer"))
        self.layer_form = QFormLayout(self.layer_box)
        self.layer_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layer_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)      # labels above: fields get the width
        self.net_box = QGroupBox(_("Input and loss"))
        net_form = QFormLayout(self.net_box)
        net_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.input_boxes = []
        shape_row = QHBoxLayout()
        for tip in (_("input C: channels; must match the data set's images"),
                    _("input H: height; must match the data set's images"),
                    _("input W: width; must match the data set's images")):
            box = QSpinBox()
            box.setRange(1, 4096)
            box.setKeyboardTracking(False)
            box.setMinimumWidth(56)
            box.setToolTip(tip)
            box.valueChanged.connect(self._input_edited)
            self.input_boxes.append(box)
            shape_row.addWidget(box)
        net_form.addRow(_("input C×H×W"), shape_row)
        self.reduction = QComboBox()
        for value in ("mean", "sum"):
            self.reduction.addItem(choice_label(value), value)
        self.reduction.setToolTip(_("mean: C averages the batch's losses (the gradient does not grow with the "
                                    "batch size); sum: adds them"))
        self.reduction.currentIndexChanged.connect(lambda _k: self._reduction_edited(self.reduction.currentData()))
        net_form.addRow(_("loss reduction"), self.reduction)

        top = QWidget()
        top_box = QVBoxLayout(top)
        top_box.setContentsMargins(0, 0, 0, 0)
        top_box.addLayout(buttons)
        top_box.addWidget(self.tree, 1)
        top_box.addWidget(self.error)
        form = QWidget()
        form_box = QVBoxLayout(form)
        form_box.setContentsMargins(0, 0, 0, 0)
        form_box.addWidget(self.layer_box)
        form_box.addWidget(self.net_box)
        form_box.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(scroll)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.tree.setMinimumHeight(120)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.orderChanged.connect(self._reordered)

    def _button(self, text: str, icon: QStyle.StandardPixmap, tip: str, slot: Callable | None = None) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setIcon(self.style().standardIcon(icon))
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon if text
                             else Qt.ToolButtonStyle.ToolButtonIconOnly)
        b.setToolTip(tip)
        if slot is not None:
            b.clicked.connect(slot)
        return b

    # -- the spec ---------------------------------------------------------------
    def spec(self) -> dict[str, Any]:
        return copy.deepcopy(self._spec)

    def load_spec(self, spec: dict[str, Any]) -> None:
        """Show the network's spec as the applied one (no undo entry; the undo history is cleared)."""
        self._applied = copy.deepcopy(spec)
        self.undo_stack.clear()
        self._show_spec(spec, self.current_row(), announce=False)

    def revalidate(self) -> None:
        """Check the stack shown again (a check that ran on after the validator gave up waiting has ended)."""
        self._show_spec(self._spec, self.current_row())

    def current_row(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else self.tree.indexOfTopLevelItem(item)

    def select_layer(self, index: int | None) -> None:
        if index is not None and 0 <= index < self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(index))

    def confirm_discard(self) -> bool:
        """Ask before an edit throws the trained weights away (tests patch this)."""
        answer = QMessageBox.question(
            self, _("Discard the trained weights?"),
            _("Changing the layer stack builds a new network with fresh weights; the training so far "
              "and the step history are lost.\n\nChange the stack anyway?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _allowed(self) -> bool:
        if self._discard_confirmed or not self.is_trained():
            return True
        if self.confirm_discard():
            self._discard_confirmed = True
            return True
        return False

    def propose(self, new: dict[str, Any], text: str, row: int | None = None, merge_key: Any = None) -> bool:
        """Push an edit (validated and applied at once); False when nothing changed or the user declined."""
        if new == self._spec:
            return False
        if not self._allowed():
            self._show_spec(self._spec, self.current_row(), announce=False)     # put the widgets back
            return False
        self.undo_stack.push(_SpecCommand(self, copy.deepcopy(self._spec), copy.deepcopy(new), text,
                                          self.current_row() if row is None else row, merge_key))
        return True

    def undo(self) -> None:
        if self.undo_stack.canUndo() and self._allowed():
            self.undo_stack.undo()

    def redo(self) -> None:
        if self.undo_stack.canRedo() and self._allowed():
            self.undo_stack.redo()

    # -- edits ----------------------------------------------------------------
    def _layers(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._spec["layers"])

    def _with_layers(self, layers: list[dict[str, Any]]) -> dict[str, Any]:
        return {**copy.deepcopy(self._spec), "layers": layers}

    def add_layer(self, kind: str) -> None:
        layers = self._layers()
        row = self.current_row()
        at = len(layers) if row is None else row + 1
        layers.insert(at, new_layer(kind))
        self.propose(self._with_layers(layers), _("add {type}").format(type=kind), at)

    def remove_layer(self) -> None:
        row = self.current_row()
        layers = self._layers()
        if row is None or len(layers) <= 1:
            return
        kind = layers.pop(row)["type"]
        self.propose(self._with_layers(layers), _("remove layer {index} {type}").format(index=row, type=kind),
                     min(row, len(layers) - 1))

    def duplicate_layer(self) -> None:
        row = self.current_row()
        if row is None:
            return
        layers = self._layers()
        layers.insert(row + 1, copy.deepcopy(layers[row]))
        self.propose(self._with_layers(layers), _("duplicate layer {index} {type}").format(index=row, type=layers[row]["type"]),
                     row + 1)

    def move_layer(self, delta: int) -> None:
        row = self.current_row()
        layers = self._layers()
        if row is None or not 0 <= row + delta < len(layers):
            return
        layers[row], layers[row + delta] = layers[row + delta], layers[row]
        text = (_("move layer {index} up") if delta < 0 else _("move layer {index} down")).format(index=row)
        self.propose(self._with_layers(layers), text, row + delta)

    def set_field(self, row: int, name: str, value: Any) -> None:
        layers = self._layers()
        layers[row][name] = value
        self.propose(self._with_layers(layers), _("layer {index}: {name} = {value}").format(index=row, name=name, value=value), row,
                     merge_key=(row, name))

    def set_type(self, row: int, kind: str) -> None:
        layers = self._layers()
        if layers[row].get("type") == kind:
            return
        layers[row] = convert_layer(layers[row], kind)
        self.propose(self._with_layers(layers), _("layer {index}: {type}").format(index=row, type=kind), row)

    def _reordered(self, order: list[int]) -> None:
        layers = self._layers()
        moved = [layers[i] for i in order]
        # the row the user dragged is the one whose position changed the most
        row = max(range(len(order)), key=lambda r: abs(order[r] - r))
        if not self.propose(self._with_layers(moved), _("reorder layers"), row):
            self._show_spec(self._spec, self.current_row(), announce=False)

    def _input_edited(self, _value: int) -> None:
        n = len(self._spec["input_shape"])
        shape = [b.value() for b in self.input_boxes][-n:] if n == 1 else [b.value() for b in self.input_boxes]
        self.propose({**self.spec(), "input_shape": shape}, _("input shape {shape}").format(shape=format_shape(shape)),
                     merge_key=("input_shape",))

    def _reduction_edited(self, text: str) -> None:
        self.propose({**self.spec(), "loss": {**self._spec.get("loss", {}), "reduction": text}},
                     _("loss reduction {value}").format(value=text))

    # -- showing ----------------------------------------------------------------
    def _validate(self, spec: dict[str, Any]) -> tuple[Any, str, int | None]:
        """(network or None, message, offending layer index)."""
        if self.validator is None:
            from visualcnn.network import Network
            validator = Network.from_spec
        else:
            validator = self.validator
        try:
            return validator(spec), "", None
        except VisualCNNError as e:
            return None, str(e), getattr(e, "layer_index", None)

    def _show_spec(self, spec: dict[str, Any], row: int | None, announce: bool = True) -> None:
        """Show `spec`: validate, fill the rows, mark an error, and (announce) apply it if valid and new."""
        self._spec = copy.deepcopy(spec)
        net, message, bad = self._validate(self._spec)
        self.valid, self.error_message, self.error_index = net is not None, message, bad
        rows = layer_rows(self._spec, net)
        with QSignalBlocker(self.tree):
            self.tree.clear()
            bold = QFont(self.tree.font())
            bold.setBold(True)
            for r in rows:
                params = "" if r["n_params"] is None else (f"{r['n_params']:,}" if r["n_params"] else "–")
                item = QTreeWidgetItem([str(r["index"]), r["type"], r["shape"], params])
                item.setData(0, Qt.ItemDataRole.UserRole, r["index"])
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
                item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                tip = (_(r["description"]) if r["description"] else "") + "".join(
                    "\n" + _("note: {note}").format(note=n) for n in r["notes"])
                if r["index"] == bad:
                    for c in range(4):
                        item.setBackground(c, ERROR_BRUSH)
                        item.setFont(c, bold)
                    item.setIcon(1, self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical))
                    tip = f"{message}\n\n{tip}"
                elif r["notes"]:
                    item.setIcon(1, self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation))
                for c in range(4):
                    item.setToolTip(c, tip)
                self.tree.addTopLevelItem(item)
            if rows:
                target = bad if bad is not None and row is None else row
                target = min(max(target if target is not None else 0, 0), len(rows) - 1)
                self.tree.setCurrentItem(self.tree.topLevelItem(target))
        self.tree.fit_width()
        show_error(self.error, message)
        shape = list(self._spec.get("input_shape", []))
        for box, value in zip(self.input_boxes, [1] * (3 - len(shape)) + shape if len(shape) <= 3 else shape):
            with QSignalBlocker(box):
                box.setValue(int(value))
        self.input_boxes[0].setVisible(len(shape) == 3)
        self.input_boxes[1].setVisible(len(shape) == 3)
        with QSignalBlocker(self.reduction):
            self.reduction.setCurrentIndex(max(0, self.reduction.findData(
                self._spec.get("loss", {}).get("reduction", "mean"))))
        self._refresh_form()
        self._update_buttons()
        if self.valid:
            self._discard_confirmed = False
            if announce and self._spec != self._applied:
                self._applied = copy.deepcopy(self._spec)
                self.specApplied.emit(self.spec())
        self.validityChanged.emit(self.valid, message)

    def _update_buttons(self) -> None:
        row = self.current_row()
        n = self.tree.topLevelItemCount()
        self.remove_button.setEnabled(row is not None and n > 1)
        self.duplicate_button.setEnabled(row is not None)
        self.up_button.setEnabled(row is not None and row > 0)
        self.down_button.setEnabled(row is not None and row < n - 1)

    def _current_changed(self, *_args: Any) -> None:
        self._refresh_form()
        self._update_buttons()
        row = self.current_row()
        if row is not None:
            self.layerSelected.emit(row)
