"""visualcnn.data: loaders and their errors, the Dataset contract, synthetic sets, to_input, resizing."""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from visualcnn.data import (
    DATASETS,
    Dataset,
    InputFraming,
    assets_dir,
    load_dataset,
    make_bars,
    make_shapes,
    read_idx,
    resize,
)
from visualcnn.data.idx import IDX_FILES
from visualcnn.errors import DataError

# ---------------------------------------------------------------- helpers

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file's bytes for `array` (big-endian), optionally with a forced magic number."""
    if magic is None:
        magic = (_CODES[array.dtype] << 8) | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def make_idx_dir(directory: Path, n_train: int = 12, n_test: int = 6, gz: bool = True, seed: int = 0) -> Path:
    """A tiny MNIST-style directory: 5×4 uint8 images, labels 0..9."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for part, n in (("train", n_train), ("test", n_test)):
        write(directory / (IDX_FILES[f"{part}_images"] + suffix), idx_bytes(rng.integers(0, 256, (n, 5, 4), np.uint8)))
        write(directory / (IDX_FILES[f"{part}_labels"] + suffix), idx_bytes((np.arange(n) % 10).astype(np.uint8)))
    return directory


def assert_dataset_contract(ds: Dataset) -> None:
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert x.dtype == np.float32 and x.ndim == 4 and x.shape[1:] == ds.input_shape
        assert y.dtype == np.int64 and y.shape == (len(x),)
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert not x.flags.writeable and not y.flags.writeable
        if len(y):
            assert 0 <= y.min() and y.max() < ds.n_classes
    json.dumps(ds.source)                                  # JSON-able


def assert_same_data(a: Dataset, b: Dataset) -> None:
    assert a.name == b.name and a.class_names == b.class_names
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def centred(images: np.ndarray) -> np.ndarray:
    """Shift each (N, 1, H, W) image so its ink's bounding box is centred: keeps form, drops position."""
    out = np.empty_like(images)
    H, W = images.shape[2:]
    for i, im in enumerate(images[:, 0]):
        rows, cols = np.flatnonzero((im > 0.5).any(1)), np.flatnonzero((im > 0.5).any(0))
        dy = H // 2 - (rows[0] + rows[-1] + 1) // 2
        dx = W // 2 - (cols[0] + cols[-1] + 1) // 2
        out[i, 0] = np.roll(im, (dy, dx), axis=(0, 1))
    return out


def nearest_mean_accuracy(ds: Dataset) -> float:
    x_train, x_test = centred(ds.x_train), centred(ds.x_test)
    means = np.stack([x_train[ds.y_train == k].mean(0).ravel() for k in range(ds.n_classes)])
    distances = ((x_test.reshape(len(x_test), 1, -1) - means[None]) ** 2).sum(-1)
    return float((distances.argmin(1) == ds.y_test).mean())


# ---------------------------------------------------------------- IDX reader

@pytest.mark.parametrize("dtype", list(_CODES))
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_round_trips_every_dtype(tmp_path, dtype, suffix):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = read_idx(write(tmp_path / f"a.idx{suffix}", idx_bytes(array)))
    np.testing.assert_array_equal(out, array)
    assert out.dtype == dtype and out.dtype.isnative


def test_truncated_idx_names_file_and_sizes(tmp_path):
    data = idx_bytes(np.zeros((3, 5, 4), np.uint8))[:-7]
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: truncated: .*60 bytes.* has 53"):
        read_idx(write(tmp_path / "t10k-images-idx3-ubyte.gz", data))


def test_truncated_header(tmp_path):
    with pytest.raises(DataError, match=r"x\.idx: truncated: the header .* needs 16 bytes"):
        read_idx(write(tmp_path / "x.idx", struct.pack(">I", 0x0803) + b"\0\0\0\1"))
    with pytest.raises(DataError, match=r"y\.idx: truncated: 2 bytes"):
        read_idx(write(tmp_path / "y.idx", b"\0\0"))


