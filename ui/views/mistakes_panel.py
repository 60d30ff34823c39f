"""The study note's mistakes: a checkbox for each, and for the selected one the note's formula beside the
correct one and why they differ (visualcnn.mistakes.MISTAKES). Sized for a projector.

The panel only says what the user wants (`mistakesChanged(list of names)`); the controller applies it
(`visualcnn.mistakes.apply_to_session`).
"""

from __future__ import annotations

from typing import Iterable

from PyQt6 import QtCore, QtWidgets

from ui import style
from visualcnn.i18n import _
from visualcnn.mistakes import MISTAKES, formula_html

DETAIL_PT = 15
NOTE_COLOR = "#c0392b"
CORRECT_COLOR = "#2e8b57"


def mistake_html(name: str, applies: bool = True) -> str:
    """The detail text of one mistake: title, note vs correct formula side by side, why, what the check flags."""
    m = MISTAKES[name]
    if m.kind == "optimizer":
        caught = _("Caught by the update check (one step compared with the rule by hand) on: <b>every bias b</b>.")
    elif m.kind == "loss":
        caught = _("Caught by the gradient check on: <b>∂C/∂logits, and so every gradient below it</b>.")
    else:
        caught = _("Caught by the gradient check on: <b>the input gradient of each {type} layer, and everything "
                   "below it</b>.").format(type=m.target)
    warn = ("" if applies else "<p><i>" + _("This network has no {type} layer: switching it on changes nothing "
                                            "here.").format(type=m.target) + "</i></p>")
    note, correct = _("The study note"), _("Correct ({section})").format(section=m.section)
    return f"""
<h3 style="margin-bottom:4px">{_(m.title)}</h3>
<table cellspacing="0" cellpadding="8" width="100%" style="margin-top:4px">
<tr><th align="left" style="color:{NOTE_COLOR}">{note}</th>
    <th align="left" style="color:{CORRECT_COLOR}">{correct}</th></tr>
<tr><td valign="top" style="border-left:4px solid {NOTE_COLOR}">{formula_html(_(m.note_formula))}</td>
    <td valign="top" style="border-left:4px solid {CORRECT_COLOR}">{formula_html(_(m.correct_formula))}</td></tr>
</table>
<p>{formula_html(_(m.why))}</p>
<p style="color:gray">{caught}</p>{warn}"""


#: the mistakes list scrolls below this many rows' height
LIST_MIN_ROWS = 2


class MistakesPanel(QtWidgets.QWidget):
    """Checkboxes for the note's mistakes (mistakesChanged(list)) and the selected one's formulas and why."""

    mistakesChanged = QtCore.pyqtSignal(list)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._applies: dict[str, bool] = {name: True for name in MISTAKES}
        self._last_checked: list[str] = []
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(style.MARGIN, style.MARGIN, style.MARGIN, style.MARGIN)
        lay.setSpacing(style.SPACING)
        head = QtWidgets.QLabel(_("The study note's mistakes"))
        head.setFont(style.font(style.FONT_TITLE_PT, bold=True))
        lay.addWidget(head)
        sub = QtWidgets.QLabel(_("Tick one to compute the note's formula instead of the correct one."))
        sub.setWordWrap(True)
        lay.addWidget(sub)

        self.list = QtWidgets.QListWidget()
        self.list.setFont(style.font(style.FONT_PT + 1))
        self.list.setSpacing(2)
        for name, m in MISTAKES.items():
            item = QtWidgets.QListWidgetItem(f"{name}  —  {_(m.title)}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Unchecked)
            item.setToolTip(_(m.why))
            self.list.addItem(item)
        # each row wraps to the list's width (at 1280×800 "softmax-diagonal — Softmax …" was cut after a
        # dozen letters); the list is as tall as its rows where the dock has room, and scrolls itself below
        # that (down to LIST_MIN_ROWS rows) rather than making the whole dock scroll past the comparison plot
        self.list.setWordWrap(True)
        self.list.setTextElideMode(QtCore.Qt.TextElideMode.ElideNone)
        self.list.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list.installEventFilter(self)
        self._fit_list()
        self.list.itemChanged.connect(self._item_changed)
        self.list.currentRowChanged.connect(self._show_detail)
        lay.addWidget(self.list)

        self.detail = QtWidgets.QTextBrowser()
        self.detail.setOpenExternalLinks(False)
        self.detail.setFont(style.font(DETAIL_PT))
        lay.addWidget(self.detail, 1)
        self.list.setCurrentRow(0)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.list and event.type() in (QtCore.QEvent.Type.Resize, QtCore.QEvent.Type.FontChange):
            self._fit_list()
        return False

    def _fit_list(self) -> None:
        """At most as tall as its wrapped rows at its present width; at least LIST_MIN_ROWS of them."""
        lst = self.list
        lst.doItemsLayout()
        heights = [lst.visualItemRect(lst.item(r)).height() + 2 * lst.spacing() for r in range(lst.count())]
        frame = 2 * lst.frameWidth()
        lst.setMaximumHeight(sum(heights) + frame)
        lst.setMinimumHeight(sum(heights[:LIST_MIN_ROWS]) + frame)

    # -- state ---------------------------------------------------------------------------
    def checked(self) -> list[str]:
        """The ticked mistakes, in registry order."""
        return [self._name(i) for i in range(self.list.count())
                if self.list.item(i).checkState() == QtCore.Qt.CheckState.Checked]

    def set_checked(self, names: Iterable[str]) -> None:
        """Tick exactly `names` without emitting mistakesChanged (the model → view direction)."""
        wanted = set(names)
        unknown = wanted - set(MISTAKES)
        if unknown:
            raise ValueError(f"unknown mistake {sorted(unknown)[0]!r}; valid: {', '.join(MISTAKES)}")
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            self.list.item(i).setCheckState(QtCore.Qt.CheckState.Checked if self._name(i) in wanted
                                            else QtCore.Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._last_checked = self.checked()

    def set_network(self, network) -> None:
        """Say which mistakes change nothing in `network` (e.g. lp-missing-factor without an lppool2d layer)."""
        from visualcnn.mistakes import applies_to
        self.list.blockSignals(True)            # a font change is an itemChanged too
        for i in range(self.list.count()):
            name = self._name(i)
            self._applies[name] = applies_to(name, network)
            item = self.list.item(i)
            f = item.font()
            f.setItalic(not self._applies[name])
            item.setFont(f)
        self.list.blockSignals(False)
        self._show_detail(self.list.currentRow())

    def select(self, name: str) -> None:
        self.list.setCurrentRow(list(MISTAKES).index(name))

    def current(self) -> str | None:
        row = self.list.currentRow()
        return self._name(row) if row >= 0 else None

    # -- internals ------------------------------------------------------------------------
    def _name(self, row: int) -> str:
        return self.list.item(row).data(QtCore.Qt.ItemDataRole.UserRole)

    def _item_changed(self, item: QtWidgets.QListWidgetItem) -> None:
        checked = self.checked()
        if checked != self._last_checked:       # only a tick counts, not a font or text change
            self._last_checked = checked
            self.list.setCurrentItem(item)
            self.mistakesChanged.emit(checked)

    def _show_detail(self, row: int) -> None:
        if row < 0:
            self.detail.clear()
            return
        name = self._name(row)
        self.detail.setHtml(mistake_html(name, self._applies.get(name, True)))
