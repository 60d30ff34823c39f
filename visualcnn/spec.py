"""The JSON-able layer-stack spec: its validation, defaults and errors.

    {"input_shape": [1, 28, 28],
     "layers": [{"type": "conv2d", "out_channels": 6, "kernel_size": 5}, {"type": "sigmoid"}, ...],
     "loss": {"type": "softmax_cross_entropy", "reduction": "mean"}}

`normalize_spec` checks the structure and every field (types, ranges, unknown
names) and fills the defaults; the shapes are checked by `Network.from_spec`,
which builds each layer on its incoming shape. Every problem is a `SpecError`
naming the layer index and type, the value received and what would be valid.
"""

from __future__ import annotations

import copy
import difflib
import math
from typing import Any

from . import limits
from .errors import SpecError
from .layers import LAYER_TYPES, Field
from .losses import LOSS_TYPES

DEFAULT_LOSS = {"type": "softmax_cross_entropy", "reduction": "mean"}
TOP_LEVEL_KEYS = ("input_shape", "layers", "loss")


def _suggest(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):          # JSON true/false is never a size
        return bool in kinds
    if float in kinds and isinstance(value, int):
        return True
    return isinstance(value, kinds)


def _check_field(where: str, name: str, value: Any, field: Field) -> Any:
    if value is None and field.default is None and not field.required:
        return None
    if not _is_kind(value, field.kind):
        raise SpecError(f"{where}: {name} must be {field.describe()}, got {_short(value)}")
    if field.choices is not None and value not in field.choices:
        raise SpecError(f"{where}: {name} must be one of {field.describe()}, got {_short(value)}")
    if field.minimum is not None and value < field.minimum:
        raise SpecError(f"{where}: {name} must be >= {field.minimum:g}, got {_short(value)}")
    if field.maximum is not None and value > field.maximum:
        raise SpecError(f"{where}: {name} must be {field.describe()} ({field.help}), got {_short(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        # JSON's NaN / Infinity: no size, rate or norm order is infinite
        raise SpecError(f"{where}: {name} must be a finite number, got {'NaN' if value != value else _short(value)}")
    if isinstance(value, int) and not isinstance(value, bool):
        # a size this large would allocate before any shape check could refuse it
        limits.check(value, "MAX_LAYER_UNITS", where, name, SpecError)
    return value


def normalize_layer(index: int, entry: Any, layer_types: dict | None = None) -> dict[str, Any]:
    """One layer entry, checked and with its defaults filled in."""
    layer_types = LAYER_TYPES if layer_types is None else layer_types
    if not isinstance(entry, dict):
        raise SpecError(f"layer {index}: must be an object like {{\"type\": \"relu\"}}, got {_short(entry)}",
                        layer_index=index)
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in layer_types:
        valid = list(layer_types)
        raise SpecError(f"layer {index}: unknown type {kind!r}{_suggest(str(kind), valid)}; "
                        f"valid types: {', '.join(valid)}", layer_index=index)
    cls = layer_types[kind]
    where = f"layer {index} {kind}"
    unknown = [k for k in entry if k != "type" and k not in cls.fields]
    if unknown:
        valid = ", ".join(cls.fields) or "none"
        raise SpecError(f"{where}: unknown field {unknown[0]!r}{_suggest(unknown[0], list(cls.fields))}; "
                        f"valid fields: {valid}", layer_index=index)
    out: dict[str, Any] = {"type": kind}
    for name, field in cls.fields.items():
        if name in entry:
            try:
                out[name] = _check_field(where, name, entry[name], field)
            except SpecError as e:
                raise SpecError(str(e), layer_index=index) from None
        elif field.required:
            raise SpecError(f"{where}: missing field {name!r} ({field.help}; {field.describe()})",
                            layer_index=index)
        else:
            out[name] = field.default
    return out


def normalize_spec(spec: Any, layer_types: dict | None = None) -> dict[str, Any]:
    """A deep copy of `spec` with every field checked and every default filled in."""
    if not isinstance(spec, dict):
        raise SpecError(f"a spec must be an object with keys {', '.join(TOP_LEVEL_KEYS)}; "
                        f"got {type(spec).__name__}")
    unknown = [k for k in spec if k not in TOP_LEVEL_KEYS]
    if unknown:
        raise SpecError(f"spec: unknown key {unknown[0]!r}; valid keys: {', '.join(TOP_LEVEL_KEYS)}")
    shape = spec.get("input_shape")
    if (not isinstance(shape, (list, tuple)) or len(shape) not in (1, 3)
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)):
        raise SpecError(f"spec: input_shape must be [C, H, W] or [D] of positive integers, got {_short(shape)}")
    limits.check(math.prod(shape), "MAX_LAYER_UNITS", "spec", "input_shape's size", SpecError)
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers:
        raise SpecError(f"spec: layers must be a non-empty list of layer objects, got {_short(layers)}")
    limits.check(len(layers), "MAX_LAYERS", "spec", "the number of layers", SpecError)
    loss = spec.get("loss", DEFAULT_LOSS)
    if not isinstance(loss, dict) or not isinstance(loss.get("type"), str) or loss["type"] not in LOSS_TYPES:
        raise SpecError(f"spec: loss must be {{\"type\": \"softmax_cross_entropy\"}}, got {_short(loss)}")
    unknown = [k for k in loss if k not in ("type", "reduction")]
    if unknown:
        raise SpecError(f"spec: loss has unknown field {unknown[0]!r}; valid fields: type, reduction")
    reduction = loss.get("reduction", "mean")
    if reduction not in LOSS_TYPES[loss["type"]].reductions:
        raise SpecError(f"spec: loss reduction must be 'mean' or 'sum', got {_short(reduction)}")
    return {
        "input_shape": [int(s) for s in shape],
        "layers": [normalize_layer(i, e, layer_types) for i, e in enumerate(copy.deepcopy(layers))],
        "loss": {"type": loss["type"], "reduction": reduction},
    }


def _short(value: Any, width: int = 80) -> str:
    """repr(value), cut to `width` characters: a message quotes what it got, not a megabyte of it."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def format_shape(shape: tuple[int, ...] | list[int]) -> str:
    """6×24×24 for (6, 24, 24)."""
    return "×".join(str(s) for s in shape)
