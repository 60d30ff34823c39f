"""MainWindow: the pipeline in the middle, docks around it; it assembles the parts and owns none of their logic.

- the menus and their actions: one module per menu in ui/actions/ (file, edit, view, debug, data);
- what the window remembers and how it is laid out (docks, text size, presentation mode): ui/window_state.py;
- dialogs that open a layer stack, an image or a data set: ui/window_io.py;
- the banner, the pinned-input strip, the pad's label row: ui/strips.py;
- the Session and every command: `Controller` (ui/controller.py and ui/control/).
Extensions add a panel with `add_dock` and a menu with `add_menu` (see ui/actions/__init__.py).
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QEvent, QSettings, Qt
from PyQt6.QtGui import QAction, QCloseEvent
from PyQt6.QtWidgets import (
    QDockWidget, QFrame, QLabel, QMainWindow, QMenu, QScrollArea, QStyle, QVBoxLayout, QWidget,
)

from visualcnn.i18n import SOURCE_LANGUAGE, _, current_language

from . import actions
from .controller import Controller
from .controls import BreakpointsPanel, HyperPanel
from .files import SessionFiles
from .language import use_saved_language
from .stack_editor import StackEditor
from .strips import Banner, FittedLabel, MistakeStrip, PadLabels, PinStrip, make_view, mistakes_text, shorter_status
from .textsize import ensure_readable_font
from .views.dataset_browser import DatasetBrowser
from .views.drawing_pad import DrawingPad
from .views.metrics import MetricsView
from .window_io import WindowIO
from .window_state import WindowState


class MainWindow(WindowState, WindowIO, QMainWindow):
    """MainWindow(session, settings=None): the debugger for a Session; `controller` drives it."""

    DOCKS = ("stack", "controls", "breakpoints", "inspector", "samples", "metrics", "dataset", "draw")

    def __init__(self, session: Any, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        saved = self.settings.value("view/font_pt")
        ensure_readable_font(int(saved) if isinstance(saved, (int, str)) and str(saved).isdigit() else None)
        use_saved_language(self.settings)     # before any panel is built: every text is written at construction
        try:
            self._build(session)
        except Exception as e:  # noqa: BLE001 - a translation must never keep the window from opening
            if current_language() == SOURCE_LANGUAGE:
                raise
            from .rebuild import build_in_english
            build_in_english(self, session, e)
        self.restore_layout()
        self._update_title()

    def _build(self, session: Any) -> None:
        """Every widget, menu, dock and the controller around `session`: at start, and again in the new language
        when View ▸ Language switches (ui/rebuild.py keeps the session, layout and state across)."""
        self._presentation_from = None
        self.pipeline = make_view("ui.views.pipeline", "PipelineView", _("Pipeline"))
        self.inspector = make_view("ui.views.inspector", "Inspector", _("Inspector"))
        self.samples = make_view("ui.views.samples", "SamplePanel", _("Samples"))
        self.editor = StackEditor()
        self.hyper_panel = HyperPanel()
        self.breakpoints_panel = BreakpointsPanel()
        self.metrics = MetricsView()
        self.browser = DatasetBrowser()
        self.pad = DrawingPad()
        self.pad_labels = PadLabels()
        self.banner = Banner()
        self.pin_strip = PinStrip()
        self.mistake_strip = MistakeStrip()
        self.files = SessionFiles(self, settings=self.settings)
        self._close_confirmed = False
        self._restore_run_settings()

        central = QWidget()
        box = QVBoxLayout(central)
        box.setContentsMargins(6, 6, 6, 0)
        box.setSpacing(6)
        box.addWidget(self.mistake_strip)
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
        self.menus: dict[str, QMenu] = {}
        actions.build(self)
        L, R, B = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                   Qt.DockWidgetArea.BottomDockWidgetArea)
        # the bottom row spans the centre only: the side columns keep their full height
        self.setCorner(Qt.Corner.BottomLeftCorner, L)
        self.setCorner(Qt.Corner.BottomRightCorner, R)
        # the left column is the stack; the right has the inspector over three tabs; the bottom the
        # curves, the dataset and the drawing pad, under the pipeline
        self.add_dock("stack", _("Layer stack"), self.editor, L)
        self.add_dock("inspector", _("Inspector"), self.inspector, R)
        self.add_dock("controls", _("Training"), self.hyper_panel, R, scroll=True)
        self.add_dock("breakpoints", _("Breakpoints"), self.breakpoints_panel, R, tabify_with="controls", scroll=True)
        self.add_dock("samples", _("Samples"), self.samples, R, tabify_with="controls")
        self.add_dock("metrics", _("Metrics"), self.metrics, B)
        self.add_dock("draw", _("Draw"), pad_box, B, tabify_with="metrics", scroll=True)   # short: six tabs share a row
        self.add_dock("dataset", _("Dataset"), self.browser, B, tabify_with="draw")
        self.docks["controls"].raise_()
        self.docks["metrics"].raise_()
        self.docks["controls"].toggleViewAction().setText(_("Training (hyper-parameters, run)"))
        self.docks["draw"].toggleViewAction().setText(_("Draw an input"))
        self._make_status_bar()
        self._default_state = self.saveState()
        self.controller = Controller(session, self)
        actions.connect(self)
        self._connect()
        from .mathlab import install_mathlab       # before restore_layout: its docks' places are remembered too
        self.mathlab = install_mathlab(self)

    def rebuild_refusal(self) -> str | None:
        """Why the window cannot be built again right now (None: it can)."""
        from .rebuild import refusal
        return refusal(self)

    def rebuild_widgets(self) -> bool:
        """Build the whole window again around the same session, in the language now in use (View ▸ Language);
        False (and why, in the status bar) when it cannot happen now."""
        from .rebuild import rebuild
        return rebuild(self)

    def _connect(self) -> None:
        c = self.controller
        self.pad_labels.labelChanged.connect(self._relabel_drawing)
        self.files.dirtyChanged.connect(lambda _d: self._update_title())
        self.files.saved.connect(lambda _p: self._update_title())
        self.files.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        c.sessionChanged.connect(lambda _s: self._update_title())
        self.docks["draw"].visibilityChanged.connect(lambda on: on and self.docks["samples"].raise_())

    # -- extension points (panels added later: the gradient check, the mistakes menu, lessons) -------
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
        toggle.setStatusTip(_("show or hide the {panel} panel").format(panel=title))
        self.view_menu.insertAction(self._view_docks_end, toggle)
        return dock

    def add_menu(self, title: str) -> QMenu:
        """A new top-level menu, placed before Debug."""
        menu = QMenu(title, self)
        self.menuBar().insertMenu(self.debug_menu.menuAction(), menu)
        return menu

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

    # -- building ---------------------------------------------------------------------
    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        # a long description must not widen the window nor run into the labels on the right: it shows the
        # longest form of itself that fits, and its tooltip has it whole
        self.location_label = FittedLabel()
        self.location_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress_label = QLabel()
        self.progress_label.setToolTip(_("phase within the iteration; iterations step back can reach"))
        self.dataset_label = QLabel()
        self.dataset_label.setToolTip(_("the data set the session trains and steps on (Data menu to change it)"))
        bar.addWidget(self.location_label, 1)
        bar.addPermanentWidget(self.dataset_label)
        bar.addPermanentWidget(self.progress_label)

    # -- what the controller calls --------------------------------------------------------
    def set_status(self, text: str, alert: str, phase_index: int, n_phases: int, history: int) -> None:
        if alert:
            self.location_label.set_texts(alert)
            self.location_label.setStyleSheet("color: #d03030; font-weight: 600;")
        else:
            self.location_label.set_texts(*shorter_status(text))
            self.location_label.setStyleSheet("")
        self.progress_label.setText(_("phase {k} / {n} · back {history} it.").format(k=phase_index, n=n_phases,
                                                                                     history=history))

    def set_running(self, running: bool, paused: bool = False) -> None:
        act = self.actions["run"]
        if running:
            act.setText(_("Pause"))
            act.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        else:
            act.setText(_("Resume") if paused else _("Run"))
            act.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))

    def set_dataset_label(self, text: str) -> None:
        self.dataset_label.setText(text)

    def _update_title(self) -> None:
        # Qt (the window manager) appends the application's name, "visualcnn": not written here a second time
        name = self.files.display_name()
        if self.mistake_strip.text():
            title = _("{name}[*] — ⚠ deliberately wrong math — backpropagation, step by step").format(name=name)
        else:
            title = _("{name}[*] — backpropagation, step by step").format(name=name)
        self.setWindowTitle(title)
        self.setWindowModified(self.files.is_dirty)

    def show_mistakes(self, network: Any, optimizer: Any = None) -> None:
        """The mistake strip, the title and the pipeline say when the math is deliberately wrong."""
        text = mistakes_text(network, optimizer)
        secret = bool(text) and getattr(self, "mistakes_secret", "")   # a lesson asks the learner to find it
        text = secret or text
        changed = text != self.mistake_strip.text()
        self.mistake_strip.show_mistakes(text)
        if hasattr(self.pipeline, "set_mistakes"):
            from visualcnn.mistakes import mistake_of
            # a secret marks no column: the strip says the math is wrong, the learner finds where
            self.pipeline.set_mistakes(set() if secret else {i for i, layer in enumerate(network.layers)
                                                             if mistake_of(layer)}, bool(text) and not secret)
        if changed:
            self._update_title()

    def show_message(self, message: str) -> None:
        self.banner.show_message(message)

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