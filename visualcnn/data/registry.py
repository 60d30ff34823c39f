"""One entry point for every data set: `load_dataset(name_or_path, **options)` and the menu of names."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from visualcnn.errors import DataError
from visualcnn.limits import check as check_limit

from .dataset import Dataset, check_int, check_test_fraction, split_dataset
from .digits import load_digits
from .download import default_dest, download_fashion_mnist, download_mnist
from .idx import load_idx_dir
from .npz import load_array_file
from .colour import COLOUR_SHAPES_CLASSES, make_colour_shapes
from .random_set import load_random
from .synthetic import BARS_CLASSES, SHAPES_CLASSES, make_bars, make_shapes
from visualcnn.i18n import N_, _, ngettext

# Name -> one line for a menu.
DATASETS: dict[str, str] = {
    "digits": N_("Handwritten digits 8×8 (UCI, 1,797 images, bundled); size 8, 16 or 28"),
    "bars": N_("Synthetic oriented bars: horizontal, vertical, / and \\ (4 classes, from a seed)"),
    "shapes": N_("Synthetic shapes: circle, square, triangle, cross (4 classes, from a seed)"),
    "colour-shapes": N_("Synthetic colour shapes: red/green/blue × circle/square/triangle/cross (12 classes, RGB)"),
    "mnist": N_("MNIST handwritten digits 28×28 (70,000 images; downloaded once to the cache)"),
    "fashion-mnist": N_("Fashion-MNIST clothing 28×28 (70,000 images; downloaded once to the cache)"),
    "random": N_("Random images of any shape, random labels: for a stack no data set fits "
                 "(a gradient check needs no data)"),
}

# Options any data set accepts: take a subset after loading (see Dataset.subset).
SUBSET_OPTIONS = ("n_train", "n_test")


def _synthetic(name: str, make: Callable, class_names: list[str]) -> Callable[..., Dataset]:
    def load(size: int = 28, n: int = 2000, seed: int = 0, noise: float = 0.05,
             test_fraction: float = 0.2) -> Dataset:
        size = check_int(name, "size", size, minimum=8)
        n = check_int(name, "n", n, minimum=2 * len(class_names))
        check_limit(size, "MAX_SYNTHETIC_SIZE", name, "size", DataError)
        check_limit(n * size * size, "MAX_SYNTHETIC_PIXELS", name, _("n × size × size ({n:,} × {size}²)").format(
                                                                       n=n, size=size), DataError)
        seed = check_int(name, "seed", seed)
        test_fraction = check_test_fraction(name, test_fraction)
        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0.0 <= noise <= 0.5:
            raise DataError(_("{name}: noise must be a number in [0, 0.5] (standard deviation); got "
                              "{noise!r}").format(name=name, noise=noise))
        images, labels = make(size=size, n=n, seed=seed, noise=float(noise))
        source = {"name_or_path": name, "size": size, "n": n, "seed": seed, "noise": float(noise),
                  "test_fraction": test_fraction}
        # The split draws from its own stream (seed + 1) so it does not repeat the drawing's random numbers.
        return split_dataset(name, source, images, labels, class_names, test_fraction, seed + 1)

    load.__doc__ = f"""Generate the "{name}" set: {', '.join(class_names)}.

    size: image side (>= 8); n: total images (train + test), balanced across classes;
    seed: the same seed gives bit-identical images; noise: Gaussian noise std.
    Images (N, 1, size, size) float32 in [0, 1]; labels (N,) int64.
    """
    return load


def _cached_idx(name: str, download: Callable[..., Path]) -> Callable[..., Dataset]:
    def load() -> Dataset:
        # Loading never downloads: a session or preset naming this set must not make opening a file
        # touch the network. Downloading is the user's explicit action (`visualcnn data download`).
        directory = default_dest(name)
        if not directory.is_dir():
            raise DataError(_("{name}: not downloaded yet (looked in {directory}); download it with "
                              "`visualcnn data download {name}` or visualcnn.data.{download_name}()").format(
                                name=name, directory=directory, download_name=download.__name__))
        return load_idx_dir(directory, name=name, source={"name_or_path": name})

    load.__doc__ = f"""Load {name} from the user's cache directory (never downloads; see {download.__name__})."""
    return load


