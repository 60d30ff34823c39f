"""Layer entries of a spec, as the stack editor makes and shows them (Qt-free): a new layer with every field
filled, a layer turned into another type, and each row's output shape and parameter count."""

from __future__ import annotations

from typing import Any

import numpy as np

from visualcnn.custom import is_user_layer
from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _
from visualcnn.layers import LAYER_TYPES, BuildError
from visualcnn.spec import format_shape, normalize_layer

#: values for required fields when a layer is added from the menu
ADD_DEFAULTS: dict[str, dict[str, Any]] = {
    "conv2d": {"out_channels": 4, "kernel_size": 3},
    "dense": {"out_features": 10},
}
GENERIC_DEFAULTS = {"kernel_size": 2, "out_channels": 4, "out_features": 10}


def describe(cls: Any) -> str:
    """A layer type's description in the current language (a custom layer's as its file says it)."""
    text = getattr(cls, "description", "") or ""
    return _(text) if text else ""


def new_layer(kind: str) -> dict[str, Any]:
    """A layer entry of type `kind` with every field filled (required ones from ADD_DEFAULTS)."""
    cls = LAYER_TYPES[kind]
    entry: dict[str, Any] = {"type": kind}
    for name, f in cls.fields.items():
        if f.required:
            entry[name] = ADD_DEFAULTS.get(kind, {}).get(name, GENERIC_DEFAULTS.get(name, int(f.minimum or 1)))
        else:
            entry[name] = f.default
    return entry


def convert_layer(entry: dict[str, Any], kind: str) -> dict[str, Any]:
    """`entry` turned into a `kind` layer, keeping the options both types share (e.g. kernel_size)."""
    out = new_layer(kind)
    for name in LAYER_TYPES[kind].fields:
        if name in entry:
            out[name] = entry[name]
    return out


def layer_rows(spec: dict[str, Any], network: Any | None) -> list[dict[str, Any]]:
    """Index, type, output shape and parameter count per layer; from the network's summary when the spec
    is valid, else built layer by layer up to the first that fails (later rows have no shape)."""
    if network is not None:
        return [{**row, "shape": format_shape(row["output_shape"]), "description": LAYER_TYPES[row["type"]].description}
                for row in network.summary()]
    rows = []
    shape: tuple[int, ...] | None = tuple(spec.get("input_shape") or ())
    rng = np.random.default_rng(0)
    for i, entry in enumerate(spec.get("layers", [])):
        kind = entry.get("type") if isinstance(entry, dict) else None
        row = {"index": i, "type": str(kind), "shape": "?", "n_params": None, "notes": [],
               "description": getattr(LAYER_TYPES.get(kind), "description", "")}
        if shape is not None and is_user_layer(kind, LAYER_TYPES.get(kind)):
            shape = None        # its __init__/build is user code: only the controller's guarded check runs it
        if shape is not None:
            try:
                norm = normalize_layer(i, entry)
                layer = LAYER_TYPES[kind](**{k: v for k, v in norm.items() if k != "type"})
                layer.build(shape, rng, np.float32)
                shape = layer.output_shape
                row.update(shape=format_shape(shape), n_params=layer.n_params, notes=list(layer.notes))
            except (VisualCNNError, BuildError, TypeError, ValueError):
                shape = None
        rows.append(row)
    return rows

