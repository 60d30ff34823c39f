"""What a long run accumulates, bounded: per-iteration metrics and the session's log of changes.

A run appends one IterationMetrics per iteration (loss, accuracy, a gradient norm and an update
ratio per layer: about 0.9 KB), and a log line for every change — once, one per iteration for
"history trimmed". Kept as plain lists, a 10-minute run grew by hundreds of megabytes.

`MetricsLog` keeps the newest `keep` iterations at full resolution and summarises older ones
into at most `max_summary` points (the mean loss and accuracy of a block of iterations; blocks
double in length when the summary fills, so resolution is even along the whole run). It is a
sequence indexed by iteration *count*, like the list it replaces: `len(log)` is how many
iterations were appended, `log[k]` the k-th — from the recent window, or the summary point that
covers it — so a reader that remembers how far it read (the metrics view) keeps working while the
log is appended to from another thread; nothing ever shifts under an index.
`log.summary` and `log.recent` give the two parts (a view draws both: a few thousand points).

`EventLog` keeps the last `max_lines` lines and folds a repeated kind of line ("history trimmed:
…") into the line before it, with a count.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from . import limits
from .history import IterationMetrics
from visualcnn.i18n import _

#: summary points kept for the iterations older than the recent window
MAX_SUMMARY = 1024
#: lines the session's log keeps
MAX_LOG_LINES = 500


class MetricsLog:
    """Per-iteration metrics, the newest `keep` in full, the older ones summarised (see module doc)."""

    def __init__(self, items: Any = (), keep: int = limits.MAX_METRICS_KEPT, max_summary: int = MAX_SUMMARY) -> None:
        if keep < 1 or max_summary < 2:
            raise ValueError(_("MetricsLog: keep must be >= 1 and max_summary >= 2, got {keep} and "
                               "{max_summary}").format(keep=keep, max_summary=max_summary))
        self.keep, self.max_summary = int(keep), int(max_summary)
        self._recent: deque[IterationMetrics] = deque()
        self._first = 0                         # count index of _recent[0]
        self._summary: list[IterationMetrics] = []
        self._ends: list[int] = []              # count index just past each summary point's block
        self._block = 1                         # iterations per summary point for new points
        self._pending: _Block | None = None     # left the window, not yet a whole block: a running sum
        self._lock = threading.Lock()           # a reader on another thread never sees half an append
        for m in items:
            self.append(m)

    # -- the sequence a reader sees ------------------------------------------------------
    def __len__(self) -> int:
        with self._lock:
            return self._first + len(self._recent)

    def __getitem__(self, k: int | slice) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        with self._lock:
            return self._get(k)

    def _get(self, k: int) -> IterationMetrics:
        n = self._first + len(self._recent)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(_("metrics index {k} out of range (0 … {value})").format(k=k, value=n - 1))
        if k >= self._first:
            return self._recent[k - self._first]
        if self._ends and k < self._ends[-1]:
            return self._summary[bisect.bisect_right(self._ends, k)]
        return self._pending.mean()

    def __iter__(self) -> Iterator[IterationMetrics]:  # noqa: D105
        """Every iteration at the resolution kept: the summary points, then the recent ones (what a save writes)."""
        with self._lock:
            items = [*self._summary_points(), *self._recent]
        return iter(items)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __repr__(self) -> str:
        return (f"<MetricsLog {len(self)} iterations: {len(self._summary)} summary points of "
                f"{self._block}, {len(self._recent)} recent>")

    @property
    def summary(self) -> list[IterationMetrics]:
        """The summary points (oldest first), each the mean of a block of iterations, dated by its first."""
        with self._lock:
            return self._summary_points()

    @property
    def recent(self) -> list[IterationMetrics]:
        """The newest iterations, in full."""
        with self._lock:
            return list(self._recent)

    @property
    def first_recent(self) -> int:
        """The count index of the oldest iteration still kept in full."""
        return self._first

    # -- changing it ----------------------------------------------------------------------
    def append(self, m: IterationMetrics) -> None:
        with self._lock:
            self._recent.append(m)
            if len(self._recent) > self.keep:
                old = self._recent.popleft()
                if self._pending is None:
                    self._pending = _Block(old)
                else:
                    self._pending.add(old)
                self._first += 1
                if self._pending.count >= self._block:
                    self._close_block()

    def _close_block(self) -> None:
        block, self._pending = self._pending, None
        end = (self._ends[-1] if self._ends else 0) + block.count
        self._summary.append(block.mean())
        self._ends.append(end)
        if len(self._summary) > self.max_summary:
            # halve the summary's resolution: merge neighbours, and make new blocks twice as long
            merged, ends = [], []
            for j in range(0, len(self._summary) - 1, 2):
                wa, wb = self._weight(j), self._weight(j + 1)
                merged.append(_mean([self._summary[j], self._summary[j + 1]], [wa, wb]))
                ends.append(self._ends[j + 1])
            if len(self._summary) % 2:
                merged.append(self._summary[-1])
                ends.append(self._ends[-1])
            self._summary, self._ends = merged, ends
            self._block *= 2

    def _summary_points(self) -> list[IterationMetrics]:
        return self._summary + ([] if self._pending is None else [self._pending.mean()])

    def _weight(self, j: int) -> int:
        return self._ends[j] - (self._ends[j - 1] if j else 0)

    def truncate(self, iteration: int) -> None:
        """Forget the iterations numbered `iteration` and later (stepping back across an iteration)."""
        with self._lock:
            while self._recent and self._recent[-1].iteration >= iteration:
                self._recent.pop()
            if self._recent or not (self._summary or self._pending is not None):
                return
        kept = [m for m in self if m.iteration < iteration]      # stepped back past the recent window
        with self._lock:
            self._recent.clear()
            self._first, self._summary, self._ends, self._block, self._pending = 0, [], [], 1, None
        for m in kept:
            self.append(m)

    def nbytes(self) -> int:
        """Rough memory held: what a test of boundedness measures."""
        import sys
        total = 0
        for m in self:
            total += sys.getsizeof(m) + sys.getsizeof(m.grad_norms) + sys.getsizeof(m.update_ratios)
            total += 56 * (len(m.grad_norms) + len(m.update_ratios))      # the float values and int keys
        return total


class _Block:
    """A running sum of consecutive iterations' figures: a summary point in the making (constant size)."""

    __slots__ = ("iteration", "count", "loss", "accuracy", "grad_norms", "update_ratios")

    def __init__(self, m: IterationMetrics) -> None:
        self.iteration, self.count = m.iteration, 1
        self.loss, self.accuracy = m.loss, m.accuracy
        self.grad_norms, self.update_ratios = dict(m.grad_norms), dict(m.update_ratios)

    def add(self, m: IterationMetrics) -> None:
        self.count += 1
        self.loss += m.loss
        self.accuracy += m.accuracy
        for mine, theirs in ((self.grad_norms, m.grad_norms), (self.update_ratios, m.update_ratios)):
            for k in list(mine):
                if k in theirs:
                    mine[k] += theirs[k]
                else:
                    del mine[k]             # a layer missing from one iteration has no mean over the block

    def mean(self) -> IterationMetrics:
        n = self.count
        return IterationMetrics(self.iteration, self.loss / n, self.accuracy / n,
                                {k: v / n for k, v in self.grad_norms.items()},
                                {k: v / n for k, v in self.update_ratios.items()})


