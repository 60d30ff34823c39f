"""visualcnn.data.batching: seeded epochs, and state that restores the exact same following batches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from visualcnn.data import Sampler, iterate_batches
from visualcnn.errors import DataError


def take(sampler: Sampler, k: int) -> list[np.ndarray]:
    return [sampler.next_indices() for _ in range(k)]


def test_each_epoch_is_a_permutation_with_a_smaller_last_batch():
    sampler = Sampler(10, 4, seed=0)
    assert sampler.batches_per_epoch == 3
    first = take(sampler, 3)
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(np.concatenate(first).tolist()) == list(range(10))
    assert (sampler.epoch, sampler.position) == (1, 0)
    second = take(sampler, 3)
    assert sorted(np.concatenate(second).tolist()) == list(range(10))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    assert all(b.dtype == np.int64 for b in first)


def test_same_seed_same_batches_other_seed_other_batches():
    a, b, c = Sampler(50, 8, seed=3), Sampler(50, 8, seed=3), Sampler(50, 8, seed=4)
    for x, y in zip(take(a, 20), take(b, 20), strict=True):
        np.testing.assert_array_equal(x, y)
    assert not all(np.array_equal(x, z) for x, z in zip(take(a, 5), take(c, 5), strict=True))


@pytest.mark.parametrize("steps_before", [0, 3, 7, 12])
def test_state_round_trip_reproduces_following_batches_bit_identically(steps_before):
    sampler = Sampler(23, 5, seed=11)
    take(sampler, steps_before)
    state = json.loads(json.dumps(sampler.get_state()))     # must survive a JSON save
    expected = take(sampler, 15)                              # crosses epoch boundaries
    take(sampler, 4)                                          # wander further, then undo
    sampler.set_state(state)
    for got, want in zip(take(sampler, 15), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    fresh = Sampler(23, 1, seed=999)                          # a new sampler takes the state too
    fresh.set_state(state)
    assert (fresh.epoch, fresh.position, fresh.batch_size) == (state["epoch"], state["position"], 5)
    for got, want in zip(take(fresh, 15), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_state_is_small():
    sampler = Sampler(60000, 64, seed=0)
    take(sampler, 3)
    assert len(json.dumps(sampler.get_state())) < 400


def test_batch_size_change_mid_epoch_continues_the_permutation():
    reference = np.concatenate(take(Sampler(20, 20, seed=5), 1))
    sampler = Sampler(20, 3, seed=5)
    first = take(sampler, 2)
    sampler.set_batch_size(7)
    assert sampler.batch_size == 7 and sampler.batches_per_epoch == 3
    rest = take(sampler, 2)
    assert [len(b) for b in rest] == [7, 7]
    np.testing.assert_array_equal(np.concatenate(first + rest), reference[:20])
    state = sampler.get_state()
    after = take(sampler, 3)
    sampler.set_state(state)
    for got, want in zip(take(sampler, 3), after, strict=True):
        np.testing.assert_array_equal(got, want)


def test_set_state_refuses_foreign_state():
    sampler = Sampler(10, 2)
    with pytest.raises(DataError, match=r"the state is for 12 samples but this sampler has 10"):
        sampler.set_state(Sampler(12, 2).get_state())
    with pytest.raises(DataError, match=r"not a sampler state \(missing"):
        sampler.set_state({"n": 10})
    bad = sampler.get_state() | {"rng_state": {"bit_generator": "NoSuchGenerator"}}
    with pytest.raises(DataError, match=r"unusable rng_state"):
        sampler.set_state(bad)


def test_reset_starts_over():
    sampler = Sampler(9, 2, seed=1)
    first = take(sampler, 6)
    sampler.reset()
    for got, want in zip(take(sampler, 6), first, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("args", "message"), [((0, 2), r"n must be"), ((5, 0), r"batch_size must be"),
                                               ((5, 2, -1), r"seed must be")])
def test_bad_arguments(args, message):
    with pytest.raises(DataError, match=message):
        Sampler(*args)


def test_iterate_batches_covers_an_epoch():
    x = np.arange(11)[:, None] * np.ones((1, 3))
    y = np.arange(11)
    batches = list(iterate_batches(x, y, 4, np.random.default_rng(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 3]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(11))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)
    in_order = np.concatenate([b[1] for b in iterate_batches(x, y, 5)])
    np.testing.assert_array_equal(in_order, y)
    with pytest.raises(DataError, match=r"11 inputs but 10 labels"):
        list(iterate_batches(x, y[:10], 4))
