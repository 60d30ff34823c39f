"""The Dataset every loader returns, and the seeded stratified train/test split they share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from visualcnn.errors import DataError

from .imaging import InputFraming, border_median, frame_ink, resize
from visualcnn.i18n import _

# Enough images to read a set's background level from without touching all of MNIST.
_BACKGROUND_SAMPLE = 256


def _readonly(array: np.ndarray) -> np.ndarray:
    """A read-only view: a session or a view must never edit the data in place.

    A view rather than a flag flip, so an array the caller passed in stays writable for the caller.
    """
    view = np.ascontiguousarray(array).view()
    view.setflags(write=False)
    return view


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled image set split into train and test, plus how to turn a drawing into a sample.

    x_train: (N_train, C, H, W) float32 in [0, 1]; y_train: (N_train,) int64 in [0, n_classes).
    x_test:  (N_test, C, H, W)  float32 in [0, 1]; y_test:  (N_test,)  int64.
    source: JSON-able dict; `load_dataset(**source)` (or `load_dataset(source)`) rebuilds
        this same data set, so a saved session can name its data instead of storing it.
    framing: how the set's samples were framed (see `InputFraming`), used by `to_input`.
    The arrays are made read-only.
    """

    name: str
    source: dict[str, Any]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    framing: InputFraming = field(default_factory=InputFraming)

    def __post_init__(self) -> None:
        arrays = {}
        for part in ("train", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if x.ndim != 4 or x.dtype != np.float32:
                raise DataError(_("{name}: x_{part} must be float32 (N, C, H, W); got {dtype} {shape}").format(
                                    name=self.name, part=part, dtype=x.dtype, shape=x.shape))
            if y.shape != (x.shape[0],) or y.dtype != np.int64:
                raise DataError(_("{name}: y_{part} must be int64 ({n},) to match x_{part}; got "
                                  "{dtype} {shape}").format(
                                    name=self.name, part=part, n=x.shape[0], dtype=y.dtype, shape=y.shape))
            if len(y) and (y.min() < 0 or y.max() >= len(self.class_names)):
                raise DataError(_("{name}: y_{part} has labels {min}..{max}, but there are "
                                  "{n_class_names} class names (valid labels 0..{value})").format(
                                    name=self.name, part=part, min=y.min(), max=y.max(),
                                    n_class_names=len(self.class_names), value=len(self.class_names) - 1))
            arrays[f"x_{part}"], arrays[f"y_{part}"] = _readonly(x), _readonly(y)
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(_("{name}: train images are {train_shape} but test images are {test_shape}; both "
                              "must have the same (C, H, W)").format(
                                name=self.name, train_shape=self.x_train.shape[1:], test_shape=self.x_test.shape[1:]))
        if len(self.x_train) == 0:
            raise DataError(_("{name}: the training set is empty; at least one training image is needed").format(
                                name=self.name))
        # Frozen dataclass: object.__setattr__ is how __post_init__ may normalise its own fields.
        for key, value in arrays.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "class_names", [str(c) for c in self.class_names])
        object.__setattr__(self, "source", dict(self.source))

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        C, H, W = self.x_train.shape[1:]
        return (C, H, W)

    @property
    def n_classes(self) -> int:
        """Number of classes (the length of class_names)."""
        return len(self.class_names)

    def describe(self) -> str:
        """One line for a status bar, e.g. 'digits 8×8: 1437 train / 360 test, 10 classes' (C×H×W when C > 1)."""
        C, H, W = self.input_shape
        shape = f"{C}×{H}×{W}" if C > 1 else f"{H}×{W}"
        return (_("{name} {shape}: {n_x_train} train / {n_x_test} test, {n_classes} classes").format(
                    name=self.name, shape=shape, n_x_train=len(self.x_train), n_x_test=len(self.x_test),
                    n_classes=self.n_classes))

    def __repr__(self) -> str:
        return f"<Dataset {self.describe()}>"

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> Dataset:
        """A smaller copy for quick runs: n_train training and n_test test images (None keeps all).

        The images are the first n: every loader stores its images in a mixed (seeded or,
        for MNIST, the files') order, and a prefix makes subsets compose, so that
        subset(200).subset(100) == subset(100) and `source` (which records the effective,
        clipped counts) rebuilds exactly this subset.
        """
        counts = {}
        picked = {}
        for part, n in (("train", n_train), ("test", n_test)):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if n is None:
                counts[part], picked[part] = None, (x, y)
                continue
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < (1 if part == "train" else 0):
                raise DataError(_("{name}: n_{part} must be a whole number >= {value}; got {n!r}").format(
                                    name=self.name, part=part, value=1 if part == 'train' else 0, n=n))
            n = min(int(n), len(x))
            counts[part], picked[part] = n, (x[:n], y[:n])
        source = dict(self.source)
        for part in ("train", "test"):
            if counts[part] is not None:
                source[f"n_{part}"] = counts[part]
        return replace(self, source=source, x_train=picked["train"][0], y_train=picked["train"][1],
                       x_test=picked["test"][0], y_test=picked["test"][1])

    @cached_property
    def background_is_bright(self) -> bool:
        """True when the set's images are dark ink on a light background (judged from their borders)."""
        sample = self.x_train[:_BACKGROUND_SAMPLE].mean(axis=1)     # (n, H, W) grey
        ring = np.concatenate([sample[:, 0], sample[:, -1], sample[:, :, 0], sample[:, :, -1]], axis=1)
        return bool(np.median(ring) > 0.5)

    def to_input(self, image: np.ndarray, *, invert: bool | None = None) -> np.ndarray:
        """Turn a grey drawing or picture of any size into one input for this set's network.

        image: (h, w) grey, floats in [0, 1] (or uint8 0..255), any size, e.g. from a
            drawing pad or an image file.
        invert: whether the image is dark ink on a light background; None guesses from
            its border (a bright border means dark ink).
        The ink is framed the way this set's samples were (`framing`: for digits, its
        bounding box scaled to the frame's full height and centred, then averaged down
        to 8×8 and upsampled like the set; for MNIST, a 20×20 box centred on the ink's
        centre of mass in 28×28) and the result matches the set's background polarity.
        Returns (C, H, W) float32 in [0, 1]; grey is repeated across C channels.
        """
        image = np.asarray(image)
        if image.ndim != 2 or min(image.shape) < 1:
            raise DataError(_("to_input: expected a 2-D grey image (h, w); got shape {shape}").format(
                                shape=image.shape))
        if image.dtype == np.uint8:
            image = image / 255.0
        elif not (np.issubdtype(image.dtype, np.floating) or np.issubdtype(image.dtype, np.integer)
                  or image.dtype == bool):
            raise DataError(_("to_input: expected a float or uint8 image; got dtype {dtype}").format(
                                dtype=image.dtype))
        image = image.astype(np.float64)
        if not np.isfinite(image).all():
            raise DataError(_("to_input: the image has {count_nonzero} NaN or infinite pixels; "
                              "expected finite values in [0, 1]").format(
                                count_nonzero=np.count_nonzero(~np.isfinite(image))))
        image = np.clip(image, 0.0, 1.0)
        if invert is None:
            invert = border_median(image) > 0.5
        if invert:
            image = 1.0 - image
        C, H, W = self.input_shape
        native = self.framing.native_size or (H, W)
        grey = frame_ink(image, native, self.framing)               # (H_native, W_native)
        if native != (H, W):
            # The set itself was upsampled bilinearly from its native size; do the same.
            grey = resize(grey, (H, W), method="bilinear")
        if self.background_is_bright:
            grey = 1.0 - grey
        grey = np.clip(grey, 0.0, 1.0).astype(np.float32)
        return np.repeat(grey[None], C, axis=0)                       # (C, H, W)


