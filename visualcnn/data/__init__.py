"""Data for visualcnn: the bundled digits, synthetic teaching sets, MNIST-style IDX and NPZ loaders, batching.

Everything returns a `Dataset` whose images are (N, C, H, W) float32 in [0, 1]
and labels (N,) int64. No Qt here, ever.

    load_dataset("digits", size=16)          # by name (see DATASETS)
    load_dataset("/data/fashion-mnist")      # a directory of IDX files, or an .npz/.npy
    load_dataset(**dataset.source)           # rebuild a saved session's data
"""

from .batching import Sampler, iterate_batches
from .dataset import Dataset, stratified_split
from .digits import load_digits
from .download import (
    DEFAULT_MIRROR,
    FASHION_MNIST_CHECKSUMS,
    MNIST_CHECKSUMS,
    download_fashion_mnist,
    download_files,
    download_mnist,
)
from .idx import load_idx_dir, read_idx
from .imaging import InputFraming, frame_ink, resize
from .labels import class_label
from .npz import load_array_file
from .paths import assets_dir, cache_dir
from .registry import DATASETS, load_dataset
from .synthetic import BARS_CLASSES, SHAPES_CLASSES, make_bars, make_shapes

__all__ = [
    "BARS_CLASSES", "DATASETS", "DEFAULT_MIRROR", "FASHION_MNIST_CHECKSUMS", "MNIST_CHECKSUMS", "SHAPES_CLASSES",
    "Dataset", "InputFraming", "Sampler", "assets_dir", "cache_dir", "class_label", "download_fashion_mnist",
    "download_files", "download_mnist", "frame_ink", "iterate_batches", "load_array_file", "load_dataset",
    "load_digits", "load_idx_dir", "make_bars", "make_shapes", "read_idx", "resize", "stratified_split",
]
