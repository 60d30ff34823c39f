"""StackControl: the layer stack from the editor — checked against the data set, applied to the session, and
the data set followed when the stack's input shape leaves it or comes back."""

from __future__ import annotations

from typing import Any

from visualcnn.errors import SpecError, VisualCNNError
from visualcnn.i18n import _
from visualcnn.network import Network
from visualcnn.spec import format_shape


class StackControl:
    """Mixin of Controller: validate and apply the editor's spec."""

    def validate_spec(self, spec: dict[str, Any]) -> Network:
        """Network.from_spec plus the checks against the session's data set; raises SpecError."""
        s = self.session
        net = Network.from_spec(spec, dtype=s.network.dtype, seed=s.seed)
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
        try:
            self.session.rebuild(spec=spec)
        except VisualCNNError as e:
            self._error(str(e))
            return
        self._follow_input_shape()
        self.clear_alert()
        self.refresh()

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
