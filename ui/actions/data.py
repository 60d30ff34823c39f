"""Data menu: the bundled and synthetic data sets at each size, an IDX folder or an .npz file, and the way
back from a pinned input to the dataset's batches."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QMenu

from visualcnn.i18n import N_, _

from .common import add_action

KEY = "data"

#: (menu title, dataset name, sizes)
DATA_CHOICES = ((N_("Digits (handwritten, 10 classes)"), "digits", (8, 16, 28)),
                (N_("Bars (4 orientations)"), "bars", (8, 16, 28)),
                (N_("Shapes (circle, square, triangle, cross)"), "shapes", (8, 16, 28)))


def create(window: Any) -> None:
    add_action(window, "unpin", _("Back to dataset batches"), _("stop stepping on a pinned image"), None)
    add_action(window, "load_idx", _("MNIST-style IDX folder…"), _("a folder with train/t10k images and labels in IDX "
               "format (MNIST, Fashion-MNIST)"), None)
    add_action(window, "load_npz", _("NumPy file (.npz)…"), _("images x (N, H, W) or (N, C, H, W) and labels y"), None)


def menu(window: Any) -> QMenu:
    a = window.actions
    m = window.menuBar().addMenu(_("D&ata"))
    window.data_menu = m
    window.data_actions = {}
    for title, name, sizes in DATA_CHOICES:
        sub = m.addMenu(_(title))
        for size in sizes:
            act = sub.addAction(f"{size}×{size}")
            act.setStatusTip(_("train and step on this data set at {size}×{size} pixels (the stack's input must "
                               "match)").format(size=size))
            window.data_actions[(name, size)] = act
    m.addSeparator()
    m.addActions([a["load_idx"], a["load_npz"]])
    m.addSeparator()
    m.addAction(a["unpin"])
    return m


def connect(window: Any) -> None:
    a, c = window.actions, window.controller
    a["unpin"].triggered.connect(c.unpin_input)
    a["load_idx"].triggered.connect(lambda: window.load_dataset_dir())
    a["load_npz"].triggered.connect(lambda: window.load_dataset_file())
    for (name, size), act in window.data_actions.items():
        act.triggered.connect(lambda _checked=False, n=name, s=size: window.load_dataset({"name_or_path": n, "size": s},
                                                                                  f"{n} {s}×{s}"))
