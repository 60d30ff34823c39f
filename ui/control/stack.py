"""StackControl: the layer stack from the editor — checked against the data set, applied to the session, and
the data set followed when the stack's input shape leaves it or comes back.

Building a stack runs its layers' __init__ and build: a stack with a user layer is built (checked, and applied)
through GuardControl, like a step — off the GUI thread, with the banner's Stop after STILL_RUNNING_S. While a
check is still running the editor shows the stack as not yet valid; once it ends the editor checks it again
(from the kept result). A build that is stopped, abandoned or fails outside the checks (sys.exit(), any
exception) leaves the window on the session's previous stack, with a message naming the layer and its file.
"""

from __future__ import annotations

import json
from typing import Any

from visualcnn.custom import user_layers
from visualcnn.errors import SpecError, VisualCNNError
from visualcnn.i18n import _
from visualcnn.network import Network
from visualcnn.spec import format_shape

from .guard import STOPPED, GuardedJob, job_result


def building(spec: dict[str, Any]) -> tuple[int | None, str]:
    """(first user layer's index, "building layer 1 my_layer (/path/my_layer.py), …"): what a guarded build is."""
    from visualcnn.custom import SOURCES
    found = user_layers(spec)
    text = ", ".join(_("layer {layer} {type} ({file})").format(
        layer=i, type=kind, file=SOURCES.get(kind) or _("registered from code")) for i, kind in found)
    return (found[0][0] if found else None), _("building {layers}").format(layers=text)


