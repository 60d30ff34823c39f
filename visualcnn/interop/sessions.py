"""An imported model as a Session like any other: a data set of the right shape, the imported weights, step 0.

The session's configuration holds the imported spec and its parameters are the imported ones, so
saving and reopening it (a .vcnn) needs no ONNX file any more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..spec import format_shape
from .onnx_import import ImportedModel, load_onnx
from .onnx_read import ModelImportError

#: the largest image side a synthetic set is generated at for an imported model (memory: n·side² floats)
MAX_SYNTHETIC_SIDE = 64


def matching_dataset(input_shape: tuple[int, ...], n_classes: int) -> dict[str, Any] | None:
    """The source of a data set whose images have the model's input shape and whose classes it can score.

    Digits (10 classes) at 8, 16 or 28 pixels; the synthetic shapes (4 classes) at any side from 8 to
    MAX_SYNTHETIC_SIDE; None when no set fits (colour images, vectors, other sizes).
    """
    if len(input_shape) != 3:
        return None
    C, H, W = input_shape
    if C != 1 or H != W:
        return None
    if n_classes >= 10 and H in (8, 16, 28):
        return {"name_or_path": "digits", "size": H}
    if n_classes >= 4 and 8 <= H <= MAX_SYNTHETIC_SIDE:
        return {"name_or_path": "shapes", "size": H}
    return None


def session_for_model(model: ImportedModel, dataset: Any = None, *, dtype: str = "float32", seed: int = 0,
                      batch_size: int = 1, mistakes: Any = ()) -> Any:
    """A Session stepping `model` with its imported weights, on `dataset` or a matching bundled one."""
    from ..data import load_dataset
    from ..presets import build_session, check_config

    where = model.report.source
    shape = tuple(model.spec["input_shape"])
    n_classes = model.spec["layers"][-1]["out_features"]
    if dataset is None:
        source = matching_dataset(shape, n_classes)
        if source is None:
            raise ModelImportError(
                f"{where}: no bundled data set has {format_shape(shape)} images with at most {n_classes} classes; "
                f"give one of that shape (an .npz of images and labels, or a folder of IDX files)")
        dataset = load_dataset(source)
    cfg = check_config({"title": where, "spec": model.spec, "dataset": dict(dataset.source), "dtype": dtype,
                        "seed": seed, "batch_size": batch_size}, where)
    session = build_session(cfg, dataset=dataset, mistakes=mistakes)
    session.restore_state(model.params, session.optimizer.get_state(), 0, session.sampler.get_state())
    session.log.append(f"imported {where}: " + "; ".join(model.report.lines()[1:]))
    return session


def open_model_session(path: str | Path, dataset: Any = None, **options: Any) -> tuple[Any, ImportedModel]:
    """(session, imported model) for the ONNX file at `path`."""
    model = load_onnx(path)
    return session_for_model(model, dataset, **options), model