def test_extra_bytes_after_data(tmp_path):
    with pytest.raises(DataError, match=r"x\.idx: 3 unexpected bytes after the 4 bytes"):
        read_idx(write(tmp_path / "x.idx", idx_bytes(np.zeros(4, np.uint8)) + b"abc"))


def test_wrong_magic_number_names_file_and_expected_magic(tmp_path):
    directory = make_idx_dir(tmp_path / "mnist")
    write(directory / "t10k-images-idx3-ubyte.gz", b"\0" * 64)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: wrong magic number 0x00000000 "
                                        r"\(expected 0x00000803 for IDX images"):
        load_dataset(directory)


def test_not_idx_at_all(tmp_path):
    with pytest.raises(DataError, match=r"x\.idx: wrong magic number 0x89504E47: not an IDX file"):
        read_idx(write(tmp_path / "x.idx", b"\x89PNG\r\n\x1a\n" + b"\0" * 8))


def test_unknown_dtype_code(tmp_path):
    data = idx_bytes(np.zeros((2, 2), np.uint8), magic=0x00000F02)
    with pytest.raises(DataError, match=r"x\.idx: unknown IDX dtype code 0x0F .*valid codes: 0x08 uint8"):
        read_idx(write(tmp_path / "x.idx", data))


def test_wrong_dtype_code_in_mnist_dir(tmp_path):
    directory = make_idx_dir(tmp_path / "mnist")
    write(directory / "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(12, np.float32)))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: wrong magic number 0x00000D01 "
                                        r"\(expected 0x00000801 for IDX labels; this header says float32"):
        load_dataset(directory)


def test_not_gzip(tmp_path):
    directory = make_idx_dir(tmp_path / "mnist")
    (directory / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: not a readable gzip file"):
        load_dataset(directory)


def test_mismatched_image_and_label_counts_name_both_files(tmp_path):
    directory = make_idx_dir(tmp_path / "mnist")
    write(directory / "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(11, np.uint8)))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz has 12 images but "
                                        r"train-labels-idx1-ubyte\.gz has 11 labels"):
        load_dataset(directory)


def test_label_out_of_range(tmp_path):
    directory = make_idx_dir(tmp_path / "mnist")
    write(directory / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.full(6, 12, np.uint8)))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: label 12 is out of range; expected 0\.\.9"):
        load_dataset(directory)


def test_missing_idx_file_lists_what_is_needed(tmp_path):
    directory = make_idx_dir(tmp_path / "mnist")
    (directory / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"missing t10k-labels-idx1-ubyte\[\.gz\].*found: t10k-images"):
        load_dataset(directory)


@pytest.mark.parametrize("gz", [True, False])
def test_idx_dir_loads(tmp_path, gz):
    ds = load_dataset(make_idx_dir(tmp_path / "mnist", gz=gz))
    assert_dataset_contract(ds)
    assert ds.input_shape == (1, 5, 4) and len(ds.x_train) == 12 and len(ds.x_test) == 6
    assert ds.class_names == [str(d) for d in range(10)] and ds.name == "mnist"
    assert ds.framing.fit == "mass"
    raw = read_idx(tmp_path / "mnist" / ("train-images-idx3-ubyte" + (".gz" if gz else "")))
    np.testing.assert_allclose(ds.x_train[:, 0], raw / 255.0, rtol=1e-6)


def test_fashion_dir_gets_fashion_class_names(tmp_path):
    ds = load_dataset(make_idx_dir(tmp_path / "Fashion-MNIST"))
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


# ---------------------------------------------------------------- NPZ / NPY

def test_npz_with_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, images=np.zeros((4, 3, 3), np.uint8), labels=np.array([1, "a", None, 2], dtype=object))
    with pytest.raises(DataError, match=r"evil\.npz: array 'labels' contains pickled objects; "
                                        r"only plain numeric arrays are accepted"):
        load_dataset(path)


