"""User data sets stored as NumPy files: an .npz of images and labels, or an .npy of images beside its labels.

Files are opened with allow_pickle=False: a data file must never be able to run code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from visualcnn.archive import PICKLE_REFUSAL, load_npy, load_npz
from visualcnn.errors import DataError
from visualcnn.limits import check as check_limit

from .dataset import Dataset, check_int, check_test_fraction, split_dataset
from visualcnn.i18n import N_, _

# Each role accepts this project's names and Keras's (mnist.npz uses x_train, y_train, x_test, y_test).
KEYS = {
    "images": ("images", "x_train"),
    "labels": ("labels", "y_train"),
    "test_images": ("test_images", "x_test"),
    "test_labels": ("test_labels", "y_test"),
}
_LAYOUT = (N_("an .npz needs arrays 'images' (N, H, W) or (N, C, H, W) and 'labels' (N,), optionally "
              "'test_images' and 'test_labels' and 'class_names' (Keras-style x_train, y_train, x_test, "
              "y_test also work)"))


def _check_magic(path: Path) -> None:
    """Refuse anything that is not an .npz (zip) or .npy before NumPy guesses "pickle" for it."""
    if not path.is_file():
        raise DataError(_("{name}: no such file in {parent}").format(name=path.name, parent=path.parent))
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")):
        return
    if head.startswith(b"\x80"):                     # the pickle protocol marker
        raise DataError(f"{path.name}: {_(PICKLE_REFUSAL)}")
    raise DataError(_("{name}: cannot read it: not a NumPy .npz or .npy file (it starts with "
                      "{head!r}); {LAYOUT}").format(name=path.name, head=head, LAYOUT=_(_LAYOUT)))


def _load_npy(path: Path) -> np.ndarray:
    _check_magic(path)
    return load_npy(path, DataError)


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an .npz, every declared size checked against visualcnn.limits before inflating."""
    _check_magic(path)
    with open(path, "rb") as f:
        if f.read(6) == b"\x93NUMPY":
            raise DataError(_("{name}: holds a single array, not an .npz archive; {LAYOUT}").format(
                                name=path.name, LAYOUT=_(_LAYOUT)))
    return load_npz(path, DataError)


def images_to_float(images: np.ndarray, label: str) -> np.ndarray:
    """Check and convert user images to (N, C, H, W) float32 in [0, 1].

    images: (N, H, W) or (N, C, H, W); uint8 (or other integers in 0..255) is scaled by 1/255,
    bool becomes 0/1, floats must be finite and already in [0, 1]. `label` names file and array.
    """
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise DataError(_("{label}: images must be (N, H, W) or (N, C, H, W); got shape {shape}").format(
                            label=label, shape=images.shape))
    N, C, H, W = images.shape
    check_limit(images.size, "MAX_DATASET_PIXELS", label, _("the pixel count of {shape}").format(
                                                              shape=images.shape), DataError)
    if N == 0 or H < 2 or W < 2:
        raise DataError(_("{label}: images of shape {shape}: expected at least one image of at least "
                          "2×2").format(label=label, shape=images.shape))
    if C > 4 and W <= 4:
        raise DataError(_("{label}: shape {shape} looks like (N, H, W, C); transpose to (N, C, H, W), "
                          "e.g. images.transpose(0, 3, 1, 2)").format(label=label, shape=images.shape))
    if images.dtype == bool:
        return images.astype(np.float32)
    if np.issubdtype(images.dtype, np.integer):
        lo, hi = int(images.min()), int(images.max())
        if lo < 0 or hi > 255:
            raise DataError(_("{label}: integer pixels range {lo}..{hi}; expected 0..255 (scaled by "
                              "1/255)").format(label=label, lo=lo, hi=hi))
        return images.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(images.dtype, np.floating):
        raise DataError(_("{label}: images have dtype {dtype}; expected uint8 0..255 or floats in [0, "
                          "1]").format(label=label, dtype=images.dtype))
    bad = ~np.isfinite(images)
    if bad.any():
        first = np.unravel_index(np.argmax(bad), images.shape)
        raise DataError(_("{label}: {count_nonzero} NaN or infinite pixel values (first at image "
                          "{first}); expected finite floats in [0, 1]").format(
                            label=label, count_nonzero=np.count_nonzero(bad), first=first[0]))
    lo, hi = float(images.min()), float(images.max())
    if lo < 0.0 or hi > 1.0:
        raise DataError(_("{label}: float pixels range {lo:g}..{hi:g}; expected [0, 1] (divide by the "
                          "maximum, or store uint8 0..255)").format(label=label, lo=lo, hi=hi))
    return images.astype(np.float32)


def labels_to_int(labels: np.ndarray, n: int, label: str) -> np.ndarray:
    """Check user labels: (N,) whole numbers >= 0, as many as there are images. Returns int64."""
    if labels.ndim != 1 or len(labels) != n:
        raise DataError(_("{label}: labels must be one per image, shape ({n},); got shape {shape}").format(
                            label=label, n=n, shape=labels.shape))
    if np.issubdtype(labels.dtype, np.floating):
        if not (np.isfinite(labels).all() and np.array_equal(labels, np.round(labels))):
            raise DataError(_("{label}: labels must be whole numbers (class indices 0, 1, ...); found "
                              "NaN or fractional values").format(label=label))
    elif not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise DataError(_("{label}: labels have dtype {dtype}; expected integer class indices 0, 1, ...").format(
                            label=label, dtype=labels.dtype))
    labels = labels.astype(np.int64)
    if n and labels.min() < 0:
        raise DataError(_("{label}: label {min} is negative; expected class indices 0, 1, ...").format(
                            label=label, min=labels.min()))
    return labels


