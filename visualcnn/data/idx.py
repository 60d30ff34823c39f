"""IDX files (the MNIST / Fashion-MNIST format): a checked reader and the four-file directory loader.

An IDX file is a 4-byte magic number — two zero bytes, a dtype code, the number
of dimensions — then one big-endian uint32 per dimension, then the values,
big-endian, row-major. Files may be gzip-compressed (.gz).
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from visualcnn.errors import DataError
from visualcnn.limits import check as check_limit

from .dataset import Dataset
from .imaging import InputFraming
from visualcnn.i18n import N_, _, ngettext

# dtype code -> (big-endian NumPy dtype, name for messages)
IDX_DTYPES: dict[int, tuple[str, str]] = {
    0x08: (">u1", "uint8"),
    0x09: (">i1", "int8"),
    0x0B: (">i2", "int16"),
    0x0C: (">i4", "int32"),
    0x0D: (">f4", "float32"),
    0x0E: (">f8", "float64"),
}
IMAGES_MAGIC = 0x00000803   # uint8, 3 dimensions (N, H, W)
LABELS_MAGIC = 0x00000801   # uint8, 1 dimension (N,)

_VALID_CODES = ", ".join(f"0x{code:02X} {name}" for code, (_, name) in IDX_DTYPES.items())

# (role, file stem) in the standard MNIST naming; a file may be raw or .gz.
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = [N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
                   N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot")]

# MNIST: each digit was scaled to fit a 20×20 box and centred on its centre of mass in 28×28.
# Stroke 15 % of the digit's height gives drawn digits about MNIST's mean ink (0.13 per pixel).
MNIST_FRAMING = InputFraming(fit="mass", box=20 / 28, stroke=0.15)
# Fashion-MNIST: each product was trimmed to its bounding box and its longest edge resized to 28.
FASHION_FRAMING = InputFraming(fit="box", box=1.0)


def _read_bytes(path: Path, reader) -> bytes:
    """reader(stream) on the file's (decompressed) contents, or a DataError that names it.

    A stream rather than the whole contents: a .gz of a few kilobytes can inflate to gigabytes,
    so the reader takes only as many bytes as the header allows (see read_idx).
    """
    if not path.is_file():
        raise DataError(_("{name}: no such file in {parent}").format(name=path.name, parent=path.parent))
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            return reader(f)
    except (OSError, EOFError, zlib.error) as exc:
        # BadGzipFile is an OSError; a gzip cut short raises EOFError.
        raise DataError(_("{name}: not a readable gzip file ({exc}); download it again").format(
                            name=path.name, exc=exc)) from None


def _describe_magic(magic: int) -> str:
    """What a magic number says, for error messages."""
    if magic >> 16:
        return _("not an IDX file: its first two bytes must be zero")
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if code not in IDX_DTYPES:
        return _("0x{code:02X} is not an IDX dtype code (valid: {VALID_CODES})").format(
                   code=code, VALID_CODES=_VALID_CODES)
    return ngettext("this header says {dtype} with {ndim} dimension", "this header says {dtype} with {ndim} dimensions",
                    ndim).format(dtype=IDX_DTYPES[code][1], ndim=ndim)


def read_idx(path: str | Path, expected_magic: int | None = None, kind: str = "data") -> np.ndarray:
    """Read one IDX file (raw or .gz), checking the header against the file's size.

    expected_magic: e.g. IMAGES_MAGIC (0x00000803) to insist on uint8 with 3 dimensions;
        kind ("images", "labels") names what was expected in the message.
    Returns an array of the header's shape, in native byte order (a copy).
    Raises DataError naming the file for: a wrong magic number, an unknown dtype code,
    a truncated header or data, or extra bytes after the data.
    """
    path = Path(path)
    return _read_bytes(path, lambda f: _parse_idx(path, f, expected_magic, kind))


def _parse_idx(path: Path, f, expected_magic: int | None, kind: str) -> np.ndarray:
    """The checks of read_idx on an open (decompressed) stream: header first, then only the bytes it declares."""
    data = f.read(4)
    if len(data) < 4:
        raise DataError(_("{name}: truncated: {n_data} bytes, too short for the 4-byte IDX magic number").format(
                            name=path.name, n_data=len(data)))
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise DataError(_("{name}: wrong magic number 0x{magic:08X} (expected 0x{expected_magic:08X} "
                          "for IDX {kind}; {describe_magic})").format(
                            name=path.name, magic=magic, expected_magic=expected_magic, kind=kind,
                            describe_magic=_describe_magic(magic)))
    if magic >> 16:
        raise DataError(_("{name}: wrong magic number 0x{magic:08X}: {describe_magic} (an IDX file "
                          "starts 0x0000, then a dtype code and the number of dimensions)").format(
                            name=path.name, magic=magic, describe_magic=_describe_magic(magic)))
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if code not in IDX_DTYPES:
        raise DataError(_("{name}: unknown IDX dtype code 0x{code:02X} in magic number 0x{magic:08X} "
                          "(valid codes: {VALID_CODES})").format(
                            name=path.name, code=code, magic=magic, VALID_CODES=_VALID_CODES))
    if ndim == 0:
        raise DataError(_("{name}: the magic number 0x{magic:08X} declares 0 dimensions; at least 1 is "
                          "needed").format(name=path.name, magic=magic))
    header = 4 + 4 * ndim
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(_("{name}: truncated: the header of a {ndim}-dimensional IDX file needs "
                          "{header} bytes, the file has {value}").format(
                            name=path.name, ndim=ndim, header=header, value=4 + len(dims)))
    shape = tuple(int.from_bytes(dims[4 * k:4 * k + 4], "big") for k in range(ndim))
    dtype = np.dtype(IDX_DTYPES[code][0])
    # Python integers: (2**31, 2**31, 4) must not wrap around in int64 and look small
    check_limit(math.prod(shape), "MAX_IDX_VALUES", path.name, _("the header's value count {shape}").format(
                                                                   shape=shape), DataError)
    expected = math.prod(shape) * dtype.itemsize
    data = f.read(expected + 1)             # one byte more than declared tells "extra bytes" apart
    found = len(data)
    if found < expected:
        raise DataError(_("{name}: truncated: the header promises {shape} {IDX_DTYPES} = {expected} "
                          "bytes of data, the file has {found}; download it again").format(
                            name=path.name, shape=shape, IDX_DTYPES=IDX_DTYPES[code][1], expected=expected,
                            found=found))
    if found > expected:
        rest = 1 + len(f.read(2**20))
        more = f"{rest:,}" if rest <= 2**20 else _("more than a million")
        raise DataError(_("{name}: {more} unexpected bytes after the {expected} bytes of data the "
                          "header describes ({shape} {IDX_DTYPES}); not a valid IDX file").format(
                            name=path.name, more=more, expected=expected, shape=shape, IDX_DTYPES=IDX_DTYPES[code][1]))
    values = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def find_idx_files(directory: Path) -> dict[str, Path]:
    """The four standard MNIST files in `directory`, raw or .gz (the dotted `train-images.idx3-ubyte` too)."""
    found, missing = {}, []
    for role, stem in IDX_FILES.items():
        dotted = stem.replace("-idx", ".idx")
        candidates = [directory / name for name in (stem, stem + ".gz", dotted, dotted + ".gz")]
        hit = next((p for p in candidates if p.is_file()), None)
        if hit is None:
            missing.append(stem + "[.gz]")
        else:
            found[role] = hit
    if missing:
        present = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
        raise DataError(_("{directory}: missing {missing}; an IDX directory needs the four MNIST files "
                          "{files} (found: {found})").format(
                            directory=directory, missing=', '.join(missing),
                            files=', '.join((s + '[.gz]' for s in IDX_FILES.values())),
                            found=', '.join(present[:12]) or _('nothing')))
    return found


def _load_pair(images_path: Path, labels_path: Path, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Read matching image and label files: (N, 1, H, W) float32 in [0, 1] and (N,) int64."""
    images = read_idx(images_path, IMAGES_MAGIC, "images")          # (N, H, W) uint8
    labels = read_idx(labels_path, LABELS_MAGIC, "labels")          # (N,) uint8
    if len(images) != len(labels):
        raise DataError(_("{images_file} has {n_images} images but {labels_file} has {n_labels} labels; the two "
                          "files must come from the same set (download the pair again)").format(
                            images_file=images_path.name, n_images=len(images), labels_file=labels_path.name,
                            n_labels=len(labels)))
    if len(labels) and labels.max() >= n_classes:
        raise DataError(_("{name}: label {max} is out of range; expected 0..{value}").format(
                            name=labels_path.name, max=labels.max(), value=n_classes - 1))
    x = (images.astype(np.float32) / np.float32(255.0))[:, None]     # (N, 1, H, W)
    return x, labels.astype(np.int64)


