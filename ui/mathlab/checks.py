"""The math lab's gradient check: the two Check buttons, the check on a jittered copy of the current batch
(off the GUI thread, in GradCheckView), the float32 path compared with float64, and a clicked cell explained
in the inspector's Numbers tab."""

from __future__ import annotations

from typing import Any

import numpy as np

from ui.views.layer_errors import LayerError
from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

#: the noise the command line's `visualcnn gradcheck` adds by default (ties in max pooling, ReLU at 0)
CHECK_JITTER = 0.05
CHECK_SEED = 0


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



class GradientChecks:
    """MathLab's gradient-check part (a mixin: MathLab holds the views, the session and the window)."""

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