def test_npy_pickle_is_refused(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "labels.npy", np.zeros(1, np.int64))
    with pytest.raises(DataError, match=r"images\.npy: contains pickled objects"):
        load_dataset(path)


def test_npz_missing_keys(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, pictures=np.zeros((4, 3, 3)), labels=np.zeros(4, np.int64))
    with pytest.raises(DataError, match=r"data\.npz: no array 'images' or 'x_train' \(found: labels, pictures\)"):
        load_dataset(path)


def test_npz_with_nan_names_file(tmp_path):
    images = np.full((10, 4, 4), 0.5)
    images[3, 1, 2] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, images=images, labels=np.arange(10) % 2)
    with pytest.raises(DataError, match=r"nan\.npz: array 'images': 1 NaN or infinite pixel values "
                                        r"\(first at image 3\)"):
        load_dataset(path)


@pytest.mark.parametrize(("images", "labels", "message"), [
    (np.full((4, 3, 3), 2.0), np.zeros(4, int), r"float pixels range 2\.\.2; expected \[0, 1\]"),
    (np.zeros((4, 3, 3), np.int32) + 300, np.zeros(4, int), r"integer pixels range 300\.\.300"),
    (np.zeros((4, 3)), np.zeros(4, int), r"images must be \(N, H, W\) or \(N, C, H, W\); got shape \(4, 3\)"),
    (np.zeros((4, 28, 28, 3), np.uint8), np.zeros(4, int), r"looks like \(N, H, W, C\)"),
    (np.zeros((4, 3, 3), np.uint8), np.zeros(5, int), r"labels must be one per image, shape \(4,\)"),
    (np.zeros((4, 3, 3), np.uint8), np.array([0, 1, -1, 0]), r"label -1 is negative"),
    (np.zeros((4, 3, 3), np.uint8), np.array([0, 0.5, 1, 0]), r"labels must be whole numbers"),
])
def test_npz_bad_arrays(tmp_path, images, labels, message):
    path = tmp_path / "bad.npz"
    np.savez(path, images=images, labels=labels)
    with pytest.raises(DataError, match=r"bad\.npz.*" + message):
        load_dataset(path)


def test_npz_garbage_file(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match=r"junk\.npz: cannot read it"):
        load_dataset(path)


def test_npz_uint8_is_scaled_and_split(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (50, 6, 7), np.uint8)
    labels = np.repeat(np.arange(5), 10)                       # stored sorted by class
    path = tmp_path / "mine.npz"
    np.savez(path, images=images, labels=labels)
    ds = load_dataset(path, test_fraction=0.2, seed=3)
    assert_dataset_contract(ds)
    assert ds.input_shape == (1, 6, 7) and (len(ds.x_train), len(ds.x_test)) == (40, 10)
    assert np.bincount(ds.y_test).tolist() == [2] * 5          # stratified
    assert ds.x_train.max() == pytest.approx(images.max() / 255.0)


def test_npz_with_test_arrays_channels_and_class_names(tmp_path):
    path = tmp_path / "rgb.npz"
    np.savez(path, x_train=np.full((6, 3, 5, 5), 0.25, np.float32), y_train=np.arange(6) % 3,
             x_test=np.zeros((2, 3, 5, 5), np.float32), y_test=np.array([0, 2]),
             class_names=np.array(["cat", "dog", "eel"]))
    ds = load_dataset(path)
    assert_dataset_contract(ds)
    assert ds.input_shape == (3, 5, 5) and len(ds.x_test) == 2
    assert ds.class_names == ["cat", "dog", "eel"]
    assert ds.describe() == "rgb 3×5×5: 6 train / 2 test, 3 classes"


