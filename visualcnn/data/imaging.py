"""Pure-NumPy resampling: resize images and frame a drawing the way a data set framed its samples.

Both are separable linear maps, so each is a pair of small weight matrices
applied as `rows @ image @ cols.T`: no Python loop over pixels, and any
leading batch axes broadcast through the matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from visualcnn.i18n import _

# A pixel brighter than this counts as ink when looking for a drawing's bounding box:
# low enough to catch anti-aliased stroke edges, high enough to ignore faint noise.
INK_THRESHOLD = 0.1

FIT_MODES = ("none", "box", "mass")


@dataclass(frozen=True)
class InputFraming:
    """How a data set framed its samples, so `Dataset.to_input` can frame a drawing the same way.

    fit: "none" resizes the whole image to the frame (synthetic sets, user files);
        "box" scales the ink's bounding box to fit `box` of the frame (keeping its
        aspect ratio) and centres the box; "mass" scales the same way but centres
        the ink's centre of mass (MNIST's recipe: 20×20 box, mass-centred in 28×28).
    box: fraction of the frame the ink's bounding box is scaled to fit within.
    binarize: threshold the drawing at 0.5 first (the UCI digits counted "on" pixels
        of a binary 32×32 bitmap in 4×4 blocks, so their grey levels are ink coverage).
    native_size: (H, W) the set was made at before being upsampled (digits: (8, 8));
        None when the set is used at the size it was made.
    stroke: the set's typical stroke width as a fraction of the ink box's height, or None.
        A drawing whose strokes are thinner (a thin pen on a big pad) is thickened to it,
        so a drawn "7" has as much ink as the set's sevens; thicker strokes are kept.
    """

    fit: str = "none"
    box: float = 1.0
    binarize: bool = False
    native_size: tuple[int, int] | None = None
    stroke: float | None = None

    def __post_init__(self) -> None:
        if self.fit not in FIT_MODES:
            raise ValueError(_("InputFraming.fit: got {fit!r}, expected one of {FIT_MODES}").format(
                                 fit=self.fit, FIT_MODES=', '.join(FIT_MODES)))
        if not 0.0 < self.box <= 1.0:
            raise ValueError(_("InputFraming.box: got {box}, expected a fraction in (0, 1]").format(box=self.box))
        if self.stroke is not None and not 0.0 < self.stroke < 0.5:
            raise ValueError(_("InputFraming.stroke: got {stroke}, expected a fraction in (0, 0.5) or "
                               "None").format(stroke=self.stroke))


def area_weights(n_in: int, n_out: int, start: float = 0.0, step: float | None = None) -> np.ndarray:
    """Weights that average input pixels over each output pixel's footprint (box filter).

    Output pixel i covers the input interval [start + i*step, start + (i+1)*step)
    (input pixel j covers [j, j+1)); its weight on j is the overlap divided by
    `step`, so an output pixel lying wholly inside the input is a true area
    average and any part outside the input counts as background 0.
    Default step = n_in / n_out (the whole input maps onto the whole output).
    Returns (n_out, n_in) float64.
    """
    if step is None:
        step = n_in / n_out
    lo = start + step * np.arange(n_out)                          # (n_out,)
    j = np.arange(n_in)                                           # (n_in,)
    overlap = np.minimum(lo[:, None] + step, j + 1.0) - np.maximum(lo[:, None], j)
    return np.clip(overlap, 0.0, None) / step                     # (n_out, n_in)


def bilinear_weights(n_in: int, n_out: int) -> np.ndarray:
    """Linear-interpolation weights with half-pixel centres and clamped edges (PyTorch align_corners=False).

    Returns (n_out, n_in) float64; each row sums to 1, so values stay in the input's range.
    """
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    j0 = np.floor(src).astype(np.int64)
    j1 = np.minimum(j0 + 1, n_in - 1)
    frac = src - j0
    j = np.arange(n_in)
    return (1.0 - frac)[:, None] * (j == j0[:, None]) + frac[:, None] * (j == j1[:, None])


def _axis_weights(n_in: int, n_out: int, method: str) -> np.ndarray:
    if method == "area" or (method == "auto" and n_out <= n_in):
        # Shrinking: averaging every covered pixel avoids the aliasing that sampling would give.
        return area_weights(n_in, n_out)
    return bilinear_weights(n_in, n_out)


def resize(images: np.ndarray, size: tuple[int, int], method: str = "auto") -> np.ndarray:
    """Resize the last two axes of `images` to `size`.

    images: (..., H, W) float; size: (H_out, W_out).
    method: "area" (box-filter average), "bilinear", or "auto" = area along an axis
    that shrinks and bilinear along one that grows.
    Returns (..., H_out, W_out) float64 (values stay within the input's range).
    """
    H, W = images.shape[-2:]
    H_out, W_out = size
    if method not in ("auto", "area", "bilinear"):
        raise ValueError(_("resize: method {method!r} is not one of auto, area, bilinear").format(method=method))
    rows = _axis_weights(H, H_out, method)                        # (H_out, H)
    cols = _axis_weights(W, W_out, method)                        # (W_out, W)
    return rows @ np.asarray(images, dtype=np.float64) @ cols.T   # (..., H_out, W_out)


def border_median(image: np.ndarray) -> float:
    """Median of a 2-D image's outermost ring of pixels: its background level."""
    ring = np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])
    return float(np.median(ring))


