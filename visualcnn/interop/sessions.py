"""An imported model as a Session like any other: a data set of the right shape, the imported weights, step 0.

The session's configuration holds the imported spec and its parameters are the imported ones, so
saving and reopening it (a .vcnn) needs no ONNX file any more.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from ..spec import format_shape
from .onnx_import import ImportedModel, load_onnx
from .onnx_read import ModelImportError
from .report import ImportReport
from visualcnn.i18n import _

#: the import report of each session made from a model (while the session lives)
_REPORTS: "weakref.WeakKeyDictionary[Any, ImportReport]" = weakref.WeakKeyDictionary()

#: the largest image side a synthetic set is generated at for an imported model (memory: n·side² floats)
MAX_SYNTHETIC_SIDE = 64


#: data sets an imported model may step on: (registry name, channels, classes, image sides it comes in)
CANDIDATES = (
    ("digits", 1, 10, (8, 16, 28)),
    ("shapes", 1, 4, range(8, MAX_SYNTHETIC_SIDE + 1)),
    ("colour-shapes", 3, 12, range(8, MAX_SYNTHETIC_SIDE + 1)),
)


def matching_dataset(input_shape: tuple[int, ...], n_classes: int) -> dict[str, Any] | None:
    """The source of a data set whose images have the model's input shape and whose classes it can score.

    The first of CANDIDATES that this installation has, with the model's channels and image side, and
    no more classes than the model scores; None when none fits (vectors, other sizes or channels).
    """
    from ..data.registry import LOADERS

    if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
        return None
    C, H, _ = input_shape
    for name, channels, classes, sides in CANDIDATES:
        if name in LOADERS and C == channels and classes <= n_classes and H in sides:
            return {"name_or_path": name, "size": H}
    return None


def session_for_model(model: ImportedModel, dataset: Any = None, *, dtype: str = "float32", seed: int = 0,
                      batch_size: int = 1, mistakes: Any = ()) -> Any:
    """A Session stepping `model` with its imported weights, on `dataset`, a matching bundled one, or
    random images of its input shape when no data set fits."""
    from ..data import load_dataset
    from ..presets import build_session, check_config

    where = model.report.source
    shape = tuple(model.spec["input_shape"])
    n_classes = model.spec["layers"][-1]["out_features"]
    if dataset is None:
        source = matching_dataset(shape, n_classes)
        if source is not None:
            dataset = load_dataset(source)
        elif len(shape) == 3:            # stepping and the gradient check work on random images of its shape
            from ..data.random_set import random_for
            dataset = random_for(shape, n_classes, seed=seed)
        else:
            raise ModelImportError(
                _("{where}: no data set has {format_shape} inputs with at most {n_classes} classes; "
                  "give one of that shape (an .npz of inputs and labels)").format(
                    where=where, format_shape=format_shape(shape), n_classes=n_classes))
    cfg = check_config({"title": where, "spec": model.spec, "dataset": dict(dataset.source), "dtype": dtype,
                        "seed": seed, "batch_size": batch_size}, where)
    session = build_session(cfg, dataset=dataset, mistakes=mistakes)
    session.restore_state(model.params, session.optimizer.get_state(), 0, session.sampler.get_state())
    session.log.append(_("imported {where}: {report}; data: {data}").format(
        where=where, report="; ".join(model.report.lines()[1:]), data=dataset.describe()))
    _REPORTS[session] = model.report
    return session


def import_report(session: Any) -> ImportReport | None:
    """The import report of a session made from a model here (None for any other session)."""
    return _REPORTS.get(session)


def open_model_session(path: str | Path, dataset: Any = None, **options: Any) -> tuple[Any, ImportedModel]:
    """(session, imported model) for the ONNX file at `path`."""
    model = load_onnx(path)
    return session_for_model(model, dataset, **options), model