def test_npz_test_images_without_labels(tmp_path):
    path = tmp_path / "half.npz"
    np.savez(path, images=np.zeros((4, 3, 3)), labels=np.zeros(4, int), test_images=np.zeros((2, 3, 3)))
    with pytest.raises(DataError, match=r"half\.npz: has 'test_images' without its partner"):
        load_dataset(path)


def test_npy_with_sibling_labels(tmp_path):
    np.save(tmp_path / "train_images.npy", np.zeros((8, 4, 4), np.uint8))
    np.save(tmp_path / "train_labels.npy", np.arange(8) % 2)
    ds = load_dataset(tmp_path / "train_images.npy")
    assert len(ds.x_train) + len(ds.x_test) == 8 and ds.n_classes == 2
    assert_same_data(ds, load_dataset(**ds.source))


def test_npy_without_labels(tmp_path):
    np.save(tmp_path / "pics.npy", np.zeros((8, 4, 4), np.uint8))
    with pytest.raises(DataError, match=r"pics\.npy: an \.npy holds only images .*pics_labels\.npy"):
        load_dataset(tmp_path / "pics.npy")


# ---------------------------------------------------------------- registry

def test_unknown_name_lists_valid_names_and_paths():
    with pytest.raises(DataError) as info:
        load_dataset("digts")
    message = str(info.value)
    assert "'digts'" in message and all(name in message for name in DATASETS)
    assert "IDX" in message and ".npz" in message


def test_unknown_option_lists_valid_options():
    with pytest.raises(DataError, match=r"digits: unknown option sise "
                                        r"\(valid: size, test_fraction, seed, n_train, n_test\)"):
        load_dataset("digits", sise=16)


def test_missing_npz_file(tmp_path):
    with pytest.raises(DataError, match=r"nothere\.npz: no such file"):
        load_dataset(tmp_path / "nothere.npz")


def test_mnist_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr("visualcnn.data.paths.platformdirs.user_cache_dir", lambda app: str(tmp_path / app))
    with pytest.raises(DataError, match=r"mnist: not downloaded yet .*download_mnist\(\)"):
        load_dataset("mnist")


def test_registry_descriptions_are_one_line():
    assert {"digits", "bars", "shapes"} <= set(DATASETS)
    assert all(isinstance(d, str) and "\n" not in d for d in DATASETS.values())


@pytest.mark.parametrize(("name", "options"), [
    ("digits", {"size": 16, "seed": 4}),
    ("bars", {"size": 12, "n": 80, "seed": 2}),
    ("shapes", {"size": 9, "n": 40, "seed": 5, "noise": 0.0}),
    ("digits", {"n_train": 50, "n_test": 7}),
])
def test_source_round_trips(name, options):
    ds = load_dataset(name, **options)
    assert_dataset_contract(ds)
    again = load_dataset(**json.loads(json.dumps(ds.source)))
    assert_same_data(ds, again)
    assert_same_data(ds, load_dataset(ds.source))
    assert again.source == ds.source


def test_source_round_trips_for_files(tmp_path):
    ds = load_dataset(make_idx_dir(tmp_path / "mnist")).subset(5, 2)
    assert_same_data(ds, load_dataset(ds.source))
    path = tmp_path / "mine.npz"
    np.savez(path, images=np.random.default_rng(0).random((30, 4, 4)), labels=np.arange(30) % 3)
    ds = load_dataset(path, seed=9)
    assert_same_data(ds, load_dataset(**ds.source))


# ---------------------------------------------------------------- digits

@pytest.mark.parametrize("size", [8, 16, 28])
def test_digits_shapes_and_ranges(size):
    ds = load_dataset("digits", size=size)
    assert_dataset_contract(ds)
    assert ds.input_shape == (1, size, size) and ds.n_classes == 10
    assert (len(ds.x_train), len(ds.x_test)) == (1437, 360)
    assert ds.x_train.max() == 1.0 and ds.x_train.min() == 0.0
    assert ds.describe() == f"digits {size}×{size}: 1437 train / 360 test, 10 classes"


