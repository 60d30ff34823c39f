"""MainWindow: the pipeline in the middle, docks around it, the Debug actions and their keys.

The window builds widgets and actions only; `Controller` (ui/controller.py) holds
the Session and connects the two. Dock layout and geometry are remembered in QSettings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QByteArray, QSettings, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QCloseEvent, QFont, QKeySequence
from PyQt6.QtWidgets import (
    QApplication, QDockWidget, QFileDialog, QFrame, QHBoxLayout, QLabel, QMainWindow, QScrollArea, QSizePolicy, QStyle,
    QToolBar,
    QToolButton,
    QVBoxLayout, QWidget,
)

from .controller import Controller
from .controls import BreakpointsPanel, HyperPanel
from .stack_editor import StackEditor

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


class MainWindow(QMainWindow):
    """MainWindow(session, settings=None): the debugger for a Session; `controller` drives it."""

    DOCKS = ("stack", "controls", "breakpoints", "inspector", "samples")

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
        self.banner = Banner()

        central = QWidget()
        box = QVBoxLayout(central)
        box.setContentsMargins(6, 6, 6, 0)
        box.setSpacing(6)
        box.addWidget(self.banner)
        box.addWidget(self.pipeline, 1)
        self.setCentralWidget(central)

        self.docks: dict[str, QDockWidget] = {}
        self._dock("stack", "Layer stack", self.editor, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("controls", "Training", self.hyper_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("breakpoints", "Breakpoints", self.breakpoints_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("samples", "Samples", self.samples, Qt.DockWidgetArea.RightDockWidgetArea)
        # the left column is the stack; the right has the inspector over three tabs
        self.tabifyDockWidget(self.docks["controls"], self.docks["breakpoints"])
        self.tabifyDockWidget(self.docks["controls"], self.docks["samples"])
        self.docks["controls"].raise_()

        self.actions: dict[str, QAction] = {}
        self._make_actions()
        self._make_menus()
        self._make_status_bar()
        self._default_state = self.saveState()
        self.controller = Controller(session, self)
        self._connect_extra()
        self.restore_layout()

    # -- building ---------------------------------------------------------------------
    def _dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")      # saveState/restoreState find docks by name
        if key in ("controls", "breakpoints"):
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
        self._action("run", "Run", "run the number of iterations set under Training; press again to "
                     "pause", P.SP_MediaPlay, "F5")
        self._action("stop", "Stop", "end the run", P.SP_MediaStop, "Shift+F5")
        self._action("reset", "Reset weights", "new initial weights from the seed; clears the step history",
                     P.SP_BrowserReload, "Ctrl+R")
        self._action("undo", "Undo stack edit", "undo the last change to the layer stack", P.SP_ArrowBack,
                     "Ctrl+Z")
        self._action("redo", "Redo stack edit", "redo the change to the layer stack", P.SP_ArrowForward,
                     "Ctrl+Shift+Z")
        self._action("open_spec", "Open spec…", "load a layer stack from a JSON file", P.SP_DialogOpenButton,
                     "Ctrl+O")
        self._action("save_spec", "Save spec…", "save the layer stack as JSON", P.SP_DialogSaveButton, "Ctrl+S")
        self._action("quit", "Quit", "close the window", None, "Ctrl+Q")
        self._action("zoom_in", "Larger text", "make all text larger (for the back of the room)", None, "Ctrl++")
        self._action("zoom_out", "Smaller text", "make all text smaller", None, "Ctrl+-")
        self._action("reset_layout", "Reset layout", "put every panel back where it started", None)

    def _make_menus(self) -> None:
        a = self.actions
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addActions([a["open_spec"], a["save_spec"]])
        file.addSeparator()
        file.addAction(a["quit"])
        edit = bar.addMenu("&Edit")
        edit.addActions([a["undo"], a["redo"]])
        view = bar.addMenu("&View")
        self.docks["controls"].toggleViewAction().setText("Training (hyper-parameters, run)")
        for key in self.DOCKS:
            toggle = self.docks[key].toggleViewAction()
            toggle.setStatusTip(f"show or hide the {self.docks[key].windowTitle()} panel")
            view.addAction(toggle)
        view.addSeparator()
        view.addActions([a["zoom_in"], a["zoom_out"], a["reset_layout"]])
        debug = bar.addMenu("&Debug")
        debug.addActions([a["step"], a["step_back"], a["step_iteration"]])
        debug.addSeparator()
        debug.addActions([a["run"], a["stop"]])
        debug.addSeparator()
        debug.addAction(a["reset"])
        self.presets_menu = bar.addMenu("&Presets")
        self._fill_presets()

        tools = QToolBar("Debug")
        tools.setObjectName("debugToolbar")
        tools.setIconSize(QSize(24, 24))
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.addActions([a["step_back"], a["step"], a["step_iteration"]])
        tools.addSeparator()
        tools.addActions([a["run"], a["stop"]])
        tools.addSeparator()
        tools.addAction(a["reset"])
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
        bar.addWidget(self.location_label, 1)
        bar.addPermanentWidget(self.progress_label)

    def _connect_extra(self) -> None:
        a, c = self.actions, self.controller
        a["undo"].triggered.connect(self.editor.undo)
        a["redo"].triggered.connect(self.editor.redo)
        self.editor.undo_stack.canUndoChanged.connect(a["undo"].setEnabled)
        self.editor.undo_stack.canRedoChanged.connect(a["redo"].setEnabled)
        a["undo"].setEnabled(False)
        a["redo"].setEnabled(False)
        a["quit"].triggered.connect(self.close)
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

    def set_running(self, running: bool) -> None:
        act = self.actions["run"]
        if running:
            act.setText("Pause")
            act.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        else:
            act.setText("Run")
            act.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))

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

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._needs_default_sizes:      # dock sizes only take once the window has its real size
            self._needs_default_sizes = False
            self._default_sizes()

    def _default_sizes(self) -> None:
        """Side columns about a quarter of the width each: the pipeline keeps the middle half."""
        left = max(320, min(420, self.width() // 5))
        right = max(420, min(560, self.width() // 4))
        self.resizeDocks([self.docks["stack"], self.docks["inspector"]], [left, right], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["inspector"], self.docks["controls"]],
                         [self.height() // 2, self.height() // 2], Qt.Orientation.Vertical)

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

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.stop()
        self.save_layout()
        super().closeEvent(event)