class StackControl:
    """Mixin of Controller: validate and apply the editor's spec."""

    def validate_spec(self, spec: dict[str, Any]) -> Network:
        """Network.from_spec plus the checks against the session's data set; raises SpecError."""
        s = self.session
        if not user_layers(spec):
            return self._fits_data(Network.from_spec(spec, dtype=s.network.dtype, seed=s.seed))
        if spec == s.network.to_spec():
            return self._fits_data(s.network)       # the stack running now: built already, no user code again
        if self.busy:
            raise SpecError(self.busy_refusal() or "")
        key = json.dumps([spec, str(s.network.dtype), s.seed], sort_keys=True, default=str)
        kept = getattr(self, "_stack_checked", None)
        if kept is None or kept[0] != key:
            layer, what = building(spec)

            def checked(call: Any) -> bool:
                outcome = self._build_outcome(call, layer, what)
                self._stack_checked = None if outcome is None else (key, outcome)
                if outcome is not None and not self._checking_inline:
                    self.window.editor.revalidate()     # the editor's check gave up waiting: it checks again now
                return isinstance(outcome, Network)

            self._stack_checked, self._checking_inline = None, True
            try:
                self._guarded(lambda: Network.from_spec(spec, dtype=s.network.dtype, seed=s.seed), user_code=True,
                              job=GuardedJob(what, layer, checked, holds_session=False))
            finally:
                self._checking_inline = False
            kept = self._stack_checked
            if kept is None:        # still running: the banner offers Stop; the editor checks again once it ends
                raise SpecError(_("{what} is still running…").format(what=what))
        if isinstance(kept[1], BaseException):
            raise kept[1]
        return self._fits_data(kept[1])

    _checking_inline = False

    def _build_outcome(self, call: Any, layer: int | None, what: str) -> Any:
        """What a guarded build of a stack with a user layer gave: its Network, or the error the editor shows (a
        VisualCNNError; anything else layer code raised, sys.exit() too, also goes to the Errors panel); None when
        it was stopped or abandoned: then that is reported and the editor goes back to the session's stack."""
        try:
            value = job_result(self, call, what, "build", layer, _("the layer stack stays as it was"))
        except VisualCNNError as e:
            return e
        except BaseException as e:  # noqa: BLE001 - sys.exit() in a layer's __init__ must not close the window
            self._failed(e, _("{what} failed: ").format(what=what))
            return SpecError(_("{what} failed: {error}").format(what=what, error=f"{type(e).__name__}: {e}"),
                             layer_index=layer)
        if value is not STOPPED:
            return value
        self.window.editor.load_spec(self.session.network.to_spec())
        return None

    def _fits_data(self, net: Network) -> Network:
        s = self.session
        ds = s.dataset
        if len(net.input_shape) == 3 and tuple(ds.input_shape) != net.input_shape:
            return net          # no data set of this shape: apply_spec steps it on random images of it
        if tuple(ds.input_shape) != net.input_shape:
            raise SpecError(_("input shape {shape} does not match the data set's images ({data_shape}); set the "
                              "input to {data_shape}").format(shape=format_shape(net.input_shape),
                                                              data_shape=format_shape(ds.input_shape)))
        if ds.n_classes > net.n_classes:
            last = len(net.layers) - 1
            raise SpecError(_("layer {layer} {type}: outputs {n} class scores but the data set has {classes} "
                              "classes; set out_features to {classes}").format(
                                layer=last, type=net.layers[last].type_name, n=net.n_classes, classes=ds.n_classes),
                            layer_index=last)
        return net

    def _validity_changed(self, valid: bool, message: str) -> None:
        if not valid:
            self.worker.pause()
        self.spec_valid = valid
        self.refresh()

    def apply_spec(self, spec: dict[str, Any]) -> None:
        """Rebuild the session's network for a valid spec from the stack editor (a run is paused first)."""
        if not self.wait_until_paused():
            self._error(_("The run did not pause in time, so the edit was not applied; press F5 and try again."))
            return
        if self.busy:
            self._error(self.busy_refusal() or "")
            self.window.editor.load_spec(self.session.network.to_spec())
            return
        if user_layers(spec):
            layer, what = building(spec)

            def applied(call: Any) -> bool:
                outcome = self._build_outcome(call, layer, what)
                if outcome is None:
                    return False                        # stopped or abandoned: reported, the editor is back
                if isinstance(outcome, BaseException):
                    if not self.alert:                  # (a crash is in the banner already)
                        self._error(str(outcome))
                    self.window.editor.load_spec(self.session.network.to_spec())
                    return False
                return self._spec_applied()

            self.clear_alert()
            self._guarded(lambda: self.session.rebuild(spec=spec), user_code=True, job=GuardedJob(what, layer, applied))
            return
        try:
            self.session.rebuild(spec=spec)
        except VisualCNNError as e:
            self._error(str(e))
            return
        self._spec_applied()

    def _spec_applied(self) -> bool:
        self._stack_checked = None          # a layer file reloaded later must be checked again
        self._follow_input_shape()
        self.clear_alert()
        self.refresh()
        return True

    def _follow_input_shape(self) -> None:
        """A stack no data set fits steps on random images of its input shape; when the stack fits the
        data set it left again, it goes back to that set."""
        from visualcnn.data.random_set import NAME, fits, random_for

        s, net = self.session, self.session.network
        on_random = s.dataset.source.get("name_or_path") == NAME
        left = getattr(self, "_left_dataset", None)
        if on_random and left is not None and fits(left, net.input_shape, net.n_classes):
            self._left_dataset = None
            self.set_dataset(left, left.describe())
        elif not fits(s.dataset, net.input_shape, net.n_classes) and tuple(s.dataset.input_shape) != net.input_shape:
            if not on_random:
                self._left_dataset = s.dataset
            left = getattr(self, "_left_dataset", None)
            if self.set_dataset(random_for(net.input_shape, net.n_classes), _("random images")):
                if left is not None:
                    text = _("no data set has {shape} images: stepping on random images of that shape (a gradient "
                             "check needs no data); set the input back to use {name} again").format(
                                shape=format_shape(net.input_shape), name=left.name)
                else:
                    text = _("no data set has {shape} images: stepping on random images of that shape (a gradient "
                             "check needs no data)").format(shape=format_shape(net.input_shape))
                self.window.statusBar().showMessage(text, 10000)
