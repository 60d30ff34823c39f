"""What can change in a Session between two steps, and its state in and out of a file.

Hyper-parameters and the batch size (each says when it takes effect), a pinned input, a rebuilt
network (new spec, dtype or seed), swapped formulas (a study-note mistake, a reloaded custom layer),
an evaluation that must leave the step state as it was, and the state a session file keeps.
`SessionControl` is a part of `Session` (session.py): it works on the Session's cursor and history.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import SessionError
from .history import IterationMetrics
from .metrics import MetricsLog
from .network import Network
from .optim import SGD
from .records import frozen, phase_name
from visualcnn.i18n import _


class SessionControl:
    """Session's methods that change it between steps (mixed into Session; not used alone)."""

    # -- state in and out of a file ----------------------------------------------------------------
    def restore_state(self, params, velocity, iteration: int, sampler_state: dict[str, Any],
                      metrics: list[IterationMetrics] | None = None, *, phase_index: int = 0,
                      batch: tuple[np.ndarray, np.ndarray] | None = None,
                      sampler_after: dict[str, Any] | None = None,
                      pinned: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Continue from a saved iteration start (parameters, velocities, sampler state), at phase `phase_index`
        of that iteration, on its `batch` (and the sampler state after fetching it) if it was fetched.

        The phases before `phase_index` are recomputed from the iteration's start, so the session goes on
        bit for bit as the saved one would have (clears the step history before this iteration).
        """
        with self._lock:
            if not 0 <= phase_index < self.n_phases:
                raise SessionError(_("phase {phase_index} is outside this network's iteration (0 … "
                                     "{value})").format(phase_index=phase_index, value=self.n_phases - 1))
            if phase_index > 0 and batch is None:
                raise SessionError(_("phase {phase_index} needs the iteration's batch, and none was "
                                     "given").format(phase_index=phase_index))
            self.network.set_params(params)
            self.optimizer.set_state(velocity)
            if sampler_after is not None:
                self._set_sampler(sampler_after)            # checked now, not at the first step
            self._set_sampler(sampler_state)
            self.pinned = None if pinned is None else self._checked_pin(*pinned)
            self.metrics = MetricsLog(metrics or [])
            self._reset_history(iteration)
            if batch is not None:
                xs, ys = self._checked_pin(*batch)           # the same checks as a pinned input's
                self.history.set_batch((frozen(xs), frozen(ys)), sampler_state if sampler_after is None else sampler_after)
            self._replay(phase_index, records=True)

    def file_state(self) -> dict[str, Any]:
        """Everything a saved session needs to go on exactly where this one stands (see restore_state):
        the current iteration's start, the phase reached, the batch if fetched, the pinned input."""
        with self._lock:
            cp = self.history.current
            return {"params": cp.params, "velocity": cp.velocity, "iteration": self.iteration,
                    "phase_index": self._index, "sampler": cp.sampler_state, "batch": cp.batch,
                    "sampler_after": cp.sampler_after, "pinned": self.pinned}

    # -- changing things between steps ----------------------------------------
    def set_hyper(self, **changes: Any) -> None:
        """Change lr, momentum, weight_decay or decay_biases; takes effect at the next update."""
        with self._lock:
            self.optimizer.set_hyper(**changes)
            msg = _("iteration {iteration}, before {phase}: ").format(
                iteration=self.iteration, phase=phase_name(self.phase)) + ", ".join(
                f"{k} = {v}" for k, v in changes.items())
            self.log.append(msg)
            self.events.emit("hyper_changed", dict(changes))

    def set_batch_size(self, batch_size: int) -> str:
        """Takes effect with the next batch fetched: this iteration's if it has not fetched one yet, else the
        next iteration's (this one keeps its batch, also when stepped back or replayed). Returns that, in words.
        """
        with self._lock:
            self.batch_size = check_batch_size(batch_size)
            self.sampler.set_batch_size(self.batch_size)
            msg = _("iteration {iteration}: batch size = {batch_size}, {batch_size_takes_effect}").format(
                      iteration=self.iteration, batch_size=self.batch_size,
                      batch_size_takes_effect=self.batch_size_takes_effect())
            self.log.append(msg)
            self.events.emit("hyper_changed", {"batch_size": self.batch_size})
            return msg

    def batch_size_takes_effect(self) -> str:
        """When the current batch size applies: 'from this iteration' or 'from iteration N (…)'."""
        batch = self.history.current.batch
        if self.pinned is not None:
            return _("once the dataset's batches are used again (the pinned images are stepped on now)")
        if batch is None or len(batch[1]) == self.batch_size:
            return _("from this iteration")
        return (_("from iteration {value} (iteration {iteration} keeps its batch of {n_batch})").format(
                    value=self.iteration + 1, iteration=self.iteration, n_batch=len(batch[1])))

    def pin_input(self, x: np.ndarray | None, labels: Any = None) -> None:
        """Step on these images (N, C, H, W) from the next iteration on, instead of the dataset's batches;
        None returns to the dataset. The current iteration is restarted if it has not fetched its batch."""
        with self._lock:
            self.pinned = None if x is None else self._checked_pin(x, labels)
            self.restart_iteration()

    def _checked_pin(self, x: np.ndarray, labels: Any = None) -> tuple[np.ndarray, np.ndarray]:
        from .losses import check_labels

        xs = self.network.check_input(x)
        ys = np.zeros(len(xs), dtype=np.int64) if labels is None else np.asarray(labels, np.int64)
        return xs, check_labels(ys, len(xs), self.network.n_classes)

    def restart_iteration(self) -> None:
        """Go back to the start of the current iteration and fetch its batch anew."""
        with self._lock:
            self.history.clear_batch()
            self._replay(0, records=True)

    def rebuild(self, spec: dict | None = None, dtype: Any = None, seed: int | None = None) -> list[str]:
        """Rebuild the network for a new spec, dtype or seed; returns (and emits) the list of what was reset.

        A new spec or seed means new weights (and a seed also a new batch order); a dtype change
        keeps the weights and velocities, cast. The step history is always cleared; the study-note
        mistakes switched on stay on (the new network and optimizer compute the same formulas).
        """
        from .mistakes import active, build_network

        with self._lock:
            reset: list[str] = []
            velocity = None
            if spec is not None or seed is not None:
                new_seed = self.seed if seed is None else check_seed(seed)
                net = build_network(spec if spec is not None else self.network.to_spec(),
                                    active(self.network), dtype=dtype or self.network.dtype, seed=new_seed)
                reset += [_("weights (new initialisation)"), _("momentum velocities"), _("iteration count")]
                if seed is not None:
                    from .data.batching import Sampler
                    self.seed = new_seed
                    self.sampler = Sampler(len(self.dataset.y_train), self.batch_size, new_seed)
                    reset.append(_("batch order"))
                self.metrics = MetricsLog()
                iteration = 0
            else:
                net = self.network.copy(dtype) if dtype is not None else self.network
                velocity = self.optimizer.get_state()
                if dtype is not None:
                    reset.append(_("arrays cast to {name}").format(name=np.dtype(dtype).name))
                iteration = self.iteration
            self.network = net
            self.optimizer = type(self.optimizer)(net, **self.optimizer.hyper())   # an optimizer mistake stays
            if velocity is not None:
                self.optimizer.set_state(velocity)
            self._reset_history(iteration)
            reset.append(_("step history"))
            msg = _("network rebuilt: reset ") + ", ".join(reset)
            self.log.append(msg)
            self.events.emit("network_rebuilt", reset)
            return reset

    # -- swapping the math in place (used by visualcnn.mistakes; keep separate from rebuild) ------------
    def swap_network(self, network: Network, optimizer: SGD) -> None:
        """Compute with `network` and `optimizer` from now on: the same spec and parameters, other classes
        (a study-note mistake switched on or off, a custom layer reloaded).

        Weights, velocities, the step history and the cursor are kept; the current iteration is
        recomputed up to the cursor with the new formulas (emits network_rebuilt).
        """
        with self._lock:
            if network.to_spec() != self.network.to_spec():
                raise SessionError(_("swap_network needs a network with the same spec; use "
                                     "rebuild(spec=...) to change the layer stack"))
            self.network, self.optimizer = network, optimizer
            self._replay(self._index, records=True)
            msg = _("iteration {iteration}, before {phase}: formulas swapped, current iteration "
                    "recomputed").format(iteration=self.iteration, phase=phase_name(self.phase))
            self.log.append(msg)
            self.events.emit("network_rebuilt", [_("current iteration recomputed with the new formulas")])

    def evaluate(self, split: str = "test", max_samples: int | None = None,
                 batch_size: int = 256) -> tuple[float, float]:
        """Mean loss and accuracy on the dataset's `split` ("train" | "test"), without disturbing the step state."""
        with self._lock:
            x = getattr(self.dataset, f"x_{split}")
            y = getattr(self.dataset, f"y_{split}")
            if max_samples is not None:
                x, y = x[:max_samples], y[:max_samples]
            if len(y) == 0:
                return float("nan"), float("nan")
            from .losses import log_softmax
            total_loss = correct = 0.0
            for s in range(0, len(y), batch_size):
                logits = self.network.forward(x[s:s + batch_size])
                log_p = log_softmax(logits.astype(np.float64))
                yb = y[s:s + batch_size]
                total_loss -= float(log_p[np.arange(len(yb)), yb].sum())
                correct += float(np.sum(log_p.argmax(axis=1) == yb))
            # the forward passes above overwrote the layers' caches: rebuild the live state exactly
            self._replay(self._index, records=False)
            return total_loss / len(y), correct / len(y)


def check_seed(seed: Any) -> int:
    """A seed is a whole number from 0 to limits.MAX_SEED (what NumPy's seeding and a saved file take; a
    window's seed box must hold that range too)."""
    from .limits import MAX_SEED
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise SessionError(_("seed must be a whole number from 0 to {MAX_SEED} "
                             "(visualcnn.limits.MAX_SEED), got {seed!r}").format(MAX_SEED=MAX_SEED, seed=seed))
    return int(seed)


def check_batch_size(batch_size: Any) -> int:
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise SessionError(_("batch size must be a whole number >= 1, got {batch_size!r}").format(
                               batch_size=batch_size))
    return int(batch_size)


__all__ = ["SessionControl", "check_batch_size", "check_seed"]
