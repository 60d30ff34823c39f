"""The bundled UCI handwritten digits: 1,797 8×8 images with grey levels 0–16.

"Optical Recognition of Handwritten Digits" by E. Alpaydin and C. Kaynak, UCI
Machine Learning Repository, CC BY 4.0 (the copy scikit-learn ships). Each
digit was scaled to fill the height of a binary 32×32 bitmap, and every 4×4
block's "on" pixels were counted: a grey level is ink coverage, 0..16.
`assets/digits.npz` (images uint8 (1797, 8, 8), labels uint8 (1797,)) is made by
scripts/extract_digits.py.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from visualcnn.errors import DataError

from .dataset import Dataset, check_int, check_test_fraction, split_dataset
from .imaging import InputFraming, resize
from .paths import assets_dir
from visualcnn.i18n import _

DIGITS_FILE = "digits.npz"
DIGITS_SIZES = (8, 16, 28)
DIGITS_CLASSES = [str(d) for d in range(10)]


@lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """The bundled file, read once: images (1797, 8, 8) uint8 in 0..16, labels (1797,) uint8."""
    path = assets_dir() / DIGITS_FILE
    if not path.is_file():
        raise DataError(_("{DIGITS_FILE}: the bundled digits are missing from {parent}; run visualcnn "
                          "from an editable install of the checkout (pip install -e .), set "
                          "VISUALCNN_ASSETS, or recreate the file with scripts/extract_digits.py").format(
                            DIGITS_FILE=DIGITS_FILE, parent=path.parent))
    with np.load(path, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    if images.shape != (1797, 8, 8) or labels.shape != (1797,) or images.max() > 16 or labels.max() > 9:
        raise DataError(_("{path}: expected images (1797, 8, 8) in 0..16 and labels (1797,) in 0..9; "
                          "got {images_shape} and {labels_shape}; recreate it with scripts/extract_digits.py").format(
                            path=path, images_shape=images.shape, labels_shape=labels.shape))
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_digits(size: int = 8, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """The bundled digits at `size` × `size`, split (seeded, stratified) into train and test.

    size: 8 (as stored), 16 or 28. Larger sizes are upsampled bilinearly (half-pixel
        centres, as PyTorch's align_corners=False), which keeps values in [0, 1] and
        strokes smooth, unlike nearest-neighbour blocks.
    Images: (N, 1, size, size) float32 = grey level / 16; labels (N,) int64.
    With the defaults: 1437 train / 360 test.
    """
    size = check_int("digits", "size", size, allowed=DIGITS_SIZES)
    test_fraction = check_test_fraction("digits", test_fraction)
    seed = check_int("digits", "seed", seed)
    raw_images, raw_labels = _raw_digits()
    images = raw_images.astype(np.float32) / np.float32(16.0)             # (1797, 8, 8)
    if size != 8:
        images = resize(images, (size, size), method="bilinear").astype(np.float32)
    images = np.clip(images, 0.0, 1.0)[:, None]                           # (1797, 1, size, size)
    source = {"name_or_path": "digits", "size": size, "test_fraction": test_fraction, "seed": seed}
    # The digits fill the bitmap's full height (every sample touches the top and bottom rows)
    # and are binary before block counting; to_input frames drawings the same way. Their
    # strokes are thick: about 30 % of each bitmap is ink (mean grey level 4.9 of 16), which
    # a drawing reaches with strokes about 18 % of the digit's height.
    framing = InputFraming(fit="box", box=1.0, binarize=True, native_size=(8, 8), stroke=0.18)
    return split_dataset("digits", source, images, raw_labels.astype(np.int64), DIGITS_CLASSES,
                         test_fraction, seed, framing)
