"""MainWindow: the pipeline in the middle, docks around it, the Debug actions and their keys.

The window builds widgets and actions only; `Controller` (ui/controller.py) holds
the Session and connects the two. Dock layout and geometry are remembered in QSettings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QFont, QKeySequence
from PyQt6.QtWidgets import (
    QApplication, QComboBox, QDockWidget, QFileDialog, QFrame, QHBoxLayout, QLabel, QMainWindow, QMenu,
    QPushButton, QScrollArea, QSizePolicy, QStyle, QToolBar, QToolButton, QVBoxLayout, QWidget,
)

from . import files as files_mod
from .controller import Controller
from .controls import RUN_UNITS, BreakpointsPanel, HyperPanel
from .files import SessionFiles
from .stack_editor import StackEditor
from .views.dataset_browser import DatasetBrowser
from .views.drawing_pad import DrawingPad
from .views.metrics import MetricsView

BASE_FONT_PT = 11
MAX_FONT_PT = 28


def ensure_readable_font(size: int | None = None) -> None:
    """The application's base font at `size` points, and never below BASE_FONT_PT (projector distance)."""
    app = QApplication.instance()
    f = QFont(app.font())
    target = max(BASE_FONT_PT, size if size is not None else f.pointSize())
    if f.pointSize() != min(MAX_FONT_PT, target):
        f.setPointSize(min(MAX_FONT_PT, target))
        app.setFont(f)


class PlaceholderView(QLabel):
    """Stands in for a view module that has not landed yet; shows where the stepping is, in words."""

    layerClicked = pyqtSignal(int)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.network = None
        self.records: list[Any] = []
        self.next_phase: Any = None
        self.selected: int | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setMinimumSize(200, 120)
        self.setText(f"{name}\n(view not available yet)")

    def set_network(self, network: Any) -> None:
        self.network = network

    def show_state(self, records: list[Any], next_phase: Any) -> None:
        self.records, self.next_phase = list(records), next_phase
        last = records[-1].description if records else "nothing yet"
        self.setText(f"{self.name}\n\nlast: {last}\nnext: {next_phase[0]}"
                     + (f" layer {next_phase[1]}" if next_phase[1] is not None else ""))

    def select_layer(self, index: int) -> None:
        self.selected = index


def _view(module: str, cls: str, name: str) -> QWidget:
    """The real view if its module exists, else a placeholder in the same slot."""
    import importlib
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or not e.name.startswith("ui.views"):
            raise
        return PlaceholderView(name)
    return getattr(mod, cls)()


class Banner(QFrame):
    """A non-modal message strip above the pipeline (breakpoints, errors); 'Show layer' and a close button."""

    showLayer = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        # fixed colours on both palettes: dark text on a light amber strip reads in any theme
        self.setStyleSheet("QFrame#banner { background: #ffe3a3; border: 1px solid #d08a00; border-radius: 4px; }"
                           "QFrame#banner QLabel { color: #3a2600; }")
        self.icon = QLabel()
        self.icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(28, 28))
        self.label = QLabel()
        self.label.setWordWrap(True)
        f = QFont(self.label.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.label.setFont(f)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layer_button = QToolButton()
        self.layer_button.setText("Show layer")
        self.layer_button.clicked.connect(lambda: self.layer is not None and self.showLayer.emit(self.layer))
        close = QToolButton()
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        close.setToolTip("hide this message")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self.icon)
        row.addWidget(self.label, 1)
        row.addWidget(self.layer_button)
        row.addWidget(close)
        self.layer: int | None = None
        self.hide()

    def show_message(self, text: str, layer: int | None = None) -> None:
        self.layer = layer
        self.label.setText(text)
        self.layer_button.setVisible(layer is not None)
        self.show()

    def text(self) -> str:
        return self.label.text()


