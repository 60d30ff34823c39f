"""Data ▸ Download MNIST… / Download Fashion-MNIST…: the window's one way to connect to the network.

Opening a file never downloads (issue 12 §1); downloading is the user's explicit action, and the question
asked first names the host it connects to and the folder it writes. The transfer runs on a thread of its own
(the window keeps answering), its progress in the status bar; once verified, the window switches to the set.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QMessageBox

from visualcnn.data import download as dl
from visualcnn.i18n import N_, _

#: name -> (menu text, download function's name in visualcnn.data.download, its mirror, its size in words)
SETS = {"mnist": (N_("Download MNIST…"), "download_mnist", dl.DEFAULT_MIRROR, N_("about 11 MB")),
        "fashion-mnist": (N_("Download Fashion-MNIST…"), "download_fashion_mnist", dl.FASHION_MNIST_MIRROR,
                          N_("about 30 MB"))}
#: name -> how messages name the set
TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def ask(parent: Any, question: str) -> bool:
    """The yes/no question before connecting (replaced in tests)."""
    answer = QMessageBox.question(parent, _("Download a data set"), question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                  QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def question_text(name: str) -> str:
    mirror, size = SETS[name][2], SETS[name][3]
    return _("This connects to {mirror} and downloads {name} ({size}, four .gz files, each verified by its "
             "checksum) into\n{folder}\n\nNothing else connects to the network. Download now?").format(
        mirror=mirror, name=TITLES[name], size=_(size), folder=dl.default_dest(name))


class Downloader(QObject):
    """One download at a time, on a plain thread; its signals arrive on the GUI thread (queued)."""

    progress = pyqtSignal(str)
    finished = pyqtSignal(str, object)          # name, the folder (Path) or the error (Exception)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, name: str, fetch: Callable[..., Path]) -> None:
        def report(file_name: str, done: int, total: int) -> None:
            if total:
                text = _("downloading {name}: {file} {done:.1f} of {total:.1f} MB").format(
                    name=TITLES.get(name, name), file=file_name, done=done / 2**20, total=total / 2**20)
            else:
                text = _("downloading {name}: {file} {done:.1f} MB").format(name=TITLES.get(name, name), file=file_name,
                                                                           done=done / 2**20)
            self.progress.emit(text)

        def work() -> None:
            try:
                self.finished.emit(name, fetch(progress=report))
            except Exception as e:              # noqa: BLE001 - every failure becomes a message in the window
                self.finished.emit(name, e)
        self.thread = threading.Thread(target=work, name=f"download-{name}", daemon=True)
        self.thread.start()


def install(window: Any) -> None:
    window.downloader = Downloader(window)
    window.downloader.progress.connect(lambda text: window.statusBar().showMessage(text, 4000))
    window.downloader.finished.connect(lambda name, result: _done(window, name, result))
    menu = window.data_menu
    menu.addSeparator()
    for name, (text, _fetch, mirror, _size) in SETS.items():
        act = menu.addAction(_(text))
        act.setStatusTip(_("connects to {mirror} (asks first) and keeps the files in {folder}").format(
            mirror=mirror, folder=dl.default_dest(name)))
        act.triggered.connect(lambda _checked=False, n=name: download(window, n))
        window.actions[f"download_{name}"] = act


def download(window: Any, name: str) -> bool:
    """Ask, then start the download; False if the user declined or one is already running."""
    if window.downloader.busy:
        window.show_message(_("A download is still running: wait for it to finish."))
        return False
    if not ask(window, question_text(name)):
        return False
    window.statusBar().showMessage(_("downloading {name} from {mirror}…").format(name=TITLES[name], mirror=SETS[name][2]),
                                  4000)
    window.downloader.start(name, getattr(dl, SETS[name][1]))
    return True


def _done(window: Any, name: str, result: Any) -> None:
    if isinstance(result, Exception):
        window.show_message(_("Could not download {name}: {error}").format(name=TITLES[name], error=result))
        return
    window.statusBar().showMessage(_("{name} is in {folder}").format(name=TITLES[name], folder=result), 8000)
    window.load_dataset({"name_or_path": str(result)}, f"{TITLES[name]} 28×28")
