"""Synthetic teaching sets made from a seed: oriented bars and simple shapes.

They are sets where a teacher knows what the filters should learn: the bar
classes differ only in orientation (first-layer filters become oriented edge
and line detectors), the shapes in their outline (corners, curves, crossings).
Every image is drawn for all samples at once from broadcast pixel coordinates
with anti-aliased edges (coverage = clip(0.5 - signed distance, 0, 1)).
"""

from __future__ import annotations

import numpy as np

from visualcnn.i18n import N_

# class names are data (saved with a session, the same in every language); a view shows them with class_label
BARS_CLASSES = [N_("horizontal"), N_("vertical"), N_("diagonal /"), N_("diagonal \\")]
SHAPES_CLASSES = [N_("circle"), N_("square"), N_("triangle"), N_("cross")]

# Bar angle per class, in image coordinates (x right, y down), in degrees from the x axis:
# "/" runs up to the right, i.e. towards -y, so it is -45 degrees here.
_BAR_ANGLES = np.array([0.0, 90.0, -45.0, 45.0])
_ANGLE_JITTER = 7.0        # degrees: enough to vary, never enough to reach the next class (45 degrees away)


def _balanced_labels(n: int, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) int64 labels with class counts differing by at most one, in random order."""
    return rng.permutation(np.arange(n) % n_classes).astype(np.int64)


def _pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates, shaped (1, size, 1) for y and (1, 1, size) for x to broadcast over samples."""
    centres = np.arange(size) + 0.5
    return centres[None, :, None], centres[None, None, :]


def _finish(coverage: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Random contrast and Gaussian noise, clipped to [0, 1]. (n, S, S) -> (n, 1, S, S) float32."""
    n = len(coverage)
    contrast = rng.uniform(0.75, 1.0, size=(n, 1, 1))
    images = coverage * contrast + noise * rng.standard_normal(coverage.shape)
    return np.clip(images, 0.0, 1.0).astype(np.float32)[:, None]


def make_bars(size: int = 28, n: int = 2000, seed: int = 0, noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Oriented bars: horizontal, vertical, diagonal / and diagonal \\ (4 balanced classes).

    Each bar has a random length (45–85 % of the frame), thickness (8–16 %, at least
    1.5 px), angle jitter (±7°) and position (always wholly inside the frame).
    Returns images (n, 1, size, size) float32 in [0, 1] and labels (n,) int64.
    """
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(n, len(BARS_CLASSES), rng)
    theta = np.deg2rad(_BAR_ANGLES[labels] + rng.uniform(-_ANGLE_JITTER, _ANGLE_JITTER, n))
    length = rng.uniform(0.45, 0.85, n) * size
    thickness = np.maximum(rng.uniform(0.08, 0.16, n) * size, 1.5)
    cos, sin = np.cos(theta), np.sin(theta)
    # Half the bar's axis-aligned extent, so its centre can be drawn where the whole bar fits.
    reach_x = length / 2 * np.abs(cos) + thickness / 2 * np.abs(sin)
    reach_y = length / 2 * np.abs(sin) + thickness / 2 * np.abs(cos)
    cx = reach_x + rng.uniform(size=n) * np.maximum(size - 2 * reach_x, 0.0)
    cy = reach_y + rng.uniform(size=n) * np.maximum(size - 2 * reach_y, 0.0)
    y, x = _pixel_grid(size)
    dx, dy = x - cx[:, None, None], y - cy[:, None, None]             # (n, S, S)
    along = np.abs(dx * cos[:, None, None] + dy * sin[:, None, None])
    across = np.abs(-dx * sin[:, None, None] + dy * cos[:, None, None])
    coverage = (np.clip(thickness[:, None, None] / 2 - across + 0.5, 0.0, 1.0)
                * np.clip(length[:, None, None] / 2 - along + 0.5, 0.0, 1.0))
    return _finish(coverage, rng, noise), labels


def _box_distance(dx: np.ndarray, dy: np.ndarray, half_w: np.ndarray, half_h: np.ndarray) -> np.ndarray:
    """Signed distance to an axis-aligned rectangle centred at the origin (negative inside)."""
    qx, qy = np.abs(dx) - half_w, np.abs(dy) - half_h
    outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
    return outside + np.minimum(np.maximum(qx, qy), 0.0)


def _shape_distance(cls: int, dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Signed distance in pixels to shape `cls` of half-extent r, centred at dx = dy = 0.

    dx, dy: (k, S, S) offsets from each shape's centre; r: (k, 1, 1). Returns (k, S, S), negative inside.
    """
    if cls == 0:                                                    # circle of radius r
        return np.hypot(dx, dy) - r
    if cls == 1:                                                    # square, a little smaller for similar ink
        return _box_distance(dx, dy, 0.85 * r, 0.85 * r)
    if cls == 2:
        # Equilateral triangle, apex up, circumradius r; its centroid sits r/4 below the frame point
        # so its bounding box (height 1.5 r) is centred. Inside = behind all three edges: the max of
        # the three edge distances is exact near edges, which is all anti-aliasing needs.
        ty = dy - r / 4
        # Outward edge normals: down, up-right, up-left; the inradius is r / 2.
        return np.maximum(np.maximum(ty, 0.866 * dx - 0.5 * ty), -0.866 * dx - 0.5 * ty) - r / 2
    arm = 0.3 * r                                                   # cross: the union of two bars
    return np.minimum(_box_distance(dx, dy, r, arm), _box_distance(dx, dy, arm, r))


def make_shapes(size: int = 28, n: int = 2000, seed: int = 0, noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Filled shapes: circle, square, triangle and cross (4 balanced classes).

    Each shape has a random half-extent (22–40 % of the frame, at least 2.5 px) and a random
    position that keeps it wholly inside the frame.
    Returns images (n, 1, size, size) float32 in [0, 1] and labels (n,) int64.
    """
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(n, len(SHAPES_CLASSES), rng)
    r = np.maximum(rng.uniform(0.22, 0.40, n) * size, 2.5)
    margin = r + 0.5
    cx = margin + rng.uniform(size=n) * np.maximum(size - 2 * margin, 0.0)
    cy = margin + rng.uniform(size=n) * np.maximum(size - 2 * margin, 0.0)
    y, x = _pixel_grid(size)
    coverage = np.empty((n, size, size))
    for cls in range(len(SHAPES_CLASSES)):
        members = labels == cls
        ri = r[members][:, None, None]
        distance = _shape_distance(cls, x - cx[members][:, None, None], y - cy[members][:, None, None], ri)
        coverage[members] = np.clip(0.5 - distance, 0.0, 1.0)
    return _finish(coverage, rng, noise), labels
