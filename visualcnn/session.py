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

The Session is assembled from three parts: this module (the cursor over phases, stepping,
running, replays and the history), phases.py (what each phase computes) and
session_control.py (what changes between steps, and the state a session file keeps).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .errors import SessionError
from .events import Events
from .history import Checkpoint, History, IterationMetrics
from .layers.workspace import one_blas_thread
from .metrics import EventLog, MetricsLog
from .network import Network
from .optim import SGD
from .phases import LayerFailure, PhaseRunner
from .records import PHASES, StepRecord, phase_name
from .session_control import SessionControl, check_batch_size, check_seed
from .spec import format_shape
from .watches import BreakpointHit, Breakpoints
from visualcnn.i18n import _, current_language

EVENTS = ("phase_completed", "stepped_back", "breakpoint_hit", "network_rebuilt", "history_trimmed",
          "hyper_changed", "iteration_completed")


@dataclass(frozen=True)
class RunResult:
    iterations: int                      # iterations completed by this call
    stopped_by: str                      # "done" | "breakpoint" | "stop"
    breakpoint: BreakpointHit | None = None


class Session(PhaseRunner, SessionControl):
    """s = Session(network, optimizer, dataset, batch_size=1, seed=0); rec = s.step(); s.step_back()."""

    def __init__(self, network: Network, optimizer: SGD, dataset: Any, batch_size: int = 1, seed: int = 0,
                 history_budget: int = 256 * 2**20) -> None:
        from .data.batching import Sampler

        if tuple(dataset.input_shape) != network.input_shape:
            raise SessionError(_("the dataset's images are {data_shape} but the network takes "
                                 "{net_shape}; change input_shape or the dataset").format(
                                   data_shape=format_shape(dataset.input_shape),
                                   net_shape=format_shape(network.input_shape)))
        if dataset.n_classes > network.n_classes:
            raise SessionError(_("the dataset has {n_classes} classes but the network outputs "
                                 "{n_scores} scores; set the last dense layer's out_features to "
                                 "{n_classes}").format(n_classes=dataset.n_classes, n_scores=network.n_classes))
        self.network = network
        self.optimizer = optimizer
        self.dataset = dataset
        self.seed = check_seed(seed)
        self.batch_size = check_batch_size(batch_size)
        self.sampler = Sampler(len(dataset.y_train), self.batch_size, self.seed)
        self.history = History(history_budget)
        self.breakpoints = Breakpoints()
        self.events = Events(EVENTS)
        self.metrics = MetricsLog()         # bounded: the newest in full, older ones summarised
        self.log = EventLog()               # what changed when: hyper-parameters, rebuilds, trims (bounded)
        self.last_hit: BreakpointHit | None = None
        self.pinned: tuple[np.ndarray, np.ndarray] | None = None
        self._descriptions: tuple[Network, list[str], str] | None = None
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
        if cache is None or cache[0] is not self.network or cache[2] != current_language():
            cache = self._descriptions = (self.network, [self._describe(j) for j in range(self.n_phases)],
                                          current_language())
        return cache[1][index]

    def _describe(self, index: int) -> str:
        phase, i = self.phase_at(index)
        net = self.network
        if phase in ("forward", "backward"):
            layer = net.layers[i]
            src = format_shape(net.input_shape if i == 0 else net.layers[i - 1].output_shape)
            dst = format_shape(layer.output_shape)
            if phase == "forward":
                return _("forward through layer {i} {type_name} ({src} → {dst})").format(
                           i=i, type_name=layer.type_name, src=src, dst=dst)
            return _("backward through layer {i} {type_name} (∂C/∂y: {dst} → ∂C/∂x: {src})").format(
                       i=i, type_name=layer.type_name, dst=dst, src=src)
        if phase == "loss":
            return _("loss: softmax + cross-entropy of the logits")
        return _("update: SGD step on {n_params:,} parameters").format(n_params=net.n_params)

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
        # the core threads its large passes itself, BLAS on one thread meanwhile (layers/workspace.py); run and
        # replay hold one pin for all their phases
        with self._lock, one_blas_thread():
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
                dropped = (_(" (older history was dropped to stay within the {value:.0f} MB budget)").format(
                    value=self.history_budget / 2 ** 20) if self.history.trimmed else "")
                raise SessionError(_("already at the start of history: nothing to step back to") + dropped)
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
        with self._lock, one_blas_thread():     # once for the whole run (a step() inside it only counts)
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
                             _("NaN/Inf seen after the {phase_at} phase of iteration {iteration}").format(
                                 phase_at=phase_name(self.phase_at(end)[0]), iteration=iteration))

    def _params_finite(self) -> bool:
        return all(np.isfinite(p).all() for layer in self.network.layers for p in layer.params.values())

    def _advance(self) -> None:
        self._index += 1
        if self._index == self.n_phases:
            self.iteration += 1
            self._index = 0
            self._records = []
            self.history.push(self._new_checkpoint())
            self._trim()
            self.events.emit("iteration_completed", self.iteration)

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
        with one_blas_thread():                 # once for the replay, as in run
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
            msg = (_("history trimmed: dropped {dropped} iteration(s) to stay within {value:.0f} MB; "
                     "step back reaches iteration {oldest}").format(
                       dropped=dropped, value=self.history_budget / 2 ** 20, oldest=oldest))
            self.log.append(msg, kind="history_trimmed")      # one line per run of trims, not per iteration
            self.events.emit("history_trimmed", dropped, msg)

    def _check_breakpoints(self, rec: StepRecord) -> BreakpointHit | None:
        dead = None
        if rec.phase == "forward" and hasattr(self.network.layers[rec.layer], "dead_fraction"):
            if self.breakpoints.dead_fraction is not None:
                dead = self.network.layers[rec.layer].dead_fraction()
        return self.breakpoints.check(rec, dead)

__all__ = ["PHASES", "BreakpointHit", "LayerFailure", "Breakpoints", "IterationMetrics", "RunResult", "Session", "StepRecord"]
