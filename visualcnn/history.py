"""The step history: one checkpoint per iteration, kept within a memory budget.

At the start of every iteration the engine keeps a checkpoint (parameters, velocities,
sampler state) and, once fetched, the batch. Every phase is a deterministic function of
that checkpoint, so the Session (which owns the cursor over phases) restores any state
inside an iteration by resetting to the checkpoint and replaying the phases before it.
Past the budget the oldest checkpoints go; the newest is always kept.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True)
class Checkpoint:
    """The state at the start of an iteration, from which every phase of it can be replayed.

    One is kept per iteration of history (tens of thousands in a long run), so it stays out of the cyclic
    garbage collector's way: tuples of dicts of arrays and JSON text are not GC-tracked. As plain lists
    and dicts, a long run's history made every full collection stall the window for 50–100 ms.
    """

    iteration: int
    params: tuple[dict[str, np.ndarray], ...]
    velocity: tuple[dict[str, np.ndarray], ...]
    sampler_json: str
    batch: tuple[np.ndarray, np.ndarray] | None = None      # (x, labels), once fetched
    sampler_after_json: str | None = None

    @property
    def sampler_state(self) -> dict[str, Any]:
        return json.loads(self.sampler_json)

    @sampler_state.setter
    def sampler_state(self, state: dict[str, Any]) -> None:
        self.sampler_json = json.dumps(state)

    @property
    def sampler_after(self) -> dict[str, Any] | None:
        return None if self.sampler_after_json is None else json.loads(self.sampler_after_json)

    @sampler_after.setter
    def sampler_after(self, state: dict[str, Any] | None) -> None:
        self.sampler_after_json = None if state is None else json.dumps(state)

    @property
    def batch_nbytes(self) -> int:
        """What the fetched batch costs (arrays and their objects, and the sampler state after it)."""
        n = 0 if self.sampler_after_json is None else sys.getsizeof(self.sampler_after_json)
        if self.batch is not None:
            n += sys.getsizeof(self.batch) + sum(_array_cost(a) for a in self.batch)
        return n

    @property
    def nbytes(self) -> int:
        """What this checkpoint costs in memory — the arrays' data *and* the objects around them (array
        headers, dicts, tuples, JSON text, allocator overhead) — so the history budget holds for the process's
        memory, not only for the data (counting data alone, a small network's history took 1.4× its budget)."""
        n = sys.getsizeof(self) + sys.getsizeof(self.params) + sys.getsizeof(self.velocity)
        n += sys.getsizeof(self.sampler_json)
        for d in (*self.params, *self.velocity):
            n += sys.getsizeof(d) + sum(_array_cost(a) for a in d.values())
        return n + self.batch_nbytes


#: bytes an allocation costs beyond what it asks for (malloc's header and alignment), per array
_ALLOCATION_OVERHEAD = 32


def _array_cost(a: np.ndarray) -> int:
    """An array's data plus its object and the allocator's overhead (a view's data is its base's)."""
    own = a.base is None
    data = a.nbytes if own else (a.base.nbytes if isinstance(a.base, np.ndarray) and a.base.base is None else 0)
    return sys.getsizeof(a) - (a.nbytes if own else 0) + data + _ALLOCATION_OVERHEAD


@dataclass(slots=True)
class IterationMetrics:
    """Per-iteration figures for curves: loss, accuracy, per-layer gradient norms and update ratios."""

    iteration: int
    loss: float
    accuracy: float
    grad_norms: dict[int, float] = field(default_factory=dict)
    update_ratios: dict[int, float] = field(default_factory=dict)


class History:
    """The checkpoints of the iterations step_back can still reach, newest last, within `budget` bytes.

    h = History(budget); h.reset(cp); h.push(cp); h.current; h.pop(); dropped = h.trim()
    """

    def __init__(self, budget: int) -> None:
        self.budget = int(budget)
        self._checkpoints: deque[Checkpoint] = deque()
        self._nbytes = 0                # kept as a running sum: summing every iteration would be O(n²)
        self.trimmed = False            # whether trim() ever dropped a checkpoint since the last reset

    def reset(self, checkpoint: Checkpoint) -> None:
        """Forget everything; `checkpoint` becomes the only (current) one."""
        self._checkpoints.clear()
        self._nbytes = 0
        self.trimmed = False
        self.push(checkpoint)

    def push(self, checkpoint: Checkpoint) -> None:
        self._checkpoints.append(checkpoint)
        self._nbytes += checkpoint.nbytes

    def pop(self) -> Checkpoint:
        """Drop the current checkpoint (stepping back across an iteration boundary); the previous one becomes current."""
        cp = self._checkpoints.pop()
        self._nbytes -= cp.nbytes
        return cp

    @property
    def current(self) -> Checkpoint:
        return self._checkpoints[-1]

    @property
    def oldest(self) -> Checkpoint:
        return self._checkpoints[0]

    def __len__(self) -> int:
        return len(self._checkpoints)

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def set_batch(self, batch: tuple[np.ndarray, np.ndarray], sampler_after: dict[str, Any]) -> None:
        """Remember the current iteration's batch and the sampler state after fetching it."""
        cp = self.current
        self._nbytes -= cp.batch_nbytes
        cp.batch = batch
        cp.sampler_after = sampler_after
        self._nbytes += cp.batch_nbytes

    def clear_batch(self) -> None:
        """Forget the current iteration's batch, so that it is fetched anew."""
        cp = self.current
        self._nbytes -= cp.batch_nbytes
        cp.batch = None
        cp.sampler_after = None

    def trim(self) -> int:
        """Drop the oldest checkpoints until within budget (always keeping the current); returns how many."""
        dropped = 0
        while len(self._checkpoints) > 1 and self._nbytes > self.budget:
            self._nbytes -= self._checkpoints.popleft().nbytes
            dropped += 1
        if dropped:
            self.trimmed = True
        return dropped


__all__ = ["Checkpoint", "History", "IterationMetrics"]
