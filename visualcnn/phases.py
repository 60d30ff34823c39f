"""The phases themselves: what forward, loss, backward and update compute, and the record each leaves.

`PhaseRunner` is a part of `Session` (session.py), which owns the cursor, the history and the
replays; here is only what one phase does to the network, the optimizer and the activations kept
between phases. A layer that raises or returns a wrongly shaped array becomes a LayerFailure naming
the phase and layer, never a crash of the session.
"""

from __future__ import annotations

import numpy as np

from .errors import SessionError, VisualCNNError
from .history import IterationMetrics
from .records import ParamUpdate, PoolView, StepRecord, frozen, frozen_dict
from visualcnn.i18n import _


class PhaseRunner:
    """Session's phase execution (mixed into Session; not used alone)."""

    def _batch(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The current iteration's batch, fetched (and remembered in its checkpoint) on first use."""
        cp = self.history.current
        if cp.batch is not None:
            if index == 0:              # (re)entering phase 0: the fetch happens again, identically
                self._set_sampler(cp.sampler_after)
        else:
            if self.pinned is not None:
                x, y = self.pinned
            else:
                # the sampler stands at cp.sampler_state here: pushed with the checkpoint, or reset by _replay
                idx = self.sampler.next_indices()
                x, y = self.dataset.x_train[idx], self.dataset.y_train[idx]
            self.history.set_batch((frozen(self.network.check_input(x)), frozen(np.asarray(y, dtype=np.int64))),
                                   self.sampler.get_state())
        return cp.batch

    def _execute(self, index: int, record: bool, train_only: bool = False) -> StepRecord | None:
        """Run phase `index`. train_only (run mode without records): skip what only the views need."""
        # overflow and NaN are the non-finite breakpoint's business, not console warnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return self._execute_phase(index, record, train_only)

    def _execute_phase(self, index: int, record: bool, train_only: bool = False) -> StepRecord | None:
        phase, i = self.phase_at(index)
        net = self.network
        bx, by = self._batch(index)
        common = dict(iteration=self.iteration, index=index, phase=phase, layer=i,
                      layer_type=None if i is None else net.layers[i].type_name,
                      description=self.describe(index), batch_x=bx, batch_y=by) if record else {}
        if phase == "forward":
            x = bx if i == 0 else self._acts[i - 1]
            y = _guarded(net.layers[i], "forward", i, x, (len(x), *net.layers[i].output_shape))
            del self._acts[i:]
            self._acts.append(y)
            if not record:
                return None
            prev = self._records[-1].y if i > 0 and self._records else bx
            return StepRecord(**common, x=prev, y=frozen(y))
        if phase == "loss":
            logits = self._acts[-1]
            loss = net.loss(logits, by)
            acc = net.loss_fn.accuracy()
            self._pending_metrics = IterationMetrics(self.iteration, loss, acc)
            self._douts = [net.loss_fn.backward()]
            if not record:
                return None
            return StepRecord(**common, logits=self._records[-1].y if self._records else frozen(logits),
                              probs=frozen(net.loss_fn.probs), loss=loss, accuracy=acc,
                              dx=frozen(self._douts[0], copy=False))
        if phase == "backward":
            layer = net.layers[i]
            dout = self._douts[-1]
            lowest = net.lowest_param_layer
            if train_only and i <= lowest:
                # training needs no gradient below the lowest parameters: skip it (as Network.backward does)
                if i == lowest:
                    layer.input_grad = False
                    try:
                        _guarded(layer, "backward", i, dout, None)
                    finally:
                        layer.input_grad = True
                dx = None
            else:
                dx = _guarded(layer, "backward", i, dout, (len(dout), *layer.input_shape))
            for k, g in layer.grads.items():
                if g.shape != layer.params[k].shape:
                    raise LayerFailure(_("layer {i} {type_name}: backward left grads[{k!r}] with shape "
                                         "{got}; it must match params[{k!r}] {expected}").format(
                                           i=i, type_name=layer.type_name, k=k, got=g.shape,
                                           expected=layer.params[k].shape),
                                       phase="backward", layer=i)
            self._douts.append(dx)
            m = self._pending_metrics
            if m is not None and layer.grads:
                m.grad_norms[i] = float(np.sqrt(sum(float(np.vdot(g, g)) for g in layer.grads.values())))
            if not record:
                return None
            prev = self._records[-1].dx if self._records else frozen(dout)
            pool = None
            if hasattr(type(layer), "routing"):     # the class: on the instance, hasattr builds the routing
                # the layer's input as recorded by its forward phase (index i of this iteration)
                x_in = self._records[i].x if len(self._records) > i else frozen(layer.x)
                pool = PoolView(layer, x_in)
            return StepRecord(**common, dout=prev, dx=frozen(dx), grads=frozen_dict(layer.grads), pool=pool)
        # update
        # the values the forward and backward passes used, read by explanations after the update (numbers)
        before = [{k: frozen(w) for k, w in layer.params.items()} for layer in net.layers] if record else None
        self.optimizer.step()
        m = self._pending_metrics
        if m is not None:
            for li, (layer, vel) in enumerate(zip(net.layers, self.optimizer.velocity)):
                if vel:
                    w = np.sqrt(sum(float(np.vdot(p, p)) for p in layer.params.values()))
                    dw = np.sqrt(sum(float(np.vdot(v, v)) for v in vel.values()))
                    m.update_ratios[li] = dw / w if w > 0 else float("inf")
            self.metrics.append(m)
            self._pending_metrics = None
        if not record:
            return None
        # the gradients were frozen by the backward records already: share them (record of layer li is 2L − li)
        L = len(net.layers)
        updates = {li: {k: ParamUpdate(self._records[2 * L - li].grads[k], frozen(vel[k]), frozen(layer.params[k]),
                                       before[li][k])
                        for k in layer.params}
                   for li, (layer, vel) in enumerate(zip(net.layers, self.optimizer.velocity)) if layer.params}
        return StepRecord(**common, updates=updates, hyper=dict(self.optimizer.hyper()))


class LayerFailure(SessionError):
    """A layer raised or returned an array of the wrong shape; carries the phase, layer and traceback."""

    def __init__(self, message: str, phase: str, layer: int, traceback_text: str = "") -> None:
        super().__init__(message)
        self.phase, self.layer, self.traceback_text = phase, layer, traceback_text


def _guarded(layer, method: str, index: int, arg: np.ndarray, expected: tuple[int, ...] | None) -> np.ndarray:
    """layer.forward/backward(arg), turning an exception or a wrong-shaped result into a LayerFailure
    (a user-written layer must never take the session down with it)."""
    import traceback

    try:
        out = getattr(layer, method)(arg)
    except VisualCNNError:
        raise
    except (Exception, SystemExit) as e:  # noqa: BLE001 - any failure of layer code is reported, not fatal;
        # sys.exit() in a layer is a failure of that layer, not a request to close the app unsaved
        raise LayerFailure(_("layer {index} {type_name}: {method} raised {error_type}: {error}").format(
                               index=index, type_name=layer.type_name, method=method, error_type=type(e).__name__,
                               error=e),
                           phase=method, layer=index, traceback_text=traceback.format_exc()) from e
    if expected is None:            # the caller wants no result (backward for parameter gradients only)
        return out
    if not isinstance(out, np.ndarray) or out.shape != expected:
        got = out.shape if isinstance(out, np.ndarray) else type(out).__name__
        raise LayerFailure(_("layer {index} {type_name}: {method} returned {got}, expected an array of "
                             "shape {expected}").format(
                               index=index, type_name=layer.type_name, method=method, got=got,
                               expected=expected), phase=method, layer=index)
    return out


__all__ = ["LayerFailure", "PhaseRunner"]
