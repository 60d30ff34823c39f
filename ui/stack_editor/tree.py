"""The layer stack's rows: one per layer, reordered by drag and drop."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget

from visualcnn.i18n import _


class _LayerTree(QTreeWidget):
    """The stack as rows; drag and drop reorders and reports the new order of the old indices."""

    orderChanged = pyqtSignal(list)

    def __init__(self) -> None:
        super().__init__()
        self.setColumnCount(4)
        self.setHeaderLabels(["#", _("layer"), _("output"), _("params")])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.invisibleRootItem().setFlags(self.invisibleRootItem().flags() | Qt.ItemFlag.ItemIsDropEnabled)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        # a narrow dock scrolls sideways rather than cutting "maxpool2d" to "maxp…"
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)

    def dropEvent(self, event) -> None:
        super().dropEvent(event)
        order = [self.topLevelItem(r).data(0, Qt.ItemDataRole.UserRole) for r in range(self.topLevelItemCount())]
        if order != sorted(order):
            self.orderChanged.emit(order)
