"""The step-through engine: one training iteration as a sequence of phases a user can step through.

Phases of one iteration (L layers, 2L + 2 phases):
    forward 0 … forward L−1, loss, backward L−1 … backward 0, update
`step()` runs exactly one phase and returns its StepRecord; `step_back()` returns
to the state before the last phase bit for bit.

How undo stays exact and cheap: at the start of every iteration the engine keeps
a checkpoint (parameters, velocities, sampler state) and, once fetched, the
batch (see history.py). Every phase is a deterministic function of that
checkpoint, so any state inside an iteration is restored by resetting to the
checkpoint and replaying the phases before it quietly. Checkpoints are kept
within a memory budget; past it the oldest go and the `history_trimmed` event
says so.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .errors import SessionError, VisualCNNError
from .events import Events
from .history import Checkpoint, History, IterationMetrics
from .metrics import EventLog, MetricsLog
from .network import Network
from .optim import SGD
from .records import PHASES, ParamUpdate, PoolView, StepRecord, frozen, frozen_dict
from .spec import format_shape
from .watches import BreakpointHit, Breakpoints

EVENTS = ("phase_completed", "stepped_back", "breakpoint_hit", "network_rebuilt", "history_trimmed",
          "hyper_changed", "iteration_completed")


@dataclass(frozen=True)
class RunResult:
    iterations: int                      # iterations completed by this call
    stopped_by: str                      # "done" | "breakpoint" | "stop"
    breakpoint: BreakpointHit | None = None


class Session:
    """s = Session(network, optimizer, dataset, batch_size=1, seed=0); rec = s.step(); s.step_back()."""

    def __init__(self, network: Network, optimizer: SGD, dataset: Any, batch_size: int = 1, seed: int = 0,
                 history_budget: int = 256 * 2**20) -> None:
        from .data.batching import Sampler

        if tuple(dataset.input_shape) != network.input_shape:
            raise SessionError(f"the dataset's images are {format_shape(dataset.input_shape)} but the network "
                               f"takes {format_shape(network.input_shape)}; change input_shape or the dataset")
        if dataset.n_classes > network.n_classes:
            raise SessionError(f"the dataset has {dataset.n_classes} classes but the network outputs "
                               f"{network.n_classes} scores; set the last dense layer's out_features "
                               f"to {dataset.n_classes}")
        self.network = network
        self.optimizer = optimizer
        self.dataset = dataset
        self.seed = check_seed(seed)
        self.batch_size = _check_batch_size(batch_size)
        self.sampler = Sampler(len(dataset.y_train), self.batch_size, self.seed)
        self.history = History(history_budget)
        self.breakpoints = Breakpoints()
        self.events = Events(EVENTS)
        self.metrics = MetricsLog()         # bounded: the newest in full, older ones summarised
        self.log = EventLog()               # what changed when: hyper-parameters, rebuilds, trims (bounded)
        self.last_hit: BreakpointHit | None = None
        self.pinned: tuple[np.ndarray, np.ndarray] | None = None
        self._descriptions: tuple[Network, list[str]] | None = None
        self.preset: str | None = None      # the preset it was built from, if any
        self.path = None                    # the file it was loaded from or saved to, if any
        self._lock = threading.RLock()
        self._reset_history(iteration=0)

    # -- construction -------------------------------------------------------
    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "Session":
        """A session on a bundled preset (assets/presets/NAME.json): spec, dataset and hyper-parameters."""
        from .presets import session_from_preset
        return session_from_preset(name, **overrides)

    def config(self) -> dict[str, Any]:
        """The configuration that rebuilds this session (same shape as a preset)."""
        return {"spec": self.network.to_spec(), "dataset": dict(self.dataset.source),
                "optimizer": self.optimizer.hyper(), "batch_size": self.batch_size,
                "dtype": self.network.dtype.name, "seed": self.seed}

    def checkpoint_state(self) -> dict[str, Any]:
        """Parameters and velocities at the start of the current iteration (what a save keeps)."""
        cp = self.history.current
        return {"params": cp.params, "velocity": cp.velocity, "sampler": cp.sampler_state}

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
                raise SessionError(f"phase {phase_index} is outside this network's iteration "
                                   f"(0 … {self.n_phases - 1})")
            if phase_index > 0 and batch is None:
                raise SessionError(f"phase {phase_index} needs the iteration's batch, and none was given")
            self.network.set_params(params)
            self.optimizer.set_state(velocity)
            self._set_sampler(sampler_state)
            self.pinned = None if pinned is None else self._checked_pin(*pinned)
            self.metrics = MetricsLog(metrics or [])
            self._reset_history(iteration)
            if batch is not None:
                x, y = batch
                self.history.set_batch((frozen(self.network.check_input(x)), frozen(np.asarray(y, np.int64))),
                                       sampler_state if sampler_after is None else sampler_after)
            self._replay(phase_index, records=True)

    def file_state(self) -> dict[str, Any]:
        """Everything a saved session needs to go on exactly where this one stands (see restore_state):
        the current iteration's start, the phase reached, the batch if fetched, the pinned input."""
        with self._lock:
            cp = self.history.current
            return {"params": cp.params, "velocity": cp.velocity, "iteration": self.iteration,
                    "phase_index": self._index, "sampler": cp.sampler_state, "batch": cp.batch,
                    "sampler_after": cp.sampler_after, "pinned": self.pinned}

    @property
    def history_budget(self) -> int:
        return self.history.budget

    @history_budget.setter
    def history_budget(self, budget: int) -> None:
        self.history.budget = int(budget)

    @property
    def lock(self) -> threading.RLock:
        """Held while a phase runs: take it to read the live state consistently from another thread."""
        return self._lock

    # -- where we are -------------------------------------------------------
    @property
    def n_phases(self) -> int:
        return 2 * len(self.network.layers) + 2

    def phase_at(self, index: int) -> tuple[str, int | None]:
        """(phase, layer) of position `index` in an iteration."""
        L = len(self.network.layers)
        if index < L:
            return "forward", index
        if index == L:
            return "loss", None
        if index < 2 * L + 1:
            return "backward", 2 * L - index
        return "update", None

    @property
    def phase(self) -> str:
        """The phase the next step() runs."""
        return self.phase_at(self._index)[0]

    @property
    def layer(self) -> int | None:
        """The layer the next step() works on (None for loss and update)."""
        return self.phase_at(self._index)[1]

    @property
    def phase_index(self) -> int:
        return self._index

    @property
    def records(self) -> list[StepRecord]:
        """The records of the current iteration so far, in order."""
        return list(self._records)

    @property
    def last_record(self) -> StepRecord | None:
        return self._records[-1] if self._records else None

    @property
    def can_step_back(self) -> bool:
        return self._index > 0 or len(self.history) > 1

    def describe(self, index: int | None = None) -> str:
        """What phase `index` (default: the next) does, in words: 'forward through layer 0 conv2d (1×8×8 → 4×6×6)'."""
        index = self._index if index is None else index
        cache = self._descriptions
        if cache is None or cache[0] is not self.network:
            cache = self._descriptions = (self.network, [self._describe(j) for j in range(self.n_phases)])
        return cache[1][index]

    def _describe(self, index: int) -> str:
        phase, i = self.phase_at(index)
        net = self.network
        if phase in ("forward", "backward"):
            layer = net.layers[i]
            src = format_shape(net.input_shape if i == 0 else net.layers[i - 1].output_shape)
            dst = format_shape(layer.output_shape)
            if phase == "forward":
                return f"forward through layer {i} {layer.type_name} ({src} → {dst})"
            return f"backward through layer {i} {layer.type_name} (dC/d{dst} → dC/d{src})"
        if phase == "loss":
            return "loss: softmax + cross-entropy of the logits"
        return f"update: SGD step on {net.n_params:,} parameters"

    def current_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The batch (x (N, C, H, W), labels (N,)) the current iteration steps on, fetched now if need be,
        so a view can show the input before the first phase runs. Read-only arrays."""
        with self._lock:
            if self._index == 0 and self.history.current.batch is None:
                batch = self._batch(0)
                self._set_sampler(self.history.current.sampler_state)   # the fetch "happens" at phase 0
                return batch
            return self.history.current.batch

    @property
    def history_bytes(self) -> int:
        return self.history.nbytes + sum(r.nbytes for r in self._records)

    @property
    def history_iterations(self) -> int:
        """How many iterations back step_back can still go."""
        return len(self.history) - 1

    # -- stepping -----------------------------------------------------------
    def step(self) -> StepRecord:
        """Run the next phase; returns its record (and emits phase_completed, maybe breakpoint_hit)."""
        with self._lock:
            self.last_hit = None
            rec = self._execute(self._index, record=True)
            self._records.append(rec)
            self._advance()
            self.events.emit("phase_completed", rec)
            hit = self._check_breakpoints(rec)
            if hit is not None:
                self.last_hit = hit
                self.events.emit("breakpoint_hit", hit)
            return rec

    def step_back(self) -> StepRecord | None:
        """Undo the last phase exactly; returns the record now current (None at an iteration's start)."""
        with self._lock:
            if not self.can_step_back:
                raise SessionError("already at the start of history: nothing to step back to"
                                   + (f" (older history was dropped to stay within the "
                                      f"{self.history_budget / 2**20:.0f} MB budget)" if self.history.trimmed else ""))
            if self._index == 0:
                # back across the iteration boundary: undo the previous update
                self.history.pop()
                self.iteration -= 1
                self.metrics.truncate(self.iteration)
                self._replay(self.n_phases - 1, records=True)
            else:
                self._replay(self._index - 1, records=False)
                del self._records[self._index:]
            rec = self.last_record
            self.events.emit("stepped_back", rec)
            return rec

    def run_iteration(self) -> list[StepRecord]:
        """Run the phases left in the current iteration; returns their records."""
        out = []
        with self._lock:
            start = self.iteration
            while self.iteration == start:
                out.append(self.step())
        return out

    def run(self, n_iterations: int, should_stop: Callable[[], bool] | None = None,
            on_iteration: Callable[["Session"], None] | None = None, records: bool = True) -> RunResult:
        """Run up to `n_iterations` whole iterations (finishing the current one counts as one).

        Stops early at the phase that trips a breakpoint, or between phases when should_stop() is true.
        records=False skips building StepRecords (faster; views are not fed). Non-finite values are still
        caught: the iteration is then replayed with records to find the first phase where they appeared.
        Threshold watches (gradient norm, dead units) need records and switch them on.
        """
        bp = self.breakpoints
        records = records or bp.grad_norm is not None or bp.dead_fraction is not None
        done = 0
        with self._lock:
            while done < n_iterations:
                start = self.iteration
                while self.iteration == start:
                    if should_stop is not None and should_stop():
                        if not records:
                            self._replay(self._index, records=True)
                        return RunResult(done, "stop")
                    if records:
                        self.last_hit = None
                        self.step()
                        if self.last_hit is not None:
                            return RunResult(done, "breakpoint", self.last_hit)
                        continue
                    phase = self.phase
                    self._execute(self._index, record=False, train_only=True)
                    # Non-finite values in this iteration show in its loss or, if they arose in the backward
                    # pass or the update, in the parameters after it: look there, before the next iteration's
                    # forward pass would make them look as if they came from layer 0's forward.
                    if bp.nonfinite and ((phase == "loss" and not np.isfinite(self.network.loss_fn.value))
                                         or (phase == "update" and not self._params_finite())):
                        return RunResult(done, "breakpoint", self._locate_breakpoint())
                    self._advance()
                done += 1
                if on_iteration is not None:
                    on_iteration(self)
        return RunResult(done, "done")

    def _locate_breakpoint(self) -> BreakpointHit | None:
        """Replay the current iteration with records, through the phase just run, up to the first phase that
        trips a breakpoint (the cursor then stands after it, as when stepping)."""
        end, iteration = self._index, self.iteration
        self._replay(0, records=True)
        while self.iteration == iteration and self._index <= end:
            self.last_hit = None
            self.step()
            if self.last_hit is not None:
                return self.last_hit
        # the records showed nothing the fast path did not (cannot happen for NaN/Inf that reached the loss
        # or the parameters): still stop, saying where it was seen
        return BreakpointHit("nonfinite", iteration, self.phase_at(end)[0], None, float("nan"),
                             f"NaN/Inf seen after the {self.phase_at(end)[0]} phase of iteration {iteration}")

    def _params_finite(self) -> bool:
        return all(np.isfinite(p).all() for layer in self.network.layers for p in layer.params.values())

    # -- the phases -----------------------------------------------------------
    def _advance(self) -> None:
        self._index += 1
        if self._index == self.n_phases:
            self.iteration += 1
            self._index = 0
            self._records = []
            self.history.push(self._new_checkpoint())
            self._trim()
            self.events.emit("iteration_completed", self.iteration)

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
                    raise LayerFailure(f"layer {i} {layer.type_name}: backward left grads[{k!r}] with shape "
                                       f"{g.shape}; it must match params[{k!r}] {layer.params[k].shape}",
                                       phase="backward", layer=i)
            self._douts.append(dx)
            m = self._pending_metrics
            if m is not None and layer.grads:
                m.grad_norms[i] = float(np.sqrt(sum(float(np.vdot(g, g)) for g in layer.grads.values())))
            if not record:
                return None
            prev = self._records[-1].dx if self._records else frozen(dout)
            pool = None
            if hasattr(layer, "routing"):
                # the layer's input as recorded by its forward phase (index i of this iteration)
                x_in = self._records[i].x if len(self._records) > i else frozen(layer.x)
                pool = PoolView(layer, x_in)
            return StepRecord(**common, dout=prev, dx=frozen(dx), grads=frozen_dict(layer.grads), pool=pool)
        # update
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
        updates = {li: {k: ParamUpdate(self._records[2 * L - li].grads[k], frozen(vel[k]), frozen(layer.params[k]))
                        for k in layer.params}
                   for li, (layer, vel) in enumerate(zip(net.layers, self.optimizer.velocity)) if layer.params}
        return StepRecord(**common, updates=updates, hyper=dict(self.optimizer.hyper()))

    def _new_checkpoint(self) -> Checkpoint:
        return Checkpoint(self.iteration, tuple(self.network.get_params()), tuple(self.optimizer.get_state()),
                          json.dumps(self.sampler.get_state()))

    def _replay(self, index: int, records: bool) -> None:
        """Reset to the current iteration's checkpoint and quietly run phases 0 … index−1."""
        cp = self.history.current
        self.network.set_params(cp.params)
        self.optimizer.set_state(cp.velocity)
        self._set_sampler(cp.sampler_state)
        self._acts, self._douts, self._pending_metrics = [], [], None
        if records:
            self._records = []
        for j in range(index):
            rec = self._execute(j, record=records)
            if records:
                self._records.append(rec)
        self._index = index

    def _set_sampler(self, state: dict[str, Any]) -> None:
        """Put the sampler at a saved position, drawing batches of the session's batch size from there:
        a replay re-creates where the batches come from, never an older batch size."""
        self.sampler.set_state(state)
        self.sampler.set_batch_size(self.batch_size)

    def _reset_history(self, iteration: int) -> None:
        self.iteration = iteration
        self._index = 0
        self._records: list[StepRecord] = []
        self._acts: list[np.ndarray] = []
        self._douts: list[np.ndarray] = []
        self._pending_metrics: IterationMetrics | None = None
        self.history.reset(self._new_checkpoint())

    def _trim(self) -> None:
        dropped = self.history.trim()
        if dropped:
            oldest = self.history.oldest.iteration
            msg = (f"history trimmed: dropped {dropped} iteration(s) to stay within "
                   f"{self.history_budget / 2**20:.0f} MB; step back reaches iteration {oldest}")
            self.log.append(msg, kind="history_trimmed")      # one line per run of trims, not per iteration
            self.events.emit("history_trimmed", dropped, msg)

    def _check_breakpoints(self, rec: StepRecord) -> BreakpointHit | None:
        dead = None
        if rec.phase == "forward" and hasattr(self.network.layers[rec.layer], "dead_fraction"):
            if self.breakpoints.dead_fraction is not None:
                dead = self.network.layers[rec.layer].dead_fraction()
        return self.breakpoints.check(rec, dead)

    # -- changing things between steps ----------------------------------------
    def set_hyper(self, **changes: Any) -> None:
        """Change lr, momentum, weight_decay or decay_biases; takes effect at the next update."""
        with self._lock:
            self.optimizer.set_hyper(**changes)
            msg = f"iteration {self.iteration}, before {self.phase}: " + ", ".join(
                f"{k} = {v}" for k, v in changes.items())
            self.log.append(msg)
            self.events.emit("hyper_changed", dict(changes))

    def set_batch_size(self, batch_size: int) -> str:
        """Takes effect with the next batch fetched: this iteration's if it has not fetched one yet, else the
        next iteration's (this one keeps its batch, also when stepped back or replayed). Returns that, in words.
        """
        with self._lock:
            self.batch_size = _check_batch_size(batch_size)
            self.sampler.set_batch_size(self.batch_size)
            msg = f"iteration {self.iteration}: batch size = {self.batch_size}, {self.batch_size_takes_effect()}"
            self.log.append(msg)
            self.events.emit("hyper_changed", {"batch_size": self.batch_size})
            return msg

    def batch_size_takes_effect(self) -> str:
        """When the current batch size applies: 'from this iteration' or 'from iteration N (…)'."""
        batch = self.history.current.batch
        if self.pinned is not None:
            return "once the dataset's batches are used again (the pinned images are stepped on now)"
        if batch is None or len(batch[1]) == self.batch_size:
            return "from this iteration"
        return (f"from iteration {self.iteration + 1} (iteration {self.iteration} keeps its batch of "
                f"{len(batch[1])})")

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
                reset += ["weights (new initialisation)", "momentum velocities", "iteration count"]
                if seed is not None:
                    from .data.batching import Sampler
                    self.seed = new_seed
                    self.sampler = Sampler(len(self.dataset.y_train), self.batch_size, new_seed)
                    reset.append("batch order")
                self.metrics = MetricsLog()
                iteration = 0
            else:
                net = self.network.copy(dtype) if dtype is not None else self.network
                velocity = self.optimizer.get_state()
                if dtype is not None:
                    reset.append(f"arrays cast to {np.dtype(dtype).name}")
                iteration = self.iteration
            self.network = net
            self.optimizer = type(self.optimizer)(net, **self.optimizer.hyper())   # an optimizer mistake stays
            if velocity is not None:
                self.optimizer.set_state(velocity)
            self._reset_history(iteration)
            reset.append("step history")
            msg = "network rebuilt: reset " + ", ".join(reset)
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
                raise SessionError("swap_network needs a network with the same spec; "
                                   "use rebuild(spec=...) to change the layer stack")
            self.network, self.optimizer = network, optimizer
            self._replay(self._index, records=True)
            msg = f"iteration {self.iteration}, before {self.phase}: formulas swapped, current iteration recomputed"
            self.log.append(msg)
            self.events.emit("network_rebuilt", ["current iteration recomputed with the new formulas"])

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
        raise LayerFailure(f"layer {index} {layer.type_name}: {method} raised {type(e).__name__}: {e}",
                           phase=method, layer=index, traceback_text=traceback.format_exc()) from e
    if expected is None:            # the caller wants no result (backward for parameter gradients only)
        return out
    if not isinstance(out, np.ndarray) or out.shape != expected:
        got = out.shape if isinstance(out, np.ndarray) else type(out).__name__
        raise LayerFailure(f"layer {index} {layer.type_name}: {method} returned {got}, expected an array of "
                           f"shape {expected}", phase=method, layer=index)
    return out


def check_seed(seed: Any) -> int:
    """A seed is a whole number from 0 to limits.MAX_SEED (what NumPy's seeding and a saved file take; a
    window's seed box must hold that range too)."""
    from .limits import MAX_SEED
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise SessionError(f"seed must be a whole number from 0 to {MAX_SEED} (visualcnn.limits.MAX_SEED), "
                           f"got {seed!r}")
    return int(seed)


def _check_batch_size(batch_size: Any) -> int:
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise SessionError(f"batch size must be a whole number >= 1, got {batch_size!r}")
    return int(batch_size)


__all__ = ["PHASES", "BreakpointHit", "LayerFailure", "Breakpoints", "IterationMetrics", "RunResult", "Session", "StepRecord"]
