"""One edit of the layer stack as an undo command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PyQt6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from .editor import StackEditor


class _SpecCommand(QUndoCommand):
    """One edit of the stack: redo shows `new`, undo shows `old` (each validated and applied)."""

    def __init__(self, editor: "StackEditor", old: dict, new: dict, text: str, row: int | None,
                 merge_key: Any = None) -> None:
        super().__init__(text)
        self.editor, self.old, self.new, self.row, self.merge_key = editor, old, new, row, merge_key
        self.old_row = editor.current_row()

    def id(self) -> int:
        return 1 if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        # a spin box stepped 3 → 4 → 5 is one edit to undo
        if not isinstance(other, _SpecCommand) or other.merge_key != self.merge_key:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.editor._show_spec(self.new, self.row)

    def undo(self) -> None:
        self.editor._show_spec(self.old, self.old_row)

