"""The math lab in the window: the gradient check, the study note's mistakes, your own layer, and the
errors a layer's code makes.

    lab = install_mathlab(window)        # once, after the MainWindow (and its controller) exist

adds
- a "Gradient check" dock: "Check layer i" (the inspector's layer) / "Check the whole network" on the
  current batch, off the GUI thread; clicking a cell shows its chain rule in the inspector's Numbers tab;
- a Mistakes menu (one checkable action per mistake, "Turn all off", "Explain…") and a "Mistakes" dock
  (the note's formula beside the correct one, and "Compare with the correct math": two loss curves);
- Layer ▸ Load layer file… / New layer from template…;
- an "Errors" dock listing LayerFailures, CustomLayerErrors, failed checks and NaN breakpoints,
  with the phase, the layer and the traceback.

Who owns what: MathLab keeps `wanted`, the mistakes the user switched on, and makes the session
compute exactly them — after a toggle (apply_to_session) and after every rebuild of the network
(Session.rebuild builds the plain classes; the session's network_rebuilt event re-applies them).
It only talks to the Session between runs: a toggle or a check while the Run worker owns the
session pauses it first, or is refused with a message.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.views.gradcheck_view import GradCheckView
from ui.views.layer_errors import LayerError, LayerErrorsPanel
from ui.views.mistake_compare import CompareView
from ui.views.mistakes_panel import MistakesPanel
from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _
from visualcnn.mistakes import MISTAKES, active, applies_to, apply_to_session, check_names

#: the noise the command line's `visualcnn gradcheck` adds by default (ties in max pooling, ReLU at 0)
CHECK_JITTER = 0.05
CHECK_SEED = 0


def template_path() -> Path:
    from visualcnn.data.paths import assets_dir
    return assets_dir() / "layer_template.py"


def unit_for_entry(network: Any, layer: int, name: str, flat: int) -> tuple[int, tuple[int, ...], int, str, str]:
    """Where the Numbers tab explains the checked entry (layer, tensor, flat index): (layer, unit, sample, note, phase).

    An input entry of layer i is what layer i's backward sends down: the Numbers tab's "backward" phase
    writes it as the sum over every output unit that read it. A parameter entry is explained in the
    "∂C/∂W" / "∂C/∂b" phase: the sum over the batch (and positions) of δ · input.
    """
    lay = network.layers[layer]
    if name == "input":
        per = int(np.prod(lay.input_shape))
        n, unit = flat // per, tuple(int(v) for v in np.unravel_index(flat % per, lay.input_shape))
        return layer, unit, n, _("∂C/∂x{unit} of layer {index} {type} is what its backward sends down: the Numbers "
                                 "tab sums every output unit that read it.").format(unit=unit, index=layer,
                                                                                    type=lay.type_name), "backward"
    idx = tuple(int(v) for v in np.unravel_index(flat, lay.params[name].shape))
    every_position = len(lay.output_shape) == 3 and name == "W"
    note = (_("∂C/∂{name}{entry} of layer {index} {type}: the Numbers tab sums δ · input over the batch and every "
              "position.") if every_position else
            _("∂C/∂{name}{entry} of layer {index} {type}: the Numbers tab sums δ · input over the batch.")).format(
        name=name, entry=list(idx), index=layer, type=lay.type_name)
    return layer, idx, 0, note, f"∂C/∂{name}"


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


class MathLab(QtCore.QObject):
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

    def _sync_checks(self) -> None:
        on = active(self.session.network, self.session.optimizer)
        shown = list(dict.fromkeys([*on, *self.wanted]))
        self.mistakes_panel.set_checked(shown)
        for name, act in self.mistake_actions.items():
            act.blockSignals(True)
            act.setChecked(name in shown)
            act.blockSignals(False)

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

    def _running_changed(self, running: bool) -> None:
        if running and self.check_view.running:
            self.check_view.cancel()
            self.window.statusBar().showMessage(_("Gradient check cancelled: the run took over the session."), 6000)
        self.layer_button.setEnabled(not running)
        self.network_button.setEnabled(not running)

    def _update_layer_button(self) -> None:
        s = self.session
        i = getattr(self.window.inspector, "layer", 0) or 0
        if s is not None and 0 <= i < len(s.network.layers):
            self.layer_button.setText(_("Check layer {index} {type}").format(index=i, type=s.network.layers[i].type_name))

    # -- the gradient check ---------------------------------------------------------------------
    def run_check(self, whole: bool = True, layer: int | None = None) -> bool:
        """Check the whole network, or `layer` (default: the inspector's), on the current batch, off the GUI thread."""
        if self._running():
            msg = _("Training is running: pause it (F5) before checking gradients — the check needs a still network.")
            self.check_view.summary.setText(msg)
            self.window.statusBar().showMessage(msg, 6000)
            return False
        s = self.session
        if not getattr(self.controller, "spec_valid", True):
            self.check_view.summary.setText(_("The layer stack is not valid: fix it before checking."))
            return False
        try:
            with s.lock:
                x, labels = s.current_batch()
                net = s.network.copy()
        except VisualCNNError as e:
            self.report(e, "gradient check")
            return False
        rng = np.random.default_rng(CHECK_SEED)
        x = np.asarray(x, np.float64)
        x = x + rng.normal(0.0, CHECK_JITTER, size=x.shape)
        if not whole and layer is None:
            layer = getattr(self.window.inspector, "layer", 0) or 0
        self.check_view.set_network(s.network)
        self.check_view.run_check(s.network, x, np.asarray(labels), layer=None if whole else layer)
        if whole and net.dtype == np.float32:       # the check above runs in float64: the float32 path too
            from visualcnn.gradcheck import dtype_check
            same = dtype_check(net, x, np.asarray(labels))
            worst = max(r.max_rel_error for r in same.results)
            highest = sorted(same.failures, key=lambda r: (-r.layer, r.name != "input"))  # the bug sits there
            bad = ", ".join(_("layer {index} {type} {tensor}").format(index=r.layer, type=r.layer_type, tensor=r.name)
                            for r in highest[:2])
            self.window.statusBar().showMessage(
                _("float32 path: gradients agree with float64 (worst {worst})").format(worst=f"{worst:.1e}")
                if same.passed else
                _("float32 path: gradients DO NOT agree with float64 at {where} (worst {worst}): a float32-only "
                  "bug").format(where=bad, worst=f"{worst:.1e}"), 10000)
        del net
        self.docks["gradcheck"].raise_()
        return True

    def _check_finished(self, report: Any) -> None:
        if report is None and self.check_view.failed_message:
            self.errors.add_error(LayerError(source="gradient check", message=self.check_view.failed_message,
                                             phase="gradient check"))
            return
        if report is not None and report.results and any(r.sampled for r in report.results):
            n = self.check_view.entries.value()
            self.check_note.setText(_("large tensors: {n} random entries each were checked (set 0 = all) · batch "
                                      "jittered by N(0, {jitter}²)").format(n=n, jitter=f"{CHECK_JITTER:g}"))

    def show_entry(self, layer: int, name: str, flat: int) -> None:
        """A checked cell was clicked: show its chain rule, with its numbers, in the inspector's Numbers tab."""
        s = self.session
        try:
            target, unit, sample, note, phase = unit_for_entry(s.network, layer, name, flat)
        except (ValueError, IndexError, KeyError) as e:
            note = _("no explanation for {tensor}[{entry}] of layer {index}: {why}").format(
                tensor=name, entry=flat, index=layer, why=e)
            target, unit, sample, phase = layer, (), 0, ""
        inspector = self.window.inspector
        self.controller.select_layer(target)
        if hasattr(inspector, "numbers"):
            inspector.setCurrentWidget(inspector.numbers)
            if unit:
                inspector.select_unit(unit, sample=sample, phase=phase)
        if getattr(inspector.numbers, "explanation", None) is not None and not inspector.numbers.explanation.available:
            note += " " + _("Step backward through that layer first to see the numbers.")
        note += " " + _("(The check ran on a jittered copy of the batch, so its numbers differ slightly from the "
                        "steps'.)")
        self.last_entry_note = note
        self.entry_note.setText(note)
        dock = self.window.docks.get("inspector") if hasattr(self.window, "docks") else None
        if dock is not None:
            dock.raise_()

    # -- mistakes -----------------------------------------------------------------------------
    def _action_toggled(self, name: str, on: bool) -> None:
        names = [n for n in MISTAKES if (n in self.wanted and n != name) or (n == name and on)]
        self.set_mistakes(names)

    def set_mistakes(self, names: Sequence[str]) -> bool:
        """Compute exactly the named mistakes from now on (none = the built-in classes), weights kept."""
        try:
            names = check_names(names)
        except VisualCNNError as e:
            self.window.statusBar().showMessage(str(e), 6000)
            return False
        if not self._session_free(_("switching formulas")):
            self._sync_checks()
            return False
        previous = self.wanted
        self.wanted = names
        try:
            self._applying = True
            apply_to_session(self.session, names)
        except VisualCNNError as e:
            self.wanted = previous
            self.report(e, "mistakes")
            return False
        finally:
            self._applying = False
        self._network_changed()
        self.check_view.summary.setText(_("The formulas changed: run the check again."))
        if names:
            idle = [n for n in names if not applies_to(n, self.session.network)]
            msg = _("Computing the study note's {mistakes} — check the gradients to catch it").format(
                mistakes=", ".join(names))
            if idle:
                msg += " " + _("({mistakes} changes nothing in this network)").format(mistakes=", ".join(idle))
            self.mistakes_panel.select(names[-1])
        else:
            msg = _("Correct math: every layer computes the built-in formulas again")
        self.window.statusBar().showMessage(msg, 8000)
        if hasattr(self.controller, "refresh"):
            self.controller.refresh(force=True)
        self.mistakesApplied.emit(list(names))
        return True

    def explain(self) -> None:
        if self.wanted:
            self.mistakes_panel.select(self.wanted[-1])
        dock = self.docks["mistakes"]
        dock.show()
        dock.raise_()

    def compare_with_correct(self) -> bool:
        """Train a correct twin and one with the ticked mistakes from the current weights; plot both losses."""
        if not self.wanted:
            self.compare.note.setText(_("Tick a mistake first: with none, both twins compute the same math."))
            self.explain()
            return False
        try:
            self.compare.start(self.session, self.wanted)
        except VisualCNNError as e:
            self.report(e, "compare")
            return False
        self.explain()
        return True

    # -- your own layer -----------------------------------------------------------------------
    def load_layer_file(self, path: str | None = None) -> list[type] | None:
        """Load a layer file (asks for it when `path` is None); its types appear in the Add layer menu."""
        from visualcnn.custom import CustomLayerError, load_layer_file
        if path is None:
            start = str(self.window.settings.value("layers/last_dir", str(Path.home())))
            path, _filter = QtWidgets.QFileDialog.getOpenFileName(self.window, _("Load a layer file"), start,
                                                                  _("Python layer files (*.py)"))
            if not path:
                return None
        try:
            classes = load_layer_file(path)
        except CustomLayerError as e:
            self.report(e, "load")
            self.window.statusBar().showMessage(_("The layer file was not loaded: {why}").format(why=e.message), 8000)
            return None
        self.window.settings.setValue("layers/last_dir", str(Path(path).parent))
        self.refresh_add_menu()
        names = [c.type_name for c in classes]
        used = {layer.type_name for layer in self.session.network.layers} & set(names)
        if used and self._session_free(_("reloading a layer")):
            self._reload_classes()
        self.window.statusBar().showMessage(
            _("Loaded {types} from {file}: add it from the Layer stack's Add layer menu").format(
                types=", ".join(names), file=Path(path).name)
            + (" " + _("(the layers already in the stack now run the new code)") if used else ""), 10000)
        return classes

    def refresh_add_menu(self) -> None:
        """Give the stack editor's Add layer menu an entry for every registered type it lacks."""
        from visualcnn.layers import LAYER_TYPES

        from ui.stack_editor import describe
        editor = self.window.editor
        if hasattr(editor, "refresh_layer_types"):
            editor.refresh_layer_types()
            return
        for kind, cls in LAYER_TYPES.items():
            if kind in editor.add_actions:
                continue
            act = editor.add_menu.addAction(kind)
            act.setToolTip(describe(cls))
            act.setStatusTip(describe(cls))
            act.triggered.connect(lambda _c=False, k=kind: editor.add_layer(k))
            editor.add_actions[kind] = act
        for kind in [k for k in editor.add_actions if k not in LAYER_TYPES]:
            editor.add_menu.removeAction(editor.add_actions.pop(kind))

    def _reload_classes(self) -> None:
        """The network's custom layers run the classes just loaded (same weights if the shapes still fit)."""
        from visualcnn.layers import LAYER_TYPES
        from visualcnn.mistakes import layer_types, loss_types, optimizer_class
        from visualcnn.network import Network
        s = self.session
        try:
            with s.lock:
                net = Network.from_spec(s.network.to_spec(), dtype=s.network.dtype, seed=s.network.seed,
                                        layer_types={**LAYER_TYPES, **layer_types(self.wanted)},
                                        loss_types=loss_types(self.wanted))
                net.set_params(s.network.get_params())
                opt = optimizer_class(self.wanted)(net, **s.optimizer.hyper())
                opt.set_state(s.optimizer.get_state())
                self._applying = True
                s.swap_network(net, opt)
        except (VisualCNNError, ValueError) as e:
            self.report(e, "load")
            try:
                s.rebuild(spec=s.network.to_spec())          # the new code changed the parameters' shapes
            except VisualCNNError as e2:
                self.report(e2, "load")
        finally:
            self._applying = False
        self._network_changed()

    def new_from_template(self, path: str | None = None) -> Path | None:
        """Save a copy of the layer template where the user chooses; offer to open it."""
        if path is None:
            start = str(Path(str(self.window.settings.value("layers/last_dir", str(Path.home())))) / "my_layer.py")
            path, _filter = QtWidgets.QFileDialog.getSaveFileName(self.window, _("Save a new layer file"), start,
                                                                  _("Python layer files (*.py)"))
            if not path:
                return None
        dest = Path(path)
        if dest.suffix != ".py":
            dest = dest.with_suffix(".py")
        try:
            shutil.copyfile(template_path(), dest)
        except OSError as e:
            QtWidgets.QMessageBox.warning(self.window, _("New layer"), _("Could not write {path}: {why}").format(
                path=dest, why=e.strerror or e))
            return None
        self.window.settings.setValue("layers/last_dir", str(dest.parent))
        self.window.statusBar().showMessage(_("Layer template saved as {path}").format(path=dest), 10000)
        Btn = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self.window, _("New layer from template"),
            _("Saved the template (a scaled tanh) as\n{path}\n\nRename its class and type_name, change the math, "
              "then load it with Layer ▸ Load layer file…\n\nOpen it in your editor now?").format(path=dest),
            Btn.Open | Btn.Close)
        if answer == Btn.Open:
            QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(dest)))
        return dest

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


__all__ = ["CHECK_JITTER", "MathLab", "install_mathlab", "template_path", "unit_for_entry"]
