"""What the window accumulates during a run, bounded (a long run once grew it by about 0.3 KB an iteration).

- `CurvePoints`: one training curve's points for the metrics view — the newest RECENT_POINTS in full,
  older ones as at most SUMMARY_POINTS block means (the scheme of the core's MetricsLog, per curve).
- `HeldOutPoints`: the run worker's held-out test points — at most MAX_TEST_POINTS, evenly thinned.

Both keep the whole run in view (first to newest) at a resolution that falls as the run grows.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

#: points a curve keeps: the newest RECENT_POINTS in full, the older ones as at most SUMMARY_POINTS block means
RECENT_POINTS = 2048
SUMMARY_POINTS = 1024


class CurvePoints:
    """One curve's points, bounded: the newest `recent` in full, older ones as at most `summary` block means.

    The same scheme as the core's MetricsLog, per curve: a point leaving the recent window joins a block
    (its x the block's first iteration, its y the mean of the block's finite values, NaN — a gap — if none);
    when the summary fills, neighbouring blocks merge and new blocks are twice as long, so resolution stays
    even along the whole run. `arrays()` hands out views of one preallocated buffer of summary + the block
    in the making + recent (at most summary + 1 + recent points): appending copies only that much, however
    long the run (a long run once grew these buffers by one point per iteration and curve, without end).
    envelope=True (a raw, noisy curve): a block is drawn as its lowest and highest value instead of its mean
    (two points at its x, at most 2 × (summary + 1) + recent), so an old part of the run looks as noisy as it
    was — next to the recent points in full, block means made the newest stretch look like a sudden burst.
    """

    def __init__(self, recent: int = RECENT_POINTS, summary: int = SUMMARY_POINTS, envelope: bool = False) -> None:
        if recent < 1 or summary < 2:
            raise ValueError(f"CurvePoints: recent must be >= 1 and summary >= 2, got {recent} and {summary}")
        self.max_recent, self.max_summary = int(recent), int(summary)
        self._rx, self._ry, self._r = np.empty(recent), np.empty(recent), 0
        # summary blocks: first x, sum of the finite y, how many finite y, how many points
        self.envelope = bool(envelope)
        # (and the lowest and highest finite y, NaN if none)
        self._sx = self._sy = self._sf = self._sn = self._slo = self._shi = np.empty(0)
        self._block = 1
        self._pending = [0.0, 0.0, 0, 0, math.nan, math.nan]   # the block in the making: first x, sum, finite, points, lo, hi
        size = (2 if envelope else 1) * (summary + 1) + recent
        self._out_x, self._out_y, self._n = np.empty(size), np.empty(size), 0

    def extend(self, xs, ys) -> None:
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        k, r, cap = len(xs), self._r, self.max_recent
        leave = max(0, r + k - cap)                  # oldest points (recent first, then new) leaving the window
        if leave:
            old = min(leave, r)
            self._summarise(np.concatenate((self._rx[:old], xs[:leave - old])),
                            np.concatenate((self._ry[:old], ys[:leave - old])))
            keep = r - old
            self._rx[:keep] = self._rx[old:r]
            self._ry[:keep] = self._ry[old:r]
            xs, ys, r = xs[leave - old:], ys[leave - old:], keep
        self._rx[r:r + len(xs)] = xs
        self._ry[r:r + len(ys)] = ys
        self._r = r + len(xs)
        self._compose()

    def _summarise(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Fold points that left the recent window into the pending block and whole blocks."""
        p = self._pending
        i = 0
        while i < len(xs):
            if p[3] == 0 and len(xs) - i >= self._block:
                # whole blocks at once (a vectorised reshape), then whatever is left starts a pending block
                m = (len(xs) - i) // self._block
                bx = xs[i:i + m * self._block].reshape(m, self._block)
                by = ys[i:i + m * self._block].reshape(m, self._block)
                fin = np.isfinite(by)
                with np.errstate(invalid="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)          # an all-NaN block: its lo/hi are NaN
                    lo, hi = np.nanmin(np.where(fin, by, np.nan), axis=1), np.nanmax(np.where(fin, by, np.nan), axis=1)
                self._add_blocks(bx[:, 0], np.where(fin, by, 0.0).sum(axis=1), fin.sum(axis=1).astype(float),
                                 np.full(m, float(self._block)), lo, hi)
                i += m * self._block
                continue
            take = min(self._block - p[3], len(xs) - i)
            chunk = ys[i:i + take]
            fin = np.isfinite(chunk)
            if p[3] == 0:
                p[0] = float(xs[i])
            p[1] += float(chunk[fin].sum())
            p[2] += int(fin.sum())
            p[3] += take
            if fin.any():
                p[4], p[5] = float(np.fmin(p[4], chunk[fin].min())), float(np.fmax(p[5], chunk[fin].max()))
            i += take
            if p[3] >= self._block:
                self._add_blocks(*(np.array([float(v)]) for v in p))
                self._pending = p = [0.0, 0.0, 0, 0, math.nan, math.nan]

    def _add_blocks(self, x: np.ndarray, total: np.ndarray, finite: np.ndarray, count: np.ndarray,
                    lo: np.ndarray, hi: np.ndarray) -> None:
        sx, sy = np.concatenate((self._sx, x)), np.concatenate((self._sy, total))
        sf, sn = np.concatenate((self._sf, finite)), np.concatenate((self._sn, count))
        slo, shi = np.concatenate((self._slo, lo)), np.concatenate((self._shi, hi))
        while len(sx) > self.max_summary:
            # halve the resolution: merge neighbours (a lone last block stays), new blocks twice as long
            even = len(sx) // 2 * 2
            sx = np.concatenate((sx[:even:2], sx[even:]))
            sy, sf, sn = (np.concatenate((a[:even:2] + a[1:even:2], a[even:])) for a in (sy, sf, sn))
            slo = np.concatenate((np.fmin(slo[:even:2], slo[1:even:2]), slo[even:]))
            shi = np.concatenate((np.fmax(shi[:even:2], shi[1:even:2]), shi[even:]))
            self._block *= 2
        self._sx, self._sy, self._sf, self._sn, self._slo, self._shi = sx, sy, sf, sn, slo, shi

    def _compose(self) -> None:
        """Write summary means (or lows and highs), the pending block's and the recent points into the drawing buffer."""
        s = len(self._sx)
        ox, oy = self._out_x, self._out_y
        p = self._pending
        if self.envelope:
            ox[:2 * s:2] = ox[1:2 * s:2] = self._sx
            oy[:2 * s:2], oy[1:2 * s:2] = self._slo, self._shi
            s *= 2
            if p[3]:
                ox[s] = ox[s + 1] = p[0]
                oy[s], oy[s + 1] = p[4], p[5]
                s += 2
        else:
            ox[:s] = self._sx
            with np.errstate(invalid="ignore", divide="ignore"):
                np.divide(self._sy, self._sf, out=oy[:s])       # 0 / 0: a block with no finite value is a gap
            if p[3]:
                ox[s], oy[s] = p[0], (p[1] / p[2] if p[2] else math.nan)
                s += 1
        ox[s:s + self._r] = self._rx[:self._r]
        oy[s:s + self._r] = self._ry[:self._r]
        self._n = s + self._r

    @property
    def x(self) -> np.ndarray:
        return self._out_x[:self._n]

    @property
    def y(self) -> np.ndarray:
        return self._out_y[:self._n]

    def __len__(self) -> int:
        return self._n

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x, self.y


#: held-out evaluations a worker keeps (a long run thins older ones, evenly along the run)
MAX_TEST_POINTS = 1024


class HeldOutPoints(list):
    """A run's (iteration, loss, accuracy) test points, at most `max_points`: a list that stays bounded.

    When full, every other point is dropped and from then on only every other evaluation is kept for
    good (like the metrics' summary: spacing stays even along the whole run); the newest evaluation is
    always the last point, replaced by the next one when it is not one to keep. `version` counts the
    changes (the length alone does not move when the last point is replaced): what a view compares.
    Appended on the worker thread; each change is one list operation, so a reader never sees half of one.
    """

    def __init__(self, points: Any = (), max_points: int = MAX_TEST_POINTS) -> None:
        super().__init__()
        if max_points < 2:
            raise ValueError(f"HeldOutPoints: max_points must be >= 2, got {max_points}")
        self.max_points, self.stride, self.version = int(max_points), 1, 0
        self._evaluations = 0                   # appended since the last clear
        self._provisional = False               # the last point is kept only until the next one comes
        for p in points:
            self.append(p)

    def append(self, point: tuple[int, float, float]) -> None:
        if self._provisional:
            self[-1] = point
        else:
            super().append(point)
        self._provisional = self._evaluations % self.stride != 0
        self._evaluations += 1
        if len(self) > self.max_points:
            newest = self[-1]
            kept = self[:-1:2] if self._provisional else self[::2]
            if kept[-1] is not newest:
                kept.append(newest)
            self._provisional = kept[-1] is newest and (self._evaluations - 1) % (2 * self.stride) != 0
            self[:] = kept
            self.stride *= 2
        self.version += 1

    def clear(self) -> None:
        super().clear()
        self.stride, self._evaluations, self._provisional = 1, 0, False
        self.version += 1


__all__ = ["CurvePoints", "HeldOutPoints", "MAX_TEST_POINTS", "RECENT_POINTS", "SUMMARY_POINTS"]
