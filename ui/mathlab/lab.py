"""MathLab: the math lab's docks and menus on a MainWindow, following its session (see the package doc)."""

from __future__ import annotations

from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.views.gradcheck_view import GradCheckView
from ui.views.layer_errors import LayerError, LayerErrorsPanel
from ui.views.mistake_compare import CompareView
from ui.views.mistakes_panel import MistakesPanel
from visualcnn.i18n import _
from visualcnn.mistakes import MISTAKES, active, applies_to, apply_to_session

from .checks import CHECK_JITTER, GradientChecks
from .layer_files import LayerFiles
from .mistakes import Mistakes


class _Fill(QtWidgets.QWidget):
    """Holds one widget filling it, without a layout: a word-wrapped label inside would make a scroll
    area size the panel to its preferred height (height-for-width) and scroll at every size; this
    way it scrolls only below the panel's minimum size."""

    def __init__(self, child: QtWidgets.QWidget) -> None:
        super().__init__()
        self.child = child
        child.setParent(self)

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.child.minimumSizeHint()

    def sizeHint(self) -> QtCore.QSize:
        return self.child.minimumSizeHint()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        self.child.setGeometry(self.rect())
        super().resizeEvent(event)

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.LayoutRequest:
            self.updateGeometry()       # the child's minimum changed (rows re-wrapped): the scroll area re-sizes us
        return super().event(event)