def test_digits_at_8_are_grey_levels_over_16():
    ds = load_dataset("digits")
    np.testing.assert_array_equal(np.unique(np.round(ds.x_train * 16, 4)), np.arange(17))


def test_digits_split_is_stratified_and_seeded():
    a, b, c = load_dataset("digits"), load_dataset("digits"), load_dataset("digits", seed=1)
    assert_same_data(a, b)
    assert not np.array_equal(a.y_test, c.y_test)
    per_class = np.bincount(a.y_test) / (np.bincount(a.y_test) + np.bincount(a.y_train))
    assert np.all(np.abs(per_class - 0.2) < 0.01)
    assert len(set(map(bytes, a.x_train.reshape(len(a.x_train), -1))) & set(map(bytes, a.x_test.reshape(360, -1)))) \
        <= 5                                                   # the 1797 include a few exact duplicates
    small = load_dataset("digits", test_fraction=0.5)
    assert (len(small.x_train), len(small.x_test)) == (898, 899)


@pytest.mark.parametrize(("options", "message"), [
    ({"size": 12}, r"digits: size must be one of 8, 16, 28; got 12"),
    ({"test_fraction": 1.0}, r"digits: test_fraction must be a number between 0 and 1"),
    ({"seed": 1.5}, r"digits: seed must be a whole number; got 1\.5"),
])
def test_digits_bad_options(options, message):
    with pytest.raises(DataError, match=message):
        load_dataset("digits", **options)


def test_assets_dir_holds_digits():
    assert (assets_dir() / "digits.npz").is_file()


def test_subset_is_nested_and_recorded():
    ds = load_dataset("digits")
    small, smaller = ds.subset(200, 30), ds.subset(100)
    assert (len(small.x_train), len(small.x_test), len(smaller.x_test)) == (200, 30, 360)
    assert set(map(bytes, smaller.x_train)) <= set(map(bytes, small.x_train))
    assert small.source["n_train"] == 200 and "n_test" not in smaller.source
    assert_same_data(small.subset(100), load_dataset(small.subset(100).source))     # subsets compose
    assert_same_data(small.subset(100), ds.subset(100, 30))
    assert len(set(ds.subset(50).y_train.tolist())) == 10                          # a mix of classes
    assert len(ds.subset(10**6).x_train) == 1437
    with pytest.raises(DataError, match=r"n_train must be a whole number >= 1; got 0"):
        ds.subset(0)


# ---------------------------------------------------------------- synthetic sets

@pytest.mark.parametrize("make", [make_bars, make_shapes])
def test_synthetic_reproducible_and_seeded(make):
    x1, y1 = make(size=16, n=60, seed=7)
    x2, y2 = make(size=16, n=60, seed=7)
    x3, _ = make(size=16, n=60, seed=8)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert x1.shape == (60, 1, 16, 16) and x1.dtype == np.float32 and y1.dtype == np.int64
    assert 0.0 <= x1.min() and x1.max() <= 1.0
    assert np.bincount(y1).tolist() == [15] * 4


@pytest.mark.parametrize("name", ["bars", "shapes"])
@pytest.mark.parametrize("size", [8, 28])
def test_synthetic_classes_are_recognisably_different(name, size):
    ds = load_dataset(name, size=size, n=400, noise=0.0)
    assert_dataset_contract(ds)
    assert ds.input_shape == (1, size, size)
    # Once position is removed, a nearest class-mean classifier (chance: 0.25) tells the
    # classes apart: they differ in form, not just in where they sit.
    assert nearest_mean_accuracy(ds) > 0.6


def test_bars_orientation_shows_in_the_gradients():
    images, labels = make_bars(size=28, n=200, seed=3, noise=0.0)
    gy, gx = np.gradient(images[:, 0], axis=(1, 2))
    horizontal = (gy ** 2).sum((1, 2)) > (gx ** 2).sum((1, 2))      # edges across a horizontal bar are vertical steps
    # Across a "/" bar the grey level steps along (1, 1) in (x, y-down): x and y steps share a sign.
    rising = (gx * gy).sum((1, 2)) > 0
    assert horizontal[labels == 0].all() and not horizontal[labels == 1].any()
    assert rising[labels == 2].all() and not rising[labels == 3].any()