LOADERS: dict[str, Callable[..., Dataset]] = {
    "digits": load_digits,
    "bars": _synthetic("bars", make_bars, BARS_CLASSES),
    "shapes": _synthetic("shapes", make_shapes, SHAPES_CLASSES),
    "colour-shapes": _synthetic("colour-shapes", make_colour_shapes, COLOUR_SHAPES_CLASSES),
    "mnist": _cached_idx("mnist", download_mnist),
    "fashion-mnist": _cached_idx("fashion-mnist", download_fashion_mnist),
    "random": load_random,
}


def _resolve(name_or_path: str | os.PathLike) -> tuple[str, Callable[..., Dataset], Any]:
    """(display label, loader, first argument or None) for a registry name or a path."""
    if isinstance(name_or_path, str) and name_or_path.lower() in LOADERS:
        return name_or_path.lower(), LOADERS[name_or_path.lower()], None
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path.name, load_idx_dir, path
    if path.suffix.lower() in (".npz", ".npy"):
        if not path.is_file():
            raise DataError(_("{name}: no such file in {parent}").format(
                                name=path.name, parent=path.parent.resolve()))
        return path.name, load_array_file, path
    if path.exists():
        raise DataError(_("{name}: not a data set file; expected a directory of MNIST IDX files or an "
                          ".npz/.npy file").format(name=path.name))
    raise DataError(_("unknown data set {name_or_path!r}: valid names are {DATASETS}; a path to a "
                      "directory of MNIST/Fashion-MNIST IDX files or to an .npz/.npy file also works").format(
                        name_or_path=str(name_or_path), DATASETS=', '.join(DATASETS)))


# Keys a source dict (or keyword arguments) may use for the set itself: Dataset.source writes
# "name_or_path"; presets written by hand may say "name" (a registry name) or "path".
SOURCE_KEYS = ("name_or_path", "name", "path")


def load_dataset(name_or_path: str | os.PathLike | Mapping[str, Any] | None = None, /,
                 **options: Any) -> Dataset:
    """Load a data set by registry name (see DATASETS) or by path, e.g. load_dataset("digits", size=16).

    name_or_path: a name in DATASETS; a directory of MNIST-style IDX files; an .npz/.npy
        file; or a Dataset.source dict, which rebuilds that same data set (also accepted as
        keyword arguments: load_dataset(**ds.source)). In a dict or as a keyword, the set
        may be given as name_or_path, name or path. A registry name wins over a relative
        path of the same name (write "./digits" for the directory).
    options: the loader's own (digits: size, test_fraction, seed; bars/shapes: size, n,
        seed, noise, test_fraction; .npz/.npy: test_fraction, seed, labels_path;
        mnist/fashion-mnist: none; they are never downloaded here), plus n_train / n_test for any set
        (a smaller subset for quick runs).
    """
    if isinstance(name_or_path, Mapping):
        options = {**name_or_path, **options}
        name_or_path = None
    given = [key for key in SOURCE_KEYS if key in options]
    if name_or_path is None and len(given) != 1:
        what = _("both {names}").format(names=_(" and ").join(given)) if given else _("none")
        raise DataError(_("load_dataset: give exactly one data set as name_or_path, name or path (got "
                          "{what}); valid names: {DATASETS}, or a path to an IDX directory or an "
                          ".npz/.npy file").format(what=what, DATASETS=', '.join(DATASETS)))
    if name_or_path is not None and given:
        raise DataError(_("load_dataset: the data set is given twice ({name_or_path!r} and {given}=...)").format(
                            name_or_path=name_or_path, given=given[0]))
    if name_or_path is None:
        name_or_path = options.pop(given[0])
    label, loader, first = _resolve(name_or_path)
    subset = {key: options.pop(key) for key in SUBSET_OPTIONS if key in options}
    allowed = [p for p in inspect.signature(loader).parameters if p not in ("directory", "path", "name", "source")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise DataError(ngettext("{label}: unknown option {unknown} (valid: {valid})",
                                 "{label}: unknown options {unknown} (valid: {valid})", len(unknown)).format(
                            label=label, unknown=', '.join(unknown), valid=', '.join(allowed + list(SUBSET_OPTIONS))))
    dataset = loader(first, **options) if first is not None else loader(**options)
    if subset:
        dataset = dataset.subset(subset.get("n_train"), subset.get("n_test"))
    return dataset


__all__ = ["DATASETS", "LOADERS", "load_dataset"]