def _mean(items: list[IterationMetrics], weights: list[int] | None = None) -> IterationMetrics:
    """One point for a block: the weighted mean of every figure, dated by the block's first iteration."""
    weights = weights or [1] * len(items)
    total = sum(weights)
    if len(items) == 1:
        return replace(items[0], grad_norms=dict(items[0].grad_norms), update_ratios=dict(items[0].update_ratios))

    def mean(values: list[float]) -> float:
        return sum(w * v for w, v in zip(weights, values)) / total

    def mean_dict(dicts: list[dict[int, float]]) -> dict[int, float]:
        keys = set().union(*dicts)
        return {k: mean([d.get(k, 0.0) for d in dicts]) for k in keys if all(k in d for d in dicts)}

    return IterationMetrics(items[0].iteration, mean([m.loss for m in items]), mean([m.accuracy for m in items]),
                            mean_dict([m.grad_norms for m in items]), mean_dict([m.update_ratios for m in items]))


class EventLog:
    """The session's log of what changed when: the last `max_lines` lines, repeats folded together.

    `append(line, kind=None)`: a line of the same `kind` as the previous line replaces it, with
    "(×N)" counting how many were folded (one "history trimmed" line per iteration became one line).
    """

    def __init__(self, max_lines: int = MAX_LOG_LINES) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._last_kind: str | None = None
        self._repeats = 0

    def append(self, line: str, kind: str | None = None) -> None:
        if kind is not None and kind == self._last_kind and self._lines:
            self._repeats += 1
            self._lines[-1] = f"{line} (×{self._repeats})"
            return
        self._lines.append(line)
        self._last_kind, self._repeats = kind, 1

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, k: int) -> str:
        return self._lines[k]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._lines))

    def __repr__(self) -> str:
        return f"<EventLog {len(self)} lines>"


__all__ = ["EventLog", "MAX_LOG_LINES", "MAX_SUMMARY", "MetricsLog"]
