"""Random images of any shape, with random labels: data for a stack whose input matches no data set.

A gradient check needs no real data, and stepping through a stack shows its mechanics on any input;
this set lets both work for a stack of any (C, H, W) input and any number of classes. It is named
"random" in the registry, so a session saved on it is rebuilt identically from its seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from visualcnn.errors import DataError

from .dataset import Dataset, check_int, check_test_fraction, split_dataset
from visualcnn.i18n import _

NAME = "random"
MAX_VALUES = 2**25         # n·C·H·W: 128 MB of float32 at most


def load_random(channels: int = 1, height: int = 8, width: int = 8, n_classes: int = 10, n: int = 200,
                seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """n images (channels, height, width) of uniform noise in [0, 1) float32, labels balanced over n_classes."""
    channels, height, width = (check_int(NAME, k, v, minimum=1) for k, v in
                               (("channels", channels), ("height", height), ("width", width)))
    n_classes = check_int(NAME, "n_classes", n_classes, minimum=2)
    n = check_int(NAME, "n", n, minimum=2 * n_classes)
    seed = check_int(NAME, "seed", seed)
    test_fraction = check_test_fraction(NAME, test_fraction)
    if n * channels * height * width > MAX_VALUES:
        raise DataError(_("{NAME}: {n} images of {channels}×{height}×{width} would be {value:,} "
                          "values; at most {MAX_VALUES:,} (fewer images, n, or a smaller shape)").format(
                            NAME=NAME, n=n, channels=channels, height=height, width=width,
                            value=n * channels * height * width, MAX_VALUES=MAX_VALUES))
    rng = np.random.default_rng(seed)
    images = rng.random((n, channels, height, width), dtype=np.float32)
    labels = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    source = {"name_or_path": NAME, "channels": channels, "height": height, "width": width,
              "n_classes": n_classes, "n": n, "seed": seed, "test_fraction": test_fraction}
    return split_dataset(_("{NAME} (no data set fits)").format(NAME=NAME), source, images, labels,
                         [f"class {k}" for k in range(n_classes)], test_fraction, seed + 1)


def fits(dataset: Any, input_shape: tuple[int, ...], n_classes: int) -> bool:
    """Whether a network taking `input_shape` with `n_classes` scores can step on `dataset`."""
    return tuple(dataset.input_shape) == tuple(input_shape) and dataset.n_classes <= n_classes


def random_for(input_shape: tuple[int, ...], n_classes: int, seed: int = 0) -> Dataset:
    """The random set with a stack's (C, H, W) input and class count (DataError for a vector input)."""
    if len(input_shape) != 3:
        raise DataError(_("random images need a (C, H, W) input; this stack takes {input_shape}").format(
                            input_shape=tuple(input_shape)))
    C, H, W = input_shape
    return load_random(C, H, W, n_classes=n_classes, n=max(200, 4 * n_classes), seed=seed)


def fit_or_random(spec: dict[str, Any], dataset: Any, say: Any = None) -> Any:
    """`dataset` if a network of `spec` can step on it, else the random set with the stack's input shape and
    classes (say(text) tells why). A stack that cannot be built, or takes a vector, keeps `dataset`: the
    session's own check then names the problem."""
    from visualcnn.errors import VisualCNNError
    from visualcnn.network import Network

    try:
        net = Network.from_spec(spec)
    except VisualCNNError:
        return dataset
    if fits(dataset, net.input_shape, net.n_classes) or len(net.input_shape) != 3:
        return dataset
    out = random_for(net.input_shape, net.n_classes)
    if say is not None:
        say(_("no data set fits this stack ({dims} input, {n_classes} classes; {describe} does not): "
              "using random images and labels of that shape").format(
                dims='×'.join(map(str, net.input_shape)), n_classes=net.n_classes, describe=dataset.describe()))
    return out


__all__ = ["NAME", "fit_or_random", "fits", "load_random", "random_for"]