class PinStrip(QFrame):
    """Shown while a chosen or drawn image is pinned as the input: what it is, and the way back."""

    unpinRequested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pinStrip")
        self.setStyleSheet("QFrame#pinStrip { background: #d6ebff; border: 1px solid #3d85c6; border-radius: 4px; }"
                           "QFrame#pinStrip QLabel { color: #0b2a4a; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.button = QPushButton("Back to dataset batches")
        self.button.setToolTip("unpin: step and train on the dataset's batches again (the current iteration restarts)")
        self.button.clicked.connect(self.unpinRequested)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.hide()

    def show_pinned(self, source: str) -> None:
        """Show the strip for a pinned `source` ("" hides it)."""
        if source:
            self.label.setText(f"<b>Pinned input:</b> {source} — every iteration steps on it")
        self.setVisible(bool(source))


class PadLabels(QWidget):
    """'My image is a: [class]' above the drawing pad: the label the loss compares the drawing with."""

    labelChanged = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip("the true class of your image: the loss, its gradients and the green bar use it")
        self.combo.currentIndexChanged.connect(lambda k: k >= 0 and self.labelChanged.emit(k))
        hint = QLabel("Draw or open a picture; the network's answer shows in Samples and the pipeline.")
        hint.setWordWrap(True)
        hint.setEnabled(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 0)
        row.addWidget(QLabel("My image shows:"))
        row.addWidget(self.combo)
        row.addWidget(hint, 1)

    def set_classes(self, names: list[str]) -> None:
        keep = self.combo.currentIndex()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems([str(n) for n in names])
        self.combo.setCurrentIndex(keep if 0 <= keep < len(names) else 0)
        self.combo.blockSignals(False)

    def label(self) -> int:
        return max(0, self.combo.currentIndex())


def get_directory(parent: QWidget | None, caption: str, directory: str) -> str:
    """A folder chosen by the user ('' if cancelled); a module function so tests can replace it."""
    return QFileDialog.getExistingDirectory(parent, caption, directory)


#: Data menu: (menu title, dataset name, sizes)
DATA_CHOICES = (("Digits (handwritten, 10 classes)", "digits", (8, 16, 28)),
                ("Bars (4 orientations)", "bars", (8, 16, 28)),
                ("Shapes (circle, square, triangle, cross)", "shapes", (8, 16, 28)))


class MainWindow(QMainWindow):
    """MainWindow(session, settings=None): the debugger for a Session; `controller` drives it."""

    DOCKS = ("stack", "controls", "breakpoints", "inspector", "samples", "metrics", "dataset", "draw")

    def __init__(self, session: Any, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        saved = self.settings.value("view/font_pt")
        ensure_readable_font(int(saved) if isinstance(saved, (int, str)) and str(saved).isdigit() else None)
        self.setWindowTitle("visualcnn — backpropagation, step by step")
        self.pipeline = _view("ui.views.pipeline", "PipelineView", "Pipeline")
        self.inspector = _view("ui.views.inspector", "Inspector", "Inspector")
        self.samples = _view("ui.views.samples", "SamplePanel", "Samples")
        self.editor = StackEditor()
        self.hyper_panel = HyperPanel()
        self.breakpoints_panel = BreakpointsPanel()
        self.metrics = MetricsView()
        self.browser = DatasetBrowser()
        self.pad = DrawingPad()
        self.pad_labels = PadLabels()
        self.banner = Banner()
        self.pin_strip = PinStrip()
        self.files = SessionFiles(self, settings=self.settings)
        self._close_confirmed = False
        self._restore_run_settings()

        central = QWidget()
        box = QVBoxLayout(central)
        box.setContentsMargins(6, 6, 6, 0)
        box.setSpacing(6)
        box.addWidget(self.banner)
        box.addWidget(self.pin_strip)
        box.addWidget(self.pipeline, 1)
        self.setCentralWidget(central)
        pad_box = QWidget()
        pad_layout = QVBoxLayout(pad_box)
        pad_layout.setContentsMargins(0, 0, 0, 0)
        pad_layout.setSpacing(0)
        pad_layout.addWidget(self.pad_labels)
        pad_layout.addWidget(self.pad, 1)

        self.docks: dict[str, QDockWidget] = {}
        self.actions: dict[str, QAction] = {}
        self._make_actions()
        self._make_menus()
        L, R, B = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                   Qt.DockWidgetArea.BottomDockWidgetArea)
        # the bottom row spans the centre only: the side columns keep their full height
        self.setCorner(Qt.Corner.BottomLeftCorner, L)
        self.setCorner(Qt.Corner.BottomRightCorner, R)
        # the left column is the stack; the right has the inspector over three tabs; the bottom the
        # curves, the dataset and the drawing pad, under the pipeline
        self.add_dock("stack", "Layer stack", self.editor, L)
        self.add_dock("inspector", "Inspector", self.inspector, R)
        self.add_dock("controls", "Training", self.hyper_panel, R, scroll=True)
        self.add_dock("breakpoints", "Breakpoints", self.breakpoints_panel, R, tabify_with="controls", scroll=True)
        self.add_dock("samples", "Samples", self.samples, R, tabify_with="controls")
        self.add_dock("metrics", "Metrics", self.metrics, B)
        self.add_dock("draw", "Draw an input", pad_box, B, tabify_with="metrics", scroll=True)
        self.add_dock("dataset", "Dataset", self.browser, B, tabify_with="draw")
        self.docks["controls"].raise_()
        self.docks["metrics"].raise_()
        self.docks["controls"].toggleViewAction().setText("Training (hyper-parameters, run)")
        self._make_status_bar()
        self._default_state = self.saveState()
        self.controller = Controller(session, self)
        self._connect_extra()
        from .mathlab import install_mathlab       # before restore_layout: its docks' places are remembered too
        self.mathlab = install_mathlab(self)
        from .teach import install_teaching        # lessons (and their dock's place, remembered too)
        install_teaching(self)
        self.restore_layout()
        self._update_title()

    # -- extension points (for panels added later: the gradient check, the mistakes menu) -------
    def add_dock(self, key: str, title: str, widget: QWidget,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
                 tabify_with: str | None = None, scroll: bool = False) -> QDockWidget:
        """Add `widget` as a dock named `key` (its layout is remembered), listed under View.

        tabify_with: the key of a dock to share tabs with; scroll: wrap a form so it scrolls
        rather than forcing a minimum window size. Follow `controller.sessionChanged` to track
        the Session, and go through the controller's commands to change it.
        """
        dock = self._dock(key, title, widget, area, scroll)
        if tabify_with is not None:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        toggle = dock.toggleViewAction()
        toggle.setStatusTip(f"show or hide the {title} panel")
        self.view_menu.insertAction(self._view_docks_end, toggle)
        return dock

    def add_menu(self, title: str) -> QMenu:
        """A new top-level menu, placed before Debug."""
        menu = QMenu(title, self)
        self.menuBar().insertMenu(self.debug_menu.menuAction(), menu)
        return menu

    # -- building ---------------------------------------------------------------------
    def _dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")      # saveState/restoreState find docks by name
        if scroll:
            # forms scroll rather than force a minimum window size (1280×800 projectors)
            scroll = QScrollArea()
            scroll.setWidget(widget)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            dock.setWidget(scroll)
        else:
            dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _action(self, key: str, text: str, tip: str, icon: QStyle.StandardPixmap | None = None,
                shortcut: str | QKeySequence.StandardKey | None = None) -> QAction:
        act = QAction(text, self)
        if icon is not None:
            act.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            tip = f"{tip}  ({act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(act)        # shortcuts work even while the toolbar is hidden
        self.actions[key] = act
        return act

    def _make_actions(self) -> None:
        P = QStyle.StandardPixmap
        self._action("step", "Step phase", "run the next phase: one layer forward or backward, the loss, "
                     "or the update", P.SP_ArrowRight, "F10")
        self._action("step_back", "Step back", "undo the last phase exactly", P.SP_ArrowLeft, "Shift+F10")
        self._action("step_iteration", "Step iteration", "run the rest of this iteration, up to and including "
                     "the update", P.SP_MediaSkipForward, "F11")
        self._action("run", "Run", "train for the iterations or epochs set under Training, at the speed set "
                     "there; press again to pause, and again to resume", P.SP_MediaPlay, "F5")
        self._action("stop", "Stop", "end the run", P.SP_MediaStop, "Shift+F5")
        self._action("reset", "Reset weights", "new initial weights from the seed; clears the step history",
                     P.SP_BrowserReload, "Ctrl+R")
        self._action("undo", "Undo stack edit", "undo the last change to the layer stack", P.SP_ArrowBack,
                     "Ctrl+Z")
        self._action("redo", "Redo stack edit", "redo the change to the layer stack", P.SP_ArrowForward,
                     "Ctrl+Shift+Z")
        self._action("open_spec", "Open layer stack…", "load a layer stack (spec) from a JSON file into the editor",
                     P.SP_DialogOpenButton)
        self._action("save_spec", "Save layer stack…", "save the layer stack (spec) as JSON", P.SP_DialogSaveButton)
        self._action("open_image", "Open image…", "a PNG or JPEG picture as the input: converted like the "
                     "dataset's images, pinned, and run forward", None, "Ctrl+I")
        self._action("export_pipeline", "Pipeline view as PNG…", "save a picture of the pipeline", None)
        self._action("export_metrics_plot", "Metrics plots as PNG/SVG…", "save the curves as a picture", None)
        self._action("export_csv", "Metrics as CSV…", "every iteration's loss, accuracy, gradient norms and "
                     "update ratios, and the test points", None)
        self._action("export_record", "Current step's arrays (.npz)…", "every array of the last phase's "
                     "record (activations, gradients, updates)", None)
        self._action("unpin", "Back to dataset batches", "stop stepping on a pinned image", None)
        self._action("load_idx", "MNIST-style IDX folder…", "a folder with train/t10k images and labels in IDX "
                     "format (MNIST, Fashion-MNIST)", None)
        self._action("load_npz", "NumPy file (.npz)…", "images x (N, H, W) or (N, C, H, W) and labels y", None)
        self._action("quit", "Quit", "close the window", None, "Ctrl+Q")
        self._action("zoom_in", "Larger text", "make all text larger (for the back of the room)", None, "Ctrl++")
        self._action("zoom_out", "Smaller text", "make all text smaller", None, "Ctrl+-")
        self._action("reset_layout", "Reset layout", "put every panel back where it started", None)

    def _make_menus(self) -> None:
        a, f = self.actions, self.files.actions
        f["open"].setText("&Open session…")
        f["save"].setText("&Save session")
        f["save_as"].setText("Save session &as…")
        for act in f.values():
            self.addAction(act)
            tip = f"{act.text().replace('&', '')}  ({act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
            act.setToolTip(tip)
            act.setStatusTip(tip)
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.presets_menu = file.addMenu("&New from preset")
        self._fill_presets()
        file.addAction(f["open"])
        self.files.recent_menu(file)
        file.addActions([f["save"], f["save_as"]])
        file.addSeparator()
        file.addAction(a["open_image"])
        stack = file.addMenu("&Layer stack")
        stack.addActions([a["open_spec"], a["save_spec"]])
        export = file.addMenu("&Export")
        export.addActions([a["export_pipeline"], a["export_metrics_plot"], a["export_csv"], a["export_record"]])
        file.addSeparator()
        file.addAction(a["quit"])
        edit = bar.addMenu("&Edit")
        edit.addActions([a["undo"], a["redo"]])
        view = bar.addMenu("&View")
        self.view_menu = view
        self._view_docks_end = view.addSeparator()        # add_dock puts the panels' toggles above it
        view.addActions([a["zoom_in"], a["zoom_out"], a["reset_layout"]])
        debug = bar.addMenu("&Debug")
        self.debug_menu = debug
        debug.addActions([a["step"], a["step_back"], a["step_iteration"]])
        debug.addSeparator()
        debug.addActions([a["run"], a["stop"]])
        debug.addSeparator()
        debug.addAction(a["reset"])
        data = bar.addMenu("D&ata")
        self.data_menu = data
        self.data_actions: dict[tuple[str, int], QAction] = {}
        for title, name, sizes in DATA_CHOICES:
            sub = data.addMenu(title)
            for size in sizes:
                act = sub.addAction(f"{size}×{size}")
                act.setStatusTip(f"train and step on {name} at {size}×{size} pixels (the stack's input must match)")
                self.data_actions[(name, size)] = act
        data.addSeparator()
        data.addActions([a["load_idx"], a["load_npz"]])
        data.addSeparator()
        data.addAction(a["unpin"])

        tools = QToolBar("Debug")
        tools.setObjectName("debugToolbar")
        tools.setIconSize(QSize(24, 24))
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.addActions([a["step_back"], a["step"], a["step_iteration"]])
        tools.addSeparator()
        tools.addActions([a["run"], a["stop"]])
        tools.addSeparator()
        tools.addAction(a["reset"])
        self.speed_tool = QLabel()
        self.speed_tool.setToolTip("run speed: change it under Training (also during a run)")
        tools.addSeparator()
        tools.addWidget(self.speed_tool)
        self.hyper_panel.speedChanged.connect(self._show_speed)
        self._show_speed()
        self.addToolBar(tools)
        self.toolbar = tools
        view.addAction(tools.toggleViewAction())

    def _fill_presets(self) -> None:
        try:
            from visualcnn.presets import list_presets
            presets = list_presets()
        except Exception as e:          # a broken preset file must not keep the window from opening
            act = self.presets_menu.addAction(f"presets unavailable: {e}")
            act.setEnabled(False)
            return
        self.preset_actions: dict[str, QAction] = {}
        for p in presets:
            act = self.presets_menu.addAction(p["title"])
            act.setToolTip(p["description"])
            act.setStatusTip(p["description"])
            act.setData(p["name"])
            self.preset_actions[p["name"]] = act
        self.presets_menu.setToolTipsVisible(True)

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.location_label = QLabel()
        self.location_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a long description must not widen the window: it is clipped, and its tooltip has it whole
        self.location_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress_label = QLabel()
        self.progress_label.setToolTip("phase within the iteration; iterations step back can reach")
        self.dataset_label = QLabel()
        self.dataset_label.setToolTip("the data set the session trains and steps on (Data menu to change it)")
        bar.addWidget(self.location_label, 1)
        bar.addPermanentWidget(self.dataset_label)
        bar.addPermanentWidget(self.progress_label)

    def _connect_extra(self) -> None:
        a, c = self.actions, self.controller
        a["undo"].triggered.connect(self.editor.undo)
        a["redo"].triggered.connect(self.editor.redo)
        self.editor.undo_stack.canUndoChanged.connect(a["undo"].setEnabled)
        self.editor.undo_stack.canRedoChanged.connect(a["redo"].setEnabled)
        a["undo"].setEnabled(False)
        a["redo"].setEnabled(False)
        a["quit"].triggered.connect(self.request_close)
        a["open_image"].triggered.connect(lambda: self.open_image())
        a["export_pipeline"].triggered.connect(lambda: self.files.export_view(self.pipeline))
        a["export_metrics_plot"].triggered.connect(lambda: self.files.export_view(self.metrics.graphics))
        a["export_csv"].triggered.connect(c.export_metrics_csv)
        a["export_record"].triggered.connect(c.export_record)
        a["unpin"].triggered.connect(c.unpin_input)
        a["load_idx"].triggered.connect(lambda: self.load_dataset_dir())
        a["load_npz"].triggered.connect(lambda: self.load_dataset_file())
        for (name, size), act in self.data_actions.items():
            act.triggered.connect(lambda _=False, n=name, s=size: self.load_dataset({"name_or_path": n, "size": s},
                                                                                    f"{n} {s}×{s}"))
        self.pad_labels.labelChanged.connect(self._relabel_drawing)
        self.files.dirtyChanged.connect(lambda _d: self._update_title())
        self.files.saved.connect(lambda _p: self._update_title())
        self.files.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        c.sessionChanged.connect(lambda _s: self._update_title())
        self.docks["draw"].visibilityChanged.connect(lambda on: on and self.docks["samples"].raise_())
        a["zoom_in"].triggered.connect(lambda: self.zoom(+1))
        a["zoom_out"].triggered.connect(lambda: self.zoom(-1))
        a["reset_layout"].triggered.connect(self.reset_layout)
        a["open_spec"].triggered.connect(self.open_spec)
        a["save_spec"].triggered.connect(self.save_spec)
        for name, act in getattr(self, "preset_actions", {}).items():
            act.triggered.connect(lambda _=False, n=name: c.open_preset(n))

    # -- what the controller calls --------------------------------------------------------
    def set_status(self, text: str, alert: str, phase_index: int, n_phases: int, history: int) -> None:
        if alert:
            self.location_label.setText(alert)
            self.location_label.setStyleSheet("color: #d03030; font-weight: 600;")
        else:
            self.location_label.setText(text)
            self.location_label.setStyleSheet("")
        self.location_label.setToolTip(self.location_label.text())
        self.progress_label.setText(f"phase {phase_index} / {n_phases} · back {history} it.")

    def set_running(self, running: bool, paused: bool = False) -> None:
        act = self.actions["run"]
        if running:
            act.setText("Pause")
            act.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        else:
            act.setText("Resume" if paused else "Run")
            act.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))

    def set_dataset_label(self, text: str) -> None:
        self.dataset_label.setText(text)

    def _show_speed(self, *_: Any) -> None:
        from .worker import speed_label
        self.speed_tool.setText(f"  speed: {speed_label(self.hyper_panel.speed)}  ")

    def _update_title(self) -> None:
        name = self.files.display_name()
        self.setWindowTitle(f"{name}[*] — visualcnn: backpropagation, step by step")
        self.setWindowModified(self.files.is_dirty)

    def show_message(self, message: str) -> None:
        self.banner.show_message(message)

    # -- file -----------------------------------------------------------------------------
    def open_spec(self, path: str | None = None) -> bool:
        """Load a layer stack (a spec or a preset/session JSON) into the editor as one undoable edit."""
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Open layer stack", "", "JSON (*.json)")
            if not path:
                return False
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            self.show_message(f"{path}: cannot read a JSON layer stack ({e})")
            return False
        spec = data.get("spec", data) if isinstance(data, dict) else data
        if not isinstance(spec, dict):
            self.show_message(f"{path}: expected a JSON object with input_shape and layers")
            return False
        return self.editor.propose(spec, f"open {Path(path).name}")

    def save_spec(self, path: str | None = None) -> bool:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Save layer stack", "stack.json", "JSON (*.json)")
            if not path:
                return False
        try:
            from visualcnn.io import save_spec
            save_spec(self.editor.spec(), path)
        except (OSError, ValueError) as e:
            self.show_message(f"{path}: could not save ({e})")
            return False
        self.statusBar().showMessage(f"saved {path}", 4000)
        return True

    def open_image(self, path: str | None = None) -> bool:
        """A picture as the input: converted by the dataset's rules (shown in the Draw panel), pinned, run forward."""
        if not path:
            path = files_mod.get_open_path(self, "Open an image as the input", "",
                                           "Pictures (*.png *.jpg *.jpeg *.bmp *.gif);;All files (*)")
            if not path:
                return False
        self.docks["draw"].show()
        self.docks["draw"].raise_()
        if not self.pad.open_image(path):
            self.show_message(self.pad.message.text())
            return False
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
            self.show_message(f"{label}: could not load the data set: {e}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        return self.controller.set_dataset(dataset, label)

    def load_dataset_dir(self, path: str | None = None) -> bool:
        path = path or get_directory(self, "Folder with MNIST-style IDX files", "")
        return bool(path) and self.load_dataset({"name_or_path": path}, Path(path).name)

    def load_dataset_file(self, path: str | None = None) -> bool:
        path = path or files_mod.get_open_path(self, "Data set file", "", "NumPy arrays (*.npz *.npy)")
        return bool(path) and self.load_dataset({"name_or_path": path}, Path(path).name)

    # -- settings -------------------------------------------------------------------------------
    def _restore_run_settings(self) -> None:
        s, panel = self.settings, self.hyper_panel
        try:
            speed = float(s.value("run/speed", panel.speed))
            length = int(s.value("run/length", panel.iterations.value()))
        except (TypeError, ValueError):
            return
        panel.set_speed(speed)
        panel.iterations.setValue(length)
        unit = s.value("run/unit", "iterations")
        if unit in RUN_UNITS:
            panel.run_unit.setCurrentText(unit)

    def _save_run_settings(self) -> None:
        s, panel = self.settings, self.hyper_panel
        s.setValue("run/speed", panel.speed)
        s.setValue("run/length", panel.iterations.value())
        s.setValue("run/unit", panel.run_unit.currentText())
        preset = getattr(self.controller.session, "preset", None)
        if preset:
            s.setValue("session/last_preset", preset)

    # -- layout and text size ---------------------------------------------------------------
    def zoom(self, delta: int) -> None:
        app = QApplication.instance()
        f = QFont(app.font())
        f.setPointSize(min(MAX_FONT_PT, max(BASE_FONT_PT, f.pointSize() + delta)))
        app.setFont(f)
        self.settings.setValue("view/font_pt", f.pointSize())

    def restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        self._needs_default_sizes = not (isinstance(state, QByteArray) and not state.isEmpty())
        if not self._needs_default_sizes:
            self.restoreState(state)
        self._geometry_to_reapply = geometry if isinstance(geometry, QByteArray) and not geometry.isEmpty() else None

    def _hide_stale_tab_bars(self) -> None:
        """Qt 6.11 leaves the first tab bar of a second tabbed dock group behind, visible over the docks
        (it holds the group's first two tabs, with the real bar beside it): hide such leftovers."""
        from PyQt6.QtWidgets import QTabBar
        bars = [b for b in self.findChildren(QTabBar) if b.parent() is self and b.isVisibleTo(self)]
        tabs = [{b.tabText(i) for i in range(b.count())} for b in bars]
        for bar, mine in zip(bars, tabs):
            if any(mine < other for other in tabs):
                bar.hide()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._hide_stale_tab_bars()
        if self._geometry_to_reapply is not None:
            # before the first show tabbed docks count as stacked, so the restored size may have been clamped
            self.restoreGeometry(self._geometry_to_reapply)
            self._geometry_to_reapply = None
        if self._needs_default_sizes:      # dock sizes only take once the window has its real size
            self._needs_default_sizes = False
            self._default_sizes()

    def _default_sizes(self) -> None:
        """Side columns about a quarter of the width each: the pipeline keeps the middle half, the curves
        below it about a third of the height."""
        left = max(250, min(420, self.width() // 5))
        right = max(370, min(560, self.width() // 4))
        self.resizeDocks([self.docks["stack"], self.docks["inspector"]], [left, right], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["inspector"], self.docks["controls"]],
                         [self.height() // 2, self.height() // 2], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["metrics"]], [max(260, self.height() * 38 // 100)], Qt.Orientation.Vertical)

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.show()
        self.toolbar.show()
        self._default_sizes()
        self._hide_stale_tab_bars()

    def event(self, event: QEvent) -> bool:
        """Paint the window (all its dirty widgets at once) with a run's worker held, so the frame does not
        trade the GIL with it a few milliseconds at a time (see RunWorker.hold)."""
        if event.type() == QEvent.Type.UpdateRequest and getattr(self, "controller", None) is not None:
            self.controller.hold_worker()
        return super().event(event)

    def request_close(self) -> bool:
        """File ▸ Quit: ask about unsaved changes, then close."""
        if not self.files.maybe_close():
            return False
        self._close_confirmed = True
        return self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing stops a run and ends the worker thread. The window manager's close button asks about
        unsaved changes first (as File ▸ Quit does); a programmatic close() does not (scripts, tests)."""
        if event.spontaneous() and not self._close_confirmed and not self.files.maybe_close():
            event.ignore()
            return
        self.controller.shutdown()
        self._save_run_settings()
        self.save_layout()
        super().closeEvent(event)