def check_int(name: str, option: str, value: Any, minimum: int | None = None,
              allowed: tuple[int, ...] | None = None) -> int:
    """Validate a whole-number option (seed, size, n): names the set, the option and what is valid."""
    if allowed is not None:
        valid = "one of " + ", ".join(map(str, allowed))
    elif minimum is not None:
        valid = _("a whole number >= {minimum}").format(minimum=minimum)
    else:
        valid = _("a whole number")
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    ok = ok and (allowed is None or int(value) in allowed) and (minimum is None or value >= minimum)
    if not ok:
        raise DataError(_("{name}: {option} must be {valid}; got {value!r}").format(
                            name=name, option=option, valid=valid, value=value))
    return int(value)


def check_test_fraction(name: str, test_fraction: float) -> float:
    """Validate a test fraction option: a number strictly between 0 and 1."""
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) \
            or not 0.0 < float(test_fraction) < 1.0:
        raise DataError(_("{name}: test_fraction must be a number between 0 and 1 (exclusive); got "
                          "{test_fraction!r}").format(name=name, test_fraction=test_fraction))
    return float(test_fraction)


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of indices into train and test with every class in the same proportion.

    labels: (N,) int. The test set gets ceil(N * test_fraction) images (scikit-learn's
    rule: 1797 digits at 0.2 -> 360), shared among classes in proportion to their size
    (largest remainders take the leftovers); a class of two or more always keeps at
    least one image on each side. Both index arrays are shuffled so batches taken in
    order still mix classes.
    Returns (train_index (N - N_test,), test_index (N_test,)) int64.
    """
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    share = counts * math.ceil(len(labels) * test_fraction) / len(labels)     # ideal test images per class
    quota = np.floor(share).astype(np.int64)
    leftover = int(round(share.sum())) - int(quota.sum())
    quota[np.argsort(quota - share, kind="stable")[:leftover]] += 1          # largest remainders first
    quota = np.clip(quota, np.minimum(counts - 1, 1), np.maximum(counts - 1, 0))
    train_parts, test_parts = [], []
    for cls, n_test in zip(classes, quota, strict=True):
        members = rng.permutation(np.flatnonzero(labels == cls))
        test_parts.append(members[:n_test])
        train_parts.append(members[n_test:])
    train_index = rng.permutation(np.concatenate(train_parts))
    test_index = rng.permutation(np.concatenate(test_parts))
    return train_index.astype(np.int64), test_index.astype(np.int64)


def split_dataset(name: str, source: dict[str, Any], images: np.ndarray, labels: np.ndarray,
                  class_names: list[str], test_fraction: float, seed: int,
                  framing: InputFraming | None = None) -> Dataset:
    """Build a Dataset from one pool of images by a seeded stratified split.

    images: (N, C, H, W) float32 in [0, 1]; labels: (N,) int64.
    """
    test_fraction = check_test_fraction(name, test_fraction)
    train_index, test_index = stratified_split(labels, test_fraction, seed)
    return Dataset(name=name, source=source, x_train=images[train_index], y_train=labels[train_index],
                   x_test=images[test_index], y_test=labels[test_index], class_names=class_names,
                   framing=framing or InputFraming())