@pytest.mark.parametrize(("options", "message"), [
    ({"size": 7}, r"bars: size must be a whole number >= 8; got 7"),
    ({"n": 3}, r"bars: n must be a whole number >= 8"),
    ({"noise": -1}, r"bars: noise must be a number in \[0, 0\.5\]"),
])
def test_synthetic_bad_options(options, message):
    with pytest.raises(DataError, match=message):
        load_dataset("bars", **options)


# ---------------------------------------------------------------- to_input and resizing

def strokes(shape, segments, width):
    """Anti-aliased thick line segments, ink bright: (H, W) float in [0, 1]."""
    y, x = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    image = np.zeros(shape)
    for (x0, y0), (x1, y1) in segments:
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0, 1)
        distance = np.hypot(x - (x0 + t * dx), y - (y0 + t * dy))
        image = np.maximum(image, np.clip(width / 2 - distance + 0.5, 0, 1))
    return image


@pytest.mark.parametrize("name,options", [("digits", {"size": 8}), ("digits", {"size": 28}),
                                          ("bars", {"size": 13, "n": 40})])
@pytest.mark.parametrize("shape", [(37, 53), (5, 3), (301, 41), (1, 1)])
def test_to_input_shape_and_range_for_odd_sizes(name, options, shape):
    ds = load_dataset(name, **options)
    image = np.random.default_rng(0).random(shape)
    out = ds.to_input(image)
    assert out.shape == ds.input_shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_to_input_blank_pad_is_blank():
    ds = load_dataset("digits", size=16)
    assert not ds.to_input(np.zeros((200, 200))).any()
    assert not ds.to_input(np.ones((200, 200))).any()        # a blank sheet of paper


def test_to_input_drawn_digit_looks_like_a_sample():
    ds = load_dataset("digits")
    seven = strokes((300, 240), [((60, 60), (190, 60)), ((190, 60), (100, 250))], width=9)
    out = ds.to_input(seven)[0]
    # Like every digits sample: the ink spans the full height, and about as much ink as a seven.
    assert out[0].max() > 0.2 and out[-1].max() > 0.2
    sevens = ds.x_train[ds.y_train == 7, 0]
    assert 0.5 < out.sum() / sevens.sum((1, 2)).mean() < 1.5
    # The seven's mean image matches the drawn seven better than most other digits' do.
    scores = [np.corrcoef(out.ravel(), ds.x_train[ds.y_train == k].mean(0).ravel())[0, 1] for k in range(10)]
    assert np.argsort(scores)[::-1].tolist().index(7) < 3
    # Dark ink on white paper gives the same input as bright ink on black.
    np.testing.assert_allclose(ds.to_input(1.0 - seven), ds.to_input(seven), atol=1e-6)


def test_to_input_reproduces_dataset_samples():
    ds = load_dataset("digits")
    samples = ds.x_test[:40, 0]
    correlation = [np.corrcoef(ds.to_input(np.kron(im, np.ones((9, 7))))[0].ravel(), im.ravel())[0, 1]
                   for im in samples]
    assert np.mean(correlation) > 0.7


