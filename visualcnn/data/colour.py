"""A synthetic colour set from a seed: red, green and blue circles, squares, triangles and crosses on
coloured backgrounds (12 classes, RGB), for networks like TinyVGG that take 64×64 colour images.

A class is a colour and a shape, so a network must learn both: first-layer filters that
respond to a hue, later ones to the outline. Each image is a shape of random size, position and
shade of its class's hue (±20°) over a dim, low-saturation background with a random colour
gradient, plus Gaussian noise. Drawn in chunks of samples (memory stays bounded), with the same
anti-aliased shapes as the grey `shapes` set.
"""

from __future__ import annotations

import numpy as np

from visualcnn.i18n import N_

from .synthetic import SHAPES_CLASSES, _balanced_labels, _pixel_grid, _shape_distance

COLOURS = [N_("red"), N_("green"), N_("blue")]
_HUES = np.array([0.0, 120.0, 240.0])      # degrees
_HUE_JITTER = 20.0                         # degrees: far from the next class's hue (120° away)
COLOUR_SHAPES_CLASSES = [f"{c} {s}" for c in COLOURS for s in SHAPES_CLASSES]
_CHUNK = 256


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(n,) hue in degrees, saturation and value in [0, 1] -> (n, 3) RGB in [0, 1]."""
    k = (np.array([5.0, 3.0, 1.0]) + h[:, None] / 60.0) % 6.0
    return v[:, None] - v[:, None] * s[:, None] * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _draw(labels: np.ndarray, size: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Images (n, 3, size, size) float32 for `labels`, drawn from `rng`."""
    n = len(labels)
    colour, shape = labels // len(SHAPES_CLASSES), labels % len(SHAPES_CLASSES)
    fg = _hsv_to_rgb(_HUES[colour] + rng.uniform(-_HUE_JITTER, _HUE_JITTER, n),
                     rng.uniform(0.65, 1.0, n), rng.uniform(0.7, 1.0, n))
    bg0 = _hsv_to_rgb(rng.uniform(0.0, 360.0, n), rng.uniform(0.0, 0.35, n), rng.uniform(0.1, 0.45, n))
    bg1 = _hsv_to_rgb(rng.uniform(0.0, 360.0, n), rng.uniform(0.0, 0.35, n), rng.uniform(0.1, 0.45, n))
    r = np.maximum(rng.uniform(0.22, 0.40, n) * size, 2.5)
    margin = r + 0.5
    cx = margin + rng.uniform(size=n) * np.maximum(size - 2 * margin, 0.0)
    cy = margin + rng.uniform(size=n) * np.maximum(size - 2 * margin, 0.0)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    y, x = _pixel_grid(size)
    coverage = np.empty((n, size, size))
    for cls in range(len(SHAPES_CLASSES)):
        members = shape == cls
        distance = _shape_distance(cls, x - cx[members][:, None, None], y - cy[members][:, None, None],
                                   r[members][:, None, None])
        coverage[members] = np.clip(0.5 - distance, 0.0, 1.0)
    # background: a linear gradient from bg0 to bg1 along a random direction
    t = ((x - size / 2) * np.cos(angle)[:, None, None] + (y - size / 2) * np.sin(angle)[:, None, None]) / size + 0.5
    t = np.clip(t, 0.0, 1.0)[:, None]                                              # (n, 1, S, S)
    background = bg0[:, :, None, None] * (1.0 - t) + bg1[:, :, None, None] * t      # (n, 3, S, S)
    cov = coverage[:, None]
    images = background * (1.0 - cov) + fg[:, :, None, None] * cov
    images += noise * rng.standard_normal(images.shape)
    return np.clip(images, 0.0, 1.0).astype(np.float32)


def make_colour_shapes(size: int = 64, n: int = 2400, seed: int = 0,
                       noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Red, green and blue circles, squares, triangles and crosses (12 balanced classes, "red circle" ...).

    Returns images (n, 3, size, size) float32 in [0, 1] and labels (n,) int64 (colour · 4 + shape, in
    the order of COLOUR_SHAPES_CLASSES). The same seed gives bit-identical images.
    """
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(n, len(COLOUR_SHAPES_CLASSES), rng)
    images = np.empty((n, 3, size, size), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        images[start:start + _CHUNK] = _draw(labels[start:start + _CHUNK], size, rng, noise)
    return images, labels