def load_idx_dir(directory: str | Path, name: str | None = None,
                 source: dict | None = None) -> Dataset:
    """Load an MNIST-style directory of four IDX files into a Dataset (train / t10k split as given).

    Fashion-MNIST class names (and framing) are used when the directory's name contains
    "fashion", otherwise "0".."9". Images: (N, 1, 28, 28) float32 in [0, 1].
    """
    directory = Path(directory).expanduser().resolve()
    if not directory.is_dir():
        raise DataError(_("{directory}: not a directory; expected a directory holding the four MNIST "
                          "IDX files").format(directory=directory))
    files = find_idx_files(directory)
    fashion = "fashion" in directory.name.lower()
    class_names = FASHION_CLASSES if fashion else MNIST_CLASSES
    x_train, y_train = _load_pair(files["train_images"], files["train_labels"], len(class_names))
    x_test, y_test = _load_pair(files["test_images"], files["test_labels"], len(class_names))
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(_("{train_file} holds {train_shape} images but {test_file} holds {test_shape}; "
                          "both must be the same size").format(
                            train_file=files['train_images'].name, train_shape=x_train.shape[2:],
                            test_file=files['test_images'].name,
                            test_shape=x_test.shape[2:]))
    return Dataset(name=name or directory.name, source=source or {"name_or_path": str(directory)},
                   x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                   class_names=class_names, framing=FASHION_FRAMING if fashion else MNIST_FRAMING)
