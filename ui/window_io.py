"""WindowIO: the window's file and data commands that open dialogs — a layer stack (spec) from or to JSON,
a picture as the input, another data set. Errors become banner messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QFileDialog, QWidget

from visualcnn.i18n import N_, _

from . import files as files_mod


def get_directory(parent: QWidget | None, caption: str, directory: str) -> str:
    """A folder chosen by the user ('' if cancelled); a module function so tests can replace it."""
    return QFileDialog.getExistingDirectory(parent, caption, directory)


class WindowIO:
    """Mixin of MainWindow: open/save a layer stack, open an image, load a data set."""

    def open_spec(self, path: str | None = None) -> bool:
        """Load a layer stack (a spec or a preset/session JSON) into the editor as one undoable edit."""
        if not path:
            path = files_mod.get_open_path(self, _("Open layer stack"), "", "JSON (*.json)")
            if not path:
                return False
        from visualcnn.errors import FileFormatError
        from visualcnn.jsontext import read_json_file
        try:
            data = read_json_file(path, FileFormatError, N_("a JSON layer stack"))   # size, depth, NaN checked
        except FileFormatError as e:
            self.show_message(str(e))
            return False
        spec = data.get("spec", data) if isinstance(data, dict) else data
        if not isinstance(spec, dict):
            self.show_message(_("{path}: expected a JSON object with input_shape and layers").format(path=path))
            return False
        return self.editor.propose(spec, _("open {name}").format(name=Path(path).name))

    def save_spec(self, path: str | None = None) -> bool:
        if not path:
            path = files_mod.get_save_path(self, _("Save layer stack"), "stack.json", "JSON (*.json)")
            if not path:
                return False
        try:
            from visualcnn.io import save_spec
            save_spec(self.editor.spec(), path)
        except (OSError, ValueError) as e:
            self.show_message(_("{path}: could not save ({error})").format(path=path, error=e))
            return False
        self.statusBar().showMessage(_("saved {path}").format(path=path), 4000)
        return True

    def open_image(self, path: str | None = None) -> bool:
        """A picture as the input: converted by the dataset's rules (shown in the Draw panel), pinned, run forward."""
        if not path:
            path = files_mod.get_open_path(self, _("Open an image as the input"), "",
                                           _("Pictures (*.png *.jpg *.jpeg *.bmp *.gif);;All files (*)"))
            if not path:
                return False
        self.docks["draw"].show()
        self.docks["draw"].raise_()
        if not self.pad.open_image(path):
            self.show_message(self.pad.message.text())
            return False
        load = self.pad._load
        if load is not None:        # a big picture, decoded off the GUI thread: its progress and any failure here too
            load.progress.connect(lambda pct, text: self.statusBar().showMessage(f"{text} {pct} %", 4000))
            load.failed.connect(self.show_message)
        return True

    def _relabel_drawing(self, _label: int) -> None:
        x = self.pad.current_input()
        if x is not None and self.controller.session.pinned is not None:
            self.controller.try_input(x)

    def load_dataset(self, source: dict[str, Any], label: str) -> bool:
        """Load a data set (a load_dataset source) and switch the session to it; errors become messages."""
        from visualcnn.data import load_dataset
        from visualcnn.errors import VisualCNNError
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            dataset = load_dataset(source)
        except (VisualCNNError, OSError, ValueError) as e:
            self.show_message(_("{label}: could not load the data set: {error}").format(label=label, error=e))
            return False
        finally:
            QApplication.restoreOverrideCursor()
        return self.controller.set_dataset(dataset, label)

    def load_dataset_dir(self, path: str | None = None) -> bool:
        path = path or get_directory(self, _("Folder with MNIST-style IDX files"), "")
        return bool(path) and self.load_dataset({"name_or_path": path}, Path(path).name)

    def load_dataset_file(self, path: str | None = None) -> bool:
        path = path or files_mod.get_open_path(self, _("Data set file"), "", _("NumPy arrays (*.npz *.npy)"))
        return bool(path) and self.load_dataset({"name_or_path": path}, Path(path).name)