def stroke_width(ink: np.ndarray) -> float:
    """Rough mean stroke width, in pixels, of a binary drawing (H, W) bool: 2 × area / outline length.

    A stroke of width w and length L has area w·L and an outline of about 2·L, counted
    here as ink/background pixel edges (a diagonal stroke's staircase outline is longer,
    so its width reads up to 1/√2 low). Returns 0.0 for an empty drawing.
    """
    outline = (np.count_nonzero(np.diff(ink, axis=0)) + np.count_nonzero(np.diff(ink, axis=1))
               + np.count_nonzero(ink[[0, -1]]) + np.count_nonzero(ink[:, [0, -1]]))
    return 2.0 * np.count_nonzero(ink) / outline if outline else 0.0


def dilate(image: np.ndarray, radius: float) -> np.ndarray:
    """Grey dilation by a disc of `radius` pixels with a soft (anti-aliased) rim. (H, W) -> (H, W).

    Loops over the disc's offsets (a few dozen at most), each a whole-image maximum.
    """
    if radius <= 0:
        return image
    r = int(np.ceil(radius))
    H, W = image.shape
    padded = np.pad(image, r)
    out = image.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            weight = min(max(radius + 0.5 - float(np.hypot(dy, dx)), 0.0), 1.0)
            if weight > 0 and (dy or dx):
                np.maximum(out, weight * padded[r + dy:r + dy + H, r + dx:r + dx + W], out=out)
    return out


# Framing that thickens or binarizes works at this multiple of the output size, then averages
# down: for the 8×8 digits that is exactly the 32×32 bitmap and 4×4 blocks of the UCI recipe.
OVERSAMPLE = 4


def frame_ink(image: np.ndarray, size: tuple[int, int], framing: InputFraming) -> np.ndarray:
    """Frame a bright-ink-on-dark drawing into `size` the way `framing` describes.

    image: (h, w) float in [0, 1], ink bright; size: (H, W).
    Returns (H, W) float64 in [0, 1]; all zeros when there is no ink (a cleared pad).
    """
    h, w = image.shape
    if framing.fit == "none":
        return resize(image, size)
    ink = image > INK_THRESHOLD
    if not ink.any():
        return np.zeros(size)
    fine = framing.binarize or framing.stroke is not None
    H, W = (size[0] * OVERSAMPLE, size[1] * OVERSAMPLE) if fine else size
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    r0, r1 = rows[0], rows[-1] + 1
    c0, c1 = cols[0], cols[-1] + 1
    bh, bw = r1 - r0, c1 - c0
    # One scale for both axes keeps the drawing's aspect ratio; the tighter axis decides.
    scale = framing.box * min(H / bh, W / bw)                    # output pixels per input pixel
    grow = 0.0                                                   # dilation radius, output pixels
    if framing.stroke is not None:
        drawn = stroke_width(image > 0.5)
        target = framing.stroke * framing.box * H
        if drawn * scale < target:
            # Thickening by `target - drawn*scale` widens the ink box by as much, so solve for the
            # scale at which the skeleton's box plus the target stroke just fits the frame.
            fits = [(framing.box * n - target) / (b - drawn) for n, b in ((H, bh), (W, bw)) if b > drawn]
            scale = min([scale, *fits]) if fits else scale
            grow = max((target - drawn * scale) / 2, 0.0)
    step = 1.0 / scale
    if framing.fit == "box":
        cy, cx = (r0 + r1) / 2, (c0 + c1) / 2
    else:
        mass = image.sum()
        cy = float((image.sum(axis=1) * (np.arange(h) + 0.5)).sum() / mass)
        cx = float((image.sum(axis=0) * (np.arange(w) + 0.5)).sum() / mass)
    # The output window, in input coordinates, is centred on (cy, cx).
    rows_w = area_weights(h, H, cy - H * step / 2, step)         # (H, h)
    cols_w = area_weights(w, W, cx - W * step / 2, step)         # (W, w)
    framed = np.clip(rows_w @ image @ cols_w.T, 0.0, 1.0)
    if grow > 0:
        # A stroke thinner than a pixel is faint after averaging (coverage about its width), so
        # dilating the grey values would only spread a faint line. Take where the stroke is at
        # a threshold it reaches in at least one pixel across, then dilate that.
        present = framed >= min(0.5, 0.5 * drawn * scale)
        framed = dilate(present.astype(np.float64), grow)
    if framing.binarize:
        framed = (framed >= 0.5).astype(np.float64)
    if fine:
        framed = resize(framed, size, method="area")
    return np.clip(framed, 0.0, 1.0)
