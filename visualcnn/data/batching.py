"""Mini-batch order: a seeded Sampler whose state can be saved and restored bit-identically.

The step-through Session keeps an undo history; restoring a Sampler state must
make the following batches exactly the ones that followed it the first time.
The only randomness is one permutation per epoch, so the state stores the
generator's state from *before* that permutation was drawn: restoring redraws
the same permutation (and leaves the generator where it was), and the state
stays a few numbers instead of a list of N indices.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from visualcnn.errors import DataError
from visualcnn.i18n import _

_STATE_VERSION = 1
_STATE_KEYS = ("version", "n", "batch_size", "seed", "epoch", "position", "rng_state")


def _check_count(what: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError(_("Sampler: {what} must be a whole number >= {minimum}; got {value!r}").format(
                            what=what, minimum=minimum, value=value))
    return int(value)


class Sampler:
    """Seeded shuffled mini-batches over range(n): a new permutation every epoch.

    Epochs do not wrap: when batch_size does not divide n, an epoch's last batch is
    smaller, so every sample is seen exactly once per epoch. `epoch` and `position`
    say where the *next* batch comes from (after an epoch's last batch, epoch has
    already advanced and position is 0).
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0) -> None:
        self._n = _check_count("n", n)
        self._batch_size = _check_count("batch_size", batch_size)
        self._seed = _check_count("seed", seed, minimum=0)
        self._rng = np.random.default_rng(self._seed)
        self._epoch = 0
        self._position = 0
        self._start_epoch()

    def _start_epoch(self) -> None:
        # Remember the generator before drawing: that is all get_state needs to redraw this permutation.
        self._epoch_rng_state = copy.deepcopy(self._rng.bit_generator.state)
        self._permutation = self._rng.permutation(self._n)

    @property
    def n(self) -> int:
        """Number of samples drawn from (indices are 0..n-1)."""
        return self._n

    @property
    def seed(self) -> int:
        """The seed the sampler was created with."""
        return self._seed

    @property
    def batch_size(self) -> int:
        """Size of the next batch (an epoch's last batch may be smaller)."""
        return self._batch_size

    @property
    def epoch(self) -> int:
        """Index of the epoch the next batch comes from (0-based)."""
        return self._epoch

    @property
    def position(self) -> int:
        """How many samples of the current epoch have already been handed out."""
        return self._position

    @property
    def batches_per_epoch(self) -> int:
        """Batches in a whole epoch at the current batch size: ceil(n / batch_size)."""
        return math.ceil(self._n / self._batch_size)

    def set_batch_size(self, batch_size: int) -> None:
        """Change the batch size; mid-epoch, the next batch starts where the last one ended."""
        self._batch_size = _check_count("batch_size", batch_size)

    def next_indices(self) -> np.ndarray:
        """Indices of the next batch: (B,) int64 with B = batch_size, or fewer at an epoch's end."""
        stop = min(self._position + self._batch_size, self._n)
        indices = self._permutation[self._position:stop].astype(np.int64)   # a copy: callers may keep it
        self._position = stop
        if stop == self._n:
            self._epoch += 1
            self._position = 0
            self._start_epoch()
        return indices

    def reset(self) -> None:
        """Start again from epoch 0 with the original seed."""
        self.__init__(self._n, self._batch_size, self._seed)

    def get_state(self) -> dict[str, Any]:
        """A small JSON-able snapshot (plain ints, str and dicts) for set_state.

        rng_state is numpy's `bit_generator.state` as it was before this epoch's
        permutation was drawn (its integers can exceed 64 bits; Python's json keeps them exact).
        """
        return {"version": _STATE_VERSION, "n": self._n, "batch_size": self._batch_size, "seed": self._seed,
                "epoch": self._epoch, "position": self._position,
                "rng_state": copy.deepcopy(self._epoch_rng_state)}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a get_state snapshot: the batches that follow are bit-identical to those that followed it."""
        if not isinstance(state, dict) or set(_STATE_KEYS) - set(state):
            missing = sorted(set(_STATE_KEYS) - set(state)) if isinstance(state, dict) else list(_STATE_KEYS)
            raise DataError(_("Sampler.set_state: not a sampler state (missing {missing})").format(
                                missing=', '.join(missing)))
        if state["version"] != _STATE_VERSION:
            raise DataError(_("Sampler.set_state: state version {version!r}; this version reads "
                              "{STATE_VERSION}").format(version=state['version'], STATE_VERSION=_STATE_VERSION))
        if state["n"] != self._n:
            raise DataError(_("Sampler.set_state: the state is for {n} samples but this sampler has "
                              "{n2}; it belongs to another data set").format(n=state['n'], n2=self._n))
        position = _check_count("position", state["position"], minimum=0)
        if position >= self._n:
            raise DataError(_("Sampler.set_state: position {position} is outside 0..{value}").format(
                                position=position, value=self._n - 1))
        rng_state = state["rng_state"]
        try:
            bit_generator = getattr(np.random, rng_state["bit_generator"])()
            bit_generator.state = copy.deepcopy(rng_state)
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
            raise DataError(_("Sampler.set_state: unusable rng_state ({exc})").format(exc=exc)) from None
        self._batch_size = _check_count("batch_size", state["batch_size"])
        self._seed = _check_count("seed", state["seed"], minimum=0)
        self._epoch = _check_count("epoch", state["epoch"], minimum=0)
        self._position = position
        self._rng = np.random.Generator(bit_generator)
        self._start_epoch()


def iterate_batches(x: np.ndarray, y: np.ndarray, batch_size: int,
                    rng: np.random.Generator | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of mini-batches for headless training: shuffled by rng, in order when rng is None.

    x: (N, ...); y: (N,). Yields (x_batch (B, ...), y_batch (B,)); the last batch may be smaller.
    """
    N = len(x)
    if len(y) != N:
        raise DataError(_("iterate_batches: {N} inputs but {n_y} labels; they must match").format(N=N, n_y=len(y)))
    batch_size = _check_count("batch_size", batch_size)
    order = rng.permutation(N) if rng is not None else np.arange(N)
    for start in range(0, N, batch_size):
        index = order[start:start + batch_size]
        yield x[index], y[index]
