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
from visualcnn.i18n import _

DEFAULT_LOSS = {"type": "softmax_cross_entropy", "reduction": "mean"}
TOP_LEVEL_KEYS = ("input_shape", "layers", "loss")


def _suggest(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    return _(" (did you mean {close!r}?)").format(close=close[0]) if close else ""


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
        raise SpecError(_("{where}: {name} must be {describe}, got {short}").format(
                            where=where, name=name, describe=field.describe(), short=_short(value)))
    if field.choices is not None and value not in field.choices:
        raise SpecError(_("{where}: {name} must be one of {describe}, got {short}").format(
                            where=where, name=name, describe=field.describe(), short=_short(value)))
    if field.minimum is not None and value < field.minimum:
        raise SpecError(_("{where}: {name} must be >= {minimum:g}, got {short}").format(
                            where=where, name=name, minimum=field.minimum, short=_short(value)))
    if field.maximum is not None and value > field.maximum:
        raise SpecError(_("{where}: {name} must be {describe}, got {short} ({help})").format(
                            where=where, name=name, describe=field.describe(), short=_short(value), help=_(field.help)))
    if isinstance(value, float) and not math.isfinite(value):
        # JSON's NaN / Infinity: no size, rate or norm order is infinite
        raise SpecError(_("{where}: {name} must be a finite number, got {value}").format(
                            where=where, name=name, value='NaN' if value != value else _short(value)))
    if isinstance(value, int) and not isinstance(value, bool):
        # a size this large would allocate before any shape check could refuse it
        limits.check(value, "MAX_LAYER_UNITS", where, name, SpecError)
    return value


def normalize_layer(index: int, entry: Any, layer_types: dict | None = None) -> dict[str, Any]:
    """One layer entry, checked and with its defaults filled in."""
    layer_types = LAYER_TYPES if layer_types is None else layer_types
    if not isinstance(entry, dict):
        raise SpecError(_('layer {index}: must be an object like {{"type": "relu"}}, got {short}').format(
                            index=index, short=_short(entry)),
                        layer_index=index)
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in layer_types:
        valid = list(layer_types)
        raise SpecError(_("layer {index}: unknown type {kind!r}{suggest}; valid types: {valid}").format(
                            index=index, kind=kind, suggest=_suggest(str(kind), valid),
                            valid=', '.join(valid)), layer_index=index)
    cls = layer_types[kind]
    where = _("layer {index} {kind}").format(index=index, kind=kind)
    unknown = [k for k in entry if k != "type" and k not in cls.fields]
    if unknown:
        valid = ", ".join(cls.fields) or _("none")
        raise SpecError(_("{where}: unknown field {unknown!r}{suggest}; valid fields: {valid}").format(
                            where=where, unknown=unknown[0], suggest=_suggest(unknown[0], list(cls.fields)),
                            valid=valid), layer_index=index)
    out: dict[str, Any] = {"type": kind}
    for name, field in cls.fields.items():
        if name in entry:
            try:
                out[name] = _check_field(where, name, entry[name], field)
            except SpecError as e:
                raise SpecError(str(e), layer_index=index) from None
        elif field.required:
            raise SpecError(_("{where}: missing field {name!r} ({help}; {describe})").format(
                                where=where, name=name, help=_(field.help), describe=field.describe()),
                            layer_index=index)
        else:
            out[name] = field.default
    return out


def normalize_spec(spec: Any, layer_types: dict | None = None) -> dict[str, Any]:
    """A deep copy of `spec` with every field checked and every default filled in."""
    if not isinstance(spec, dict):
        raise SpecError(_("a spec must be an object with keys {TOP_LEVEL_KEYS}; got {type_name}").format(
                            TOP_LEVEL_KEYS=', '.join(TOP_LEVEL_KEYS), type_name=type(spec).__name__))
    unknown = [k for k in spec if k not in TOP_LEVEL_KEYS]
    if unknown:
        raise SpecError(_("spec: unknown key {unknown!r}; valid keys: {TOP_LEVEL_KEYS}").format(
                            unknown=unknown[0], TOP_LEVEL_KEYS=', '.join(TOP_LEVEL_KEYS)))
    shape = spec.get("input_shape")
    if (not isinstance(shape, (list, tuple)) or len(shape) not in (1, 3)
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)):
        raise SpecError(_("spec: input_shape must be [C, H, W] or [D] of positive integers, got {short}").format(
                            short=_short(shape)))
    limits.check(math.prod(shape), "MAX_LAYER_UNITS", "spec", _("input_shape's size"), SpecError)
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers:
        raise SpecError(_("spec: layers must be a non-empty list of layer objects, got {short}").format(
                            short=_short(layers)))
    limits.check(len(layers), "MAX_LAYERS", "spec", _("the number of layers"), SpecError)
    loss = spec.get("loss", DEFAULT_LOSS)
    if not isinstance(loss, dict) or not isinstance(loss.get("type"), str) or loss["type"] not in LOSS_TYPES:
        raise SpecError(_('spec: loss must be {{"type": "softmax_cross_entropy"}}, got {short}').format(
                            short=_short(loss)))
    unknown = [k for k in loss if k not in ("type", "reduction")]
    if unknown:
        raise SpecError(_("spec: loss has unknown field {unknown!r}; valid fields: type, reduction").format(
                            unknown=unknown[0]))
    reduction = loss.get("reduction", "mean")
    if reduction not in LOSS_TYPES[loss["type"]].reductions:
        raise SpecError(_("spec: loss reduction must be 'mean' or 'sum', got {short}").format(
                            short=_short(reduction)))
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
