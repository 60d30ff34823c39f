"""The stack editor's property form: the selected layer's type and options, each with its words, choices,
range and help in the current language; edits go back to the editor as undoable spec changes."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QSignalBlocker, Qt
from PyQt6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from visualcnn.i18n import N_, _
from visualcnn.layers import LAYER_TYPES, Field

from .layers import describe

_MAX_INT = 100_000
#: the form's names of the built-in layers' options;
#: a custom layer's options show their key
FIELD_LABELS = {"out_channels": N_("output channels"), "kernel_size": N_("kernel size"), "stride": N_("stride"),
                "padding": N_("padding"), "bias": N_("bias"), "p": "p", "norm": N_("normalisation"),
                "out_features": N_("output units")}
#: how a choice is shown (the spec stores the value itself)
CHOICE_LABELS = {"tied": N_("tied"), "untied": N_("untied"), "mean": N_("mean"), "sum": N_("sum")}


def field_label(name: str) -> str:
    return _(FIELD_LABELS[name]) if name in FIELD_LABELS else name.replace("_", " ")


def choice_label(value: Any) -> str:
    return _(CHOICE_LABELS[value]) if isinstance(value, str) and value in CHOICE_LABELS else str(value)


def field_help(f: Field) -> str:
    """A field's help in the current language, and its range when it has one (the boxes keep to it)."""
    text = _(f.help) if f.help else ""
    if f.choices is None and f.minimum is not None:
        bound = (_("from {minimum} to {maximum}") if f.maximum is not None else _("at least {minimum}")).format(
            minimum=f"{f.minimum:g}", maximum=f"{f.maximum:g}" if f.maximum is not None else "")
        text = f"{text} ({bound})" if text else bound
    return text



class LayerForm:
    """StackEditor's property form (a mixin: the editor holds layer_box, layer_form and the spec)."""

    def _refresh_form(self) -> None:
        row = self.current_row()
        layers = self._spec["layers"]
        entry = layers[row] if row is not None and row < len(layers) else None
        kind = entry.get("type") if isinstance(entry, dict) else None
        key = (row, kind)
        if key == self._form_key:          # same layer: update the values in place (keeps the focus)
            self._fill_form(entry)
            return
        self._form_key = key
        self._clear_form()
        if entry is None or kind not in LAYER_TYPES:
            self.layer_box.setTitle(_("Layer"))
            return
        cls = LAYER_TYPES[kind]
        self.layer_box.setTitle(_("Layer {index}: {type}").format(index=row, type=kind))
        type_box = QComboBox()
        type_box.addItems(list(LAYER_TYPES))
        for i, (k, c) in enumerate(LAYER_TYPES.items()):
            type_box.setItemData(i, describe(c), Qt.ItemDataRole.ToolTipRole)
        type_box.setToolTip(describe(cls))
        type_box.currentTextChanged.connect(lambda k, r=row: self.set_type(r, k))
        self._form_widgets["type"] = type_box
        self.layer_form.addRow(_("type"), type_box)
        for name, f in cls.fields.items():
            widget = self._field_widget(row, name, f)
            self._form_widgets[name] = widget
            label = QLabel(field_label(name))
            label.setToolTip(field_help(f))
            self.layer_form.addRow(label, widget)
        if not cls.fields:
            note = QLabel(_("no options"))
            note.setEnabled(False)
            self.layer_form.addRow("", note)
        self._fill_form(entry)

    def _clear_form(self) -> None:
        # deleteLater, not removeRow: the form may be rebuilt from inside one of its own widgets' signals
        while self.layer_form.rowCount():
            taken = self.layer_form.takeRow(0)
            for item in (taken.labelItem, taken.fieldItem):
                if item is not None and item.widget() is not None:
                    item.widget().hide()
                    item.widget().deleteLater()
        self._form_widgets = {}

    def eventFilter(self, obj, event) -> bool:
        """Ctrl+Z / Ctrl+Shift+Z typed in one of the layer's fields undo the stack edit (what the window says
        Ctrl+Z does), not the field's own typing."""
        from PyQt6.QtCore import QEvent
        from PyQt6.QtGui import QKeySequence
        if event.type() == QEvent.Type.ShortcutOverride:
            if event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo):
                event.ignore()             # not overridden by the field: the window's Undo action gets the key
                return True
        return False

    def _field_widget(self, row: int, name: str, f: Field) -> QWidget:
        kinds = f.kind if isinstance(f.kind, tuple) else (f.kind,)
        tip = field_help(f)
        if f.choices is not None:
            w = QComboBox()
            for c in f.choices:
                w.addItem(choice_label(c), c)
            w.currentIndexChanged.connect(lambda k, r=row, n=name, w=w: k >= 0 and self.set_field(r, n, w.itemData(k)))
        elif bool in kinds:
            w = QCheckBox()
            w.toggled.connect(lambda v, r=row, n=name: self.set_field(r, n, bool(v)))
        elif float in kinds:
            w = QDoubleSpinBox()
            w.setRange(f.minimum if f.minimum is not None else -1e6, f.maximum if f.maximum is not None else 1e6)
            w.setDecimals(3)
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda v, r=row, n=name: self.set_field(r, n, float(v)))
        else:
            spin = QSpinBox()
            spin.setRange(int(f.minimum) if f.minimum is not None else 0, _MAX_INT)
            spin.setKeyboardTracking(False)
            if type(None) in kinds:
                # an optional size: "auto" means None (e.g. pooling stride = kernel size)
                w = QWidget()
                box = QHBoxLayout(w)
                box.setContentsMargins(0, 0, 0, 0)
                auto = QCheckBox(_("auto"))
                auto.setToolTip(tip)
                box.addWidget(auto)
                box.addWidget(spin, 1)
                w.auto, w.spin = auto, spin

                def changed(*_args: Any, r=row, n=name, auto=auto, spin=spin) -> None:
                    spin.setEnabled(not auto.isChecked())
                    self.set_field(r, n, None if auto.isChecked() else int(spin.value()))
                auto.toggled.connect(changed)
                spin.valueChanged.connect(changed)
            else:
                w = spin
                spin.valueChanged.connect(lambda v, r=row, n=name: self.set_field(r, n, int(v)))
            spin.setToolTip(tip)
        w.setToolTip(tip)
        for target in (w, *w.findChildren(QWidget)):
            target.installEventFilter(self)
        return w

    def _fill_form(self, entry: dict[str, Any]) -> None:
        for name, w in self._form_widgets.items():
            value = entry.get(name, None if name == "type" else LAYER_TYPES[entry["type"]].fields[name].default)
            blockers = [QSignalBlocker(w)] + [QSignalBlocker(c) for c in (getattr(w, "auto", None),
                                                                          getattr(w, "spin", None)) if c]
            if isinstance(w, QComboBox) and name != "type":
                w.setCurrentIndex(max(0, w.findData(value)))
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    w.setValue(value)
            elif hasattr(w, "auto"):
                w.auto.setChecked(value is None)
                w.spin.setEnabled(value is not None)
                if isinstance(value, int):
                    w.spin.setValue(value)
                elif "kernel_size" in entry and isinstance(entry["kernel_size"], int):
                    w.spin.setValue(entry["kernel_size"])
            del blockers
