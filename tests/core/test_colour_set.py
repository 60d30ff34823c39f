"""The colour-shapes set and the TinyVGG preset that learns it."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import visualcnn as vc
from visualcnn.data import load_dataset
from visualcnn.data.colour import COLOUR_SHAPES_CLASSES, make_colour_shapes


def test_same_seed_same_images_and_balanced_classes():
    x, y = make_colour_shapes(size=20, n=300, seed=4)
    x2, y2 = make_colour_shapes(size=20, n=300, seed=4)
    assert x.shape == (300, 3, 20, 20) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make_colour_shapes(size=20, n=300, seed=5)[0], x)
    assert 0.0 <= x.min() and x.max() <= 1.0
    counts = np.bincount(y, minlength=len(COLOUR_SHAPES_CLASSES))
    assert counts.max() - counts.min() <= 1


def test_the_class_colour_dominates_the_brightest_pixels():
    """A "red ..." image's most saturated pixels are red, and so on: the colour is in the pixels, not the label only."""
    x, y = make_colour_shapes(size=24, n=120, seed=1, noise=0.0)
    colour = y // 4
    # per image, the channel whose excess over the other two peaks highest
    excess = np.stack([x[:, c] - np.maximum(x[:, (c + 1) % 3], x[:, (c + 2) % 3]) for c in range(3)], axis=1)
    dominant = excess.reshape(len(x), 3, -1).max(axis=2).argmax(axis=1)
    assert np.mean(dominant == colour) > 0.95


def test_registered_and_rebuilt_from_its_source():
    ds = load_dataset("colour-shapes", size=16, n=48, seed=2)
    assert ds.input_shape == (3, 16, 16) and ds.n_classes == 12
    again = load_dataset(ds.source)
    np.testing.assert_array_equal(again.x_train, ds.x_train)


@pytest.mark.parametrize("option, value", [("size", 4), ("noise", 0.9), ("n", 5)])
def test_bad_options_are_refused_by_name(option, value):
    with pytest.raises(vc.errors.DataError, match=f"colour-shapes: {option}"):
        load_dataset("colour-shapes", **{option: value})


def test_tinyvgg_preset_learns_the_colour_set():
    """A few hundred iterations of the preset as it ships beat chance (1/12) clearly."""
    s = vc.Session.from_preset("tinyvgg")
    assert s.network.input_shape == (3, 64, 64) and s.network.n_classes == 12
    with threadpool_limits(1):            # as the window's run does
        s.run(150, records=False)
        accuracy = s.evaluate("test", max_samples=240)[1]
    assert accuracy > 0.2, f"test accuracy {accuracy:.2f} after 150 iterations (chance 0.08)"