def test_to_input_mnist_framing_centres_the_mass(tmp_path):
    ds = load_dataset(make_idx_dir(tmp_path / "mnist"))
    ds28 = Dataset(name="m", source={}, x_train=np.zeros((2, 1, 28, 28), np.float32), y_train=np.zeros(2, np.int64),
                   x_test=np.zeros((0, 1, 28, 28), np.float32), y_test=np.zeros(0, np.int64),
                   class_names=ds.class_names, framing=ds.framing)
    blob = strokes((90, 70), [((10, 10), (30, 20))], width=6)           # off-centre, top left
    out = ds28.to_input(blob)[0]
    mass = out.sum()
    cy = (out.sum(1) * (np.arange(28) + 0.5)).sum() / mass
    cx = (out.sum(0) * (np.arange(28) + 0.5)).sum() / mass
    assert abs(cy - 14) < 0.75 and abs(cx - 14) < 0.75
    rows = np.flatnonzero(out.max(1) > 0.1)
    cols = np.flatnonzero(out.max(0) > 0.1)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22        # within MNIST's 20×20 box (+ rim)


def test_to_input_repeats_grey_over_channels(tmp_path):
    x = np.zeros((4, 3, 6, 6), np.float32)
    ds = Dataset(name="rgb", source={}, x_train=x, y_train=np.zeros(4, np.int64), x_test=x,
                 y_test=np.zeros(4, np.int64), class_names=["a"])
    out = ds.to_input(np.eye(11))
    assert out.shape == (3, 6, 6)
    np.testing.assert_array_equal(out[0], out[2])


def test_to_input_rejects_non_images():
    ds = load_dataset("bars", size=8, n=8)
    with pytest.raises(DataError, match=r"to_input: expected a 2-D grey image \(h, w\); got shape \(2, 3, 4\)"):
        ds.to_input(np.zeros((2, 3, 4)))
    with pytest.raises(DataError, match=r"to_input: the image has 1 NaN"):
        ds.to_input(np.array([[0.0, np.nan], [0.0, 0.0]]))


def test_resize_area_is_the_block_mean_and_bilinear_keeps_constants():
    images = np.random.default_rng(0).random((3, 12, 8))
    expected = images.reshape(3, 3, 4, 2, 4).mean(axis=(2, 4))
    np.testing.assert_allclose(resize(images, (3, 2)), expected)
    np.testing.assert_allclose(resize(np.full((5, 5), 0.3), (17, 9)), 0.3)
    ramp = resize(np.arange(4.0)[None], (1, 8), method="bilinear")[0]
    np.testing.assert_allclose(np.diff(ramp[1:-1]), 0.5)          # linear inside, clamped at the edges


def test_input_framing_validates():
    with pytest.raises(ValueError, match="fit"):
        InputFraming(fit="crop")


def test_data_package_imports_no_qt():
    code = ("import sys, visualcnn.data; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'ui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_source_dict_may_say_name_or_path(tmp_path):
    preset_style = load_dataset({"name": "bars", "size": 8, "n": 16})
    assert_same_data(preset_style, load_dataset(name_or_path="bars", size=8, n=16))
    assert_same_data(preset_style, load_dataset(**preset_style.source))
    directory = make_idx_dir(tmp_path / "mnist")
    assert_same_data(load_dataset(path=str(directory)), load_dataset(directory))
    with pytest.raises(DataError, match=r"give exactly one data set .*got none"):
        load_dataset(size=8)
    with pytest.raises(DataError, match=r"got both name and path"):
        load_dataset(name="digits", path=str(directory))
    with pytest.raises(DataError, match=r"the data set is given twice"):
        load_dataset("digits", name="bars")


def test_dataset_does_not_freeze_the_callers_arrays():
    x = np.zeros((2, 1, 4, 4), np.float32)
    ds = Dataset(name="t", source={}, x_train=x, y_train=np.zeros(2, np.int64), x_test=x[:0],
                 y_test=np.zeros(0, np.int64), class_names=["a"])
    assert x.flags.writeable and not ds.x_train.flags.writeable
    with pytest.raises(DataError, match=r"t: y_train has labels 0\.\.3, but there are 1 class names"):
        Dataset(name="t", source={}, x_train=x, y_train=np.array([0, 3]), x_test=x[:0],
                y_test=np.zeros(0, np.int64), class_names=["a"])