class MathLab(GradientChecks, Mistakes, LayerFiles, QtCore.QObject):
    """The gradient check, mistakes, custom layers and errors of one MainWindow (see the module doc)."""

    mistakesApplied = QtCore.pyqtSignal(list)
    _networkChanged = QtCore.pyqtSignal()          # from the session's event, on any thread → GUI thread
    _breakpoint = QtCore.pyqtSignal(object)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.session: Any = None
        self.wanted: list[str] = []
        self._applying = False
        self.last_entry_note = ""

        self.check_view = GradCheckView()
        self.check_view.run_button.hide()        # the two buttons below say what is checked
        # the bottom row shares the window's height: small minimums keep a 1600×1000 window (or a
        # 1280×800 projector) from growing past the screen; drag the dock taller to see more
        self.check_view.table.setMinimumHeight(90)
        self.check_view.glw.setMinimumHeight(150)
        self.mistakes_panel = MistakesPanel()
        self.compare = CompareView()
        self.errors = LayerErrorsPanel()
        self._build_docks()
        self._build_menus()

        self.check_view.cellClicked.connect(self.show_entry)
        self.check_view.checkFinished.connect(self._check_finished)
        self.mistakes_panel.mistakesChanged.connect(self.set_mistakes)
        self.compare.compare_button.clicked.connect(self.compare_with_correct)
        self.compare.failed.connect(lambda e: self.report(e, "compare"))
        self.errors.showLayer.connect(self.controller.select_layer)
        self.errors.errorAdded.connect(lambda _e: self.docks["errors"].raise_())
        self._networkChanged.connect(self._network_changed, QtCore.Qt.ConnectionType.QueuedConnection)
        self._breakpoint.connect(self._breakpoint_hit, QtCore.Qt.ConnectionType.QueuedConnection)
        for sig_name in ("refreshed",):
            sig = getattr(self.controller, sig_name, None)
            if sig is not None:
                sig.connect(self._update_layer_button)
        if hasattr(self.controller, "runningChanged"):
            self.controller.runningChanged.connect(self._running_changed)
        if hasattr(self.controller, "sessionChanged"):
            self.controller.sessionChanged.connect(self.attach)
        if hasattr(self.controller, "layerFailed"):
            self.controller.layerFailed.connect(self._layer_failed)
        window.installEventFilter(self)          # closing the window ends the check's and the comparison's threads
        self.attach(self.controller.session)

    # -- building --------------------------------------------------------------------------
    def _add_dock(self, key: str, title: str, widget: QtWidgets.QWidget, tabify_with: str | None,
                  scroll: bool = False) -> QtWidgets.QDockWidget:
        w = self.window
        area = QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
        if hasattr(w, "add_dock"):
            ok = tabify_with if tabify_with in getattr(w, "docks", {}) else None
            # scroll: on a screen too small for the panel's minimum (a 1280×800 projector) it scrolls
            # instead of pushing the window past the screen; at 1600×1000 no scroll bar shows
            return w.add_dock(key, title, widget, area, tabify_with=ok, scroll=scroll)
        dock = QtWidgets.QDockWidget(title, w)            # a window without the extension points
        dock.setObjectName(f"{key}Dock")
        dock.setWidget(widget)
        w.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.layer_button = QtWidgets.QPushButton(_("Check this layer"))
        self.layer_button.setToolTip(_("check the selected layer's parameters and input gradient (float64)"))
        self.layer_button.clicked.connect(lambda: self.run_check(whole=False))
        self.network_button = QtWidgets.QPushButton(_("Check the whole network"))
        self.network_button.setToolTip(_("check every layer × parameter and every input gradient (float64)"))
        self.network_button.clicked.connect(lambda: self.run_check(whole=True))
        # the two buttons take the place of the view's own title in its top row (the dock says "Gradient check")
        top = self.check_view.layout().itemAt(0).layout()
        top.itemAt(0).widget().hide()
        top.insertWidget(1, self.layer_button)
        top.insertWidget(2, self.network_button)
        self.check_note = QtWidgets.QLabel(_("on the current batch, jittered by N(0, {jitter}²) as the command line "
                                             "does (ties in max pooling, ReLU at 0)").format(jitter=f"{CHECK_JITTER:g}"))
        self.entry_note = self.check_note          # a clicked cell's explanation replaces it
        self.check_note.setWordWrap(True)
        self.check_note.setFont(style.font(style.FONT_SMALL_PT))
        self.check_view.layout().addWidget(self.check_note)
        split = self.check_view.findChild(QtWidgets.QSplitter)
        if split is not None:
            split.setSizes([160, 400])
        box = self.check_view

        mbox = QtWidgets.QWidget()
        ml = QtWidgets.QVBoxLayout(mbox)
        ml.setContentsMargins(0, 0, style.MARGIN, style.MARGIN)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.addWidget(self.mistakes_panel)
        cbox = QtWidgets.QWidget()
        cl = QtWidgets.QVBoxLayout(cbox)
        cl.setContentsMargins(style.MARGIN, style.MARGIN, 0, 0)
        head = QtWidgets.QLabel(_("What it does to learning"))
        head.setFont(style.font(style.FONT_TITLE_PT, bold=True))
        cl.addWidget(head)
        cl.addWidget(self.compare, 1)
        split.addWidget(cbox)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([600, 400])
        # the panel is sized for a projector on its own; beside the curves in a bottom dock, one size smaller
        self.mistakes_panel.detail.setFont(style.font(style.FONT_TITLE_PT))
        ml.addWidget(split, 1)

        self.docks = {
            "gradcheck": self._add_dock("gradcheck", _("Gradient check"), _Fill(box), "metrics", scroll=True),
            "mistakes": self._add_dock("mistakes", _("Mistakes"), _Fill(mbox), "metrics", scroll=True),
            "errors": self._add_dock("errors", _("Errors"), self.errors, "metrics"),
        }
        if "metrics" in getattr(self.window, "docks", {}):
            self.window.docks["metrics"].raise_()

    def _build_menus(self) -> None:
        w = self.window
        add_menu = getattr(w, "add_menu", None) or (lambda title: w.menuBar().addMenu(title))
        self.mistakes_menu = add_menu(_("&Mistakes"))
        self.mistake_actions: dict[str, QtGui.QAction] = {}
        for name, m in MISTAKES.items():
            act = self.mistakes_menu.addAction(f"{name} — {_(m.title)}")
            act.setCheckable(True)
            act.setStatusTip(_("compute the study note's formula: {title}").format(title=_(m.title)))
            act.toggled.connect(lambda on, n=name: self._action_toggled(n, on))
            self.mistake_actions[name] = act
        self.mistakes_menu.addSeparator()
        self.all_off_action = self.mistakes_menu.addAction(_("Correct math (turn all off)"))
        self.all_off_action.triggered.connect(lambda: self.set_mistakes([]))
        self.explain_action = self.mistakes_menu.addAction(_("Explain…"))
        self.explain_action.setStatusTip(_("the note's formula beside the correct one, and why they differ"))
        self.explain_action.triggered.connect(self.explain)
        self.compare_action = self.mistakes_menu.addAction(_("Compare with the correct math"))
        self.compare_action.triggered.connect(self.compare_with_correct)
        self.mistakes_menu.addSeparator()
        self.check_action = self.mistakes_menu.addAction(_("Check the whole network"))
        self.check_action.triggered.connect(lambda: self.run_check(whole=True))

        self.layer_menu = add_menu(_("&Layer"))
        self.load_action = self.layer_menu.addAction(_("Load layer file…"))
        self.load_action.setStatusTip(_("load a Python file defining your own layer class; its type then appears "
                                        "in the Layer stack's Add layer menu"))
        self.load_action.triggered.connect(lambda: self.load_layer_file())
        self.template_action = self.layer_menu.addAction(_("New layer from template…"))
        self.template_action.setStatusTip(_("save a copy of the layer template (a scaled tanh) to edit"))
        self.template_action.triggered.connect(lambda: self.new_from_template())

    # -- following the session ---------------------------------------------------------------------
    def attach(self, session: Any) -> None:
        """Follow `session` (at start and whenever the controller drives another one)."""
        if self.session is not None:
            self.session.events.disconnect("network_rebuilt", self._on_network_rebuilt)
            self.session.events.disconnect("breakpoint_hit", self._on_breakpoint)
        self.session = session
        self.check_view.cancel(wait=True)
        session.events.connect("network_rebuilt", self._on_network_rebuilt)
        session.events.connect("breakpoint_hit", self._on_breakpoint)
        self.wanted = active(session.network, session.optimizer)
        self._network_changed()

    def _on_network_rebuilt(self, *_args: Any) -> None:
        # on the thread that rebuilt, inside the session's lock: make the new network compute `wanted`
        # before anything steps it (Session.rebuild builds the built-in classes)
        if self._applying:
            return
        s = self.session
        if s is None:
            return
        should = [n for n in self.wanted if applies_to(n, s.network)]
        if active(s.network, s.optimizer) != should:
            self._applying = True
            try:
                apply_to_session(s, self.wanted)
            finally:
                self._applying = False
        self._networkChanged.emit()

    def _on_breakpoint(self, hit: Any) -> None:
        if getattr(hit, "kind", "") == "nonfinite":
            self._breakpoint.emit(hit)

    def _breakpoint_hit(self, hit: Any) -> None:
        self.errors.add_error(LayerError(source="breakpoint", message=hit.message, phase=hit.phase or "",
                                         layer=hit.layer, severity="warning",
                                         traceback_text=_("(no exception: the NaN breakpoint stopped here — a "
                                                          "value became NaN or infinite in this phase)")))

    def _network_changed(self) -> None:
        s = self.session
        self.check_view.set_network(s.network)
        self.mistakes_panel.set_network(s.network)
        self._sync_checks()
        self._update_layer_button()

    def _running(self) -> bool:
        return bool(getattr(self.controller, "running", False))

    def _session_free(self, what: str) -> bool:
        """True when the GUI may touch the session now: pauses a run first; else says why not.
        `what`: the change wanted, in the current language ("switching formulas")."""
        if not self._running():
            return True
        pause = getattr(self.controller, "wait_until_paused", None)
        if pause is not None and pause():
            self.window.statusBar().showMessage(_("The run was paused for {what}: F5 resumes it.").format(what=what),
                                                6000)
            return True
        self.window.statusBar().showMessage(_("Training is running: pause it (F5) before {what}.").format(what=what),
                                            6000)
        return False

    # -- errors ---------------------------------------------------------------------------------
    def _layer_failed(self, exc: BaseException) -> None:
        worker = getattr(self.controller, "worker", None)
        self.report(exc, "run" if worker is not None and worker.last_error is exc else "step")

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if obj is self.window and event.type() == QtCore.QEvent.Type.Close:
            self.shutdown()
        return False

    def report(self, exc: BaseException, source: str) -> None:
        """Show `exc` (a LayerFailure, CustomLayerError, …) in the Errors panel; never raises."""
        try:
            self.errors.add_error(LayerError.of(exc, source))
        except Exception as e:  # noqa: BLE001 - reporting must never take the window down
            self.window.statusBar().showMessage(f"{source}: {exc} ({e})", 8000)

    def shutdown(self) -> None:
        self.check_view.shutdown()
        self.compare.shutdown()


def install_mathlab(window: Any) -> MathLab:
    """Add the math lab's docks and menus to `window` (a MainWindow with its controller); returns it."""
    lab = MathLab(window)
    window.mathlab = lab
    return lab



__all__ = ["MathLab", "install_mathlab"]