def _pick(arrays: dict[str, np.ndarray], role: str) -> tuple[str, np.ndarray] | None:
    for key in KEYS[role]:
        if key in arrays:
            return key, arrays[key]
    return None


def _labels_beside(path: Path, labels_path: str | Path | None) -> Path:
    """Where the labels of an images-only .npy are: `labels_path`, else <stem>_labels.npy or images→labels."""
    if labels_path is not None:
        return Path(labels_path).expanduser().resolve()
    candidates = [path.with_name(path.stem + "_labels.npy")]
    if "images" in path.stem:
        candidates.insert(0, path.with_name(path.stem.replace("images", "labels") + ".npy"))
    hit = next((p for p in candidates if p.is_file()), None)
    if hit is None:
        raise DataError(_("{name}: an .npy holds only images and no labels were found beside it "
                          "(looked for {value}); pass labels_path=..., or use an .npz: {LAYOUT}").format(
                            name=path.name, value=', '.join((p.name for p in candidates)), LAYOUT=_(_LAYOUT)))
    return hit


def load_array_file(path: str | Path, test_fraction: float = 0.2, seed: int = 0,
                    labels_path: str | Path | None = None) -> Dataset:
    """Load a user data set from an .npz (images + labels [+ test arrays]) or an .npy of images.

    Without test arrays the set is split (seeded, stratified) by test_fraction; with them,
    each part is shuffled by the seed (files are often sorted by class).
    Images become (N, C, H, W) float32 in [0, 1]; labels (N,) int64; class names come
    from a 'class_names' array of strings, else "0".."K-1".
    """
    path = Path(path).expanduser().resolve()
    name = path.stem
    test_fraction = check_test_fraction(name, test_fraction)
    seed = check_int(name, "seed", seed)
    source: dict[str, Any] = {"name_or_path": str(path), "test_fraction": test_fraction, "seed": seed}
    if path.suffix.lower() == ".npy":
        labels_file = _labels_beside(path, labels_path)
        source["labels_path"] = str(labels_file)
        arrays = {"images": _load_npy(path), "labels": _load_npy(labels_file)}
        labels_label = labels_file.name
    else:
        arrays = _load_npz(path)
        labels_label = None
    picked = {role: _pick(arrays, role) for role in KEYS}
    for role in ("images", "labels"):
        if picked[role] is None:
            raise DataError(_("{name}: no array {wanted} (found: {found}); {LAYOUT}").format(
                                name=path.name, wanted=_(' or ').join((repr(k) for k in KEYS[role])),
                                found=', '.join(sorted(arrays)) or _('no arrays'), LAYOUT=_(_LAYOUT)))
    if (picked["test_images"] is None) != (picked["test_labels"] is None):
        have = "test_images" if picked["test_images"] is not None else "test_labels"
        raise DataError(_("{name}: has {picked!r} without its partner; test images and test labels "
                          "must come together (or leave both out to split)").format(
                            name=path.name, picked=picked[have][0]))

    def convert(role_x: str, role_y: str) -> tuple[np.ndarray, np.ndarray]:
        (kx, x), (ky, y) = picked[role_x], picked[role_y]
        images = images_to_float(x, _("{name}: array {key!r}").format(name=path.name, key=kx))
        labels = labels_to_int(y, len(images),
                               labels_label or _("{name}: array {key!r}").format(name=path.name, key=ky))
        return images, labels

    x, y = convert("images", "labels")
    test = convert("test_images", "test_labels") if picked["test_images"] is not None else None
    top = int(max(y.max(), test[1].max() if test is not None and len(test[1]) else 0))
    # labels are class indices: label 1e8 would mean 1e8 class names
    check_limit(top + 1, "MAX_CLASSES", _("{name}: labels").format(name=path.name), _("the number of classes (largest "
                                                                  "label + 1)"),
                DataError)
    if "class_names" in arrays:
        names = arrays["class_names"]
        if names.ndim != 1 or not (np.issubdtype(names.dtype, np.str_) or np.issubdtype(names.dtype, np.integer)):
            raise DataError(_("{name}: 'class_names' must be a 1-D array of strings; got {dtype} "
                              "{shape}").format(name=path.name, dtype=names.dtype, shape=names.shape))
        class_names = [str(c) for c in names]
        if len(class_names) <= top:
            raise DataError(_("{name}: {n_class_names} class_names but labels go up to {top}; expected "
                              "at least {value} names").format(
                                name=path.name, n_class_names=len(class_names), top=top, value=top + 1))
    else:
        class_names = [str(k) for k in range(top + 1)]
    if test is None:
        return split_dataset(name, source, x, y, class_names, test_fraction, seed)
    if test[0].shape[1:] != x.shape[1:]:
        raise DataError(_("{name}: training images are (C, H, W) = {train_shape} but test images are "
                          "{test_shape}; both must be the same").format(
                            name=path.name, train_shape=x.shape[1:], test_shape=test[0].shape[1:]))
    # Files often store images sorted by class; a seeded shuffle makes any prefix (Dataset.subset)
    # a mix of classes.
    rng = np.random.default_rng(seed)
    train_order, test_order = rng.permutation(len(y)), rng.permutation(len(test[1]))
    return Dataset(name=name, source=source, x_train=x[train_order], y_train=y[train_order],
                   x_test=test[0][test_order], y_test=test[1][test_order], class_names=class_names)
