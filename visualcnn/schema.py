"""One schema for what a session file and a preset describe, checked as rigorously as a spec.

A field is declared once — its type, range, choices, whether it may be missing — and `check`
returns the value or raises one error naming the file, the field's path, the value received and
what would be valid:

    x.vcnn: config.optimizer.decay_biases must be true or false, got "no"
    x.vcnn: iteration must be a whole number from 0 to 9007199254740992, got -5

JSON is loose where Python is strict: true is not 1, 1e300 is not an iteration, "1" is not a
version, an object may not carry keys nobody reads (`nesterov` would be silently ignored).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from . import limits
from .errors import FileFormatError
from visualcnn.i18n import LANGUAGES, N_, SOURCE_LANGUAGE, _


def _join(where: str, key: str) -> str:
    """'x.vcnn: config' + 'seed' -> 'x.vcnn: config.seed'; 'x.vcnn:' + 'iteration' -> 'x.vcnn: iteration'."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _short(value: Any, width: int = 60) -> str:
    import json
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


@dataclass(frozen=True)
class Int:
    minimum: int = 0
    maximum: int = 2**63 - 1

    def check(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise FileFormatError(_("{where} must be a whole number from {minimum} to {maximum}, got "
                                    "{short}").format(
                                      where=where, minimum=self.minimum, maximum=self.maximum, short=_short(value)))
        return value


@dataclass(frozen=True)
class Number:
    minimum: float = -math.inf
    maximum: float = math.inf
    above: bool = False                 # strictly above the minimum
    below: bool = False                 # strictly below the maximum
    non_finite: bool = False            # NaN / ±inf (and null, read as NaN) are valid: a diverged run's loss

    def describe(self) -> str:
        lo = f"{'>' if self.above else '>='} {self.minimum:g}" if self.minimum > -math.inf else ""
        hi = f"{'<' if self.below else '<='} {self.maximum:g}" if self.maximum < math.inf else ""
        if lo and hi:
            return _("a finite number {low} and {high}").format(low=lo, high=hi)
        if lo or hi:
            return _("a finite number {bound}").format(bound=lo or hi)
        return _("a finite number")

    def check(self, value: Any, where: str) -> float:
        if self.non_finite and (value is None or (isinstance(value, float) and not math.isfinite(value))):
            return math.nan if value is None else value
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and (value > self.minimum if self.above else value >= self.minimum)
        ok = ok and (value < self.maximum if self.below else value <= self.maximum)
        if not ok:
            raise FileFormatError(_("{where} must be {describe}, got {short}").format(
                                      where=where, describe=self.describe(), short=_short(value)))
        return float(value) if isinstance(value, float) else value


@dataclass(frozen=True)
class Bool:
    def check(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise FileFormatError(_("{where} must be true or false, got {short}").format(
                                      where=where, short=_short(value)))
        return value


@dataclass(frozen=True)
class Str:
    choices: tuple[str, ...] | None = None
    max_length: int = 4096

    def check(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or len(value) > self.max_length:
            raise FileFormatError(_("{where} must be text (at most {max_length} characters), got "
                                    "{short}").format(where=where, max_length=self.max_length, short=_short(value)))
        if self.choices is not None and value not in self.choices:
            raise FileFormatError(_("{where} must be one of {dims}, got {short}").format(
                                      where=where, dims=', '.join(map(repr, self.choices)), short=_short(value)))
        return value


@dataclass(frozen=True)
class Scalar:
    """Any JSON scalar (a data set option: its loader checks it)."""

    def check(self, value: Any, where: str) -> Any:
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise FileFormatError(_("{where} must be a number, text or true/false, got {short}").format(
                                      where=where, short=_short(value)))
        if isinstance(value, float) and not math.isfinite(value):
            raise FileFormatError(_("{where} must be finite, got {short}").format(where=where, short=_short(value)))
        return value


@dataclass(frozen=True)
class List:
    item: Any
    max_length: int = 1_000_000

    def check(self, value: Any, where: str) -> list:
        if not isinstance(value, list):
            raise FileFormatError(_("{where} must be a list, got {short}").format(where=where, short=_short(value)))
        if len(value) > self.max_length:
            raise FileFormatError(_("{where} has {n_value:,} items; at most {max_length:,} are valid").format(
                                      where=where, n_value=len(value), max_length=self.max_length))
        return [self.item.check(v, f"{where}[{i}]") for i, v in enumerate(value)]


@dataclass(frozen=True)
class Obj:
    """A JSON object: `fields` name -> schema; `optional` names may be missing; `other` checks unlisted keys
    (None: unlisted keys are refused, naming the valid ones); `refused` key -> why it may never appear."""

    fields: dict[str, Any]
    optional: tuple[str, ...] = ()
    other: Any = None
    refused: dict[str, str] = field(default_factory=dict)

    def check(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            raise FileFormatError(_("{where} must be an object, got {short}").format(
                                      where=where, short=_short(value)))
        for key, why in self.refused.items():
            if key in value:
                raise FileFormatError(f"{_join(where, key)}: {_(why)}")
        unknown = [k for k in value if k not in self.fields]
        if unknown and self.other is None:
            raise FileFormatError(_("{where}: unknown key {short}; valid keys: {fields}").format(
                                      where=where.rstrip(':'), short=_short(unknown[0]),
                                      fields=', '.join(self.fields)))
        missing = [k for k in self.fields if k not in value and k not in self.optional]
        if missing:
            raise FileFormatError(_("{where}: missing {key!r}").format(where=where.rstrip(':'), key=missing[0]))
        out = {k: self.fields[k].check(value[k], _join(where, k)) for k in self.fields if k in value}
        out.update({k: self.other.check(value[k], _join(where, k)) for k in unknown})
        return out


class _Nullable:
    """null, or what `schema` accepts."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema

    def check(self, value: Any, where: str) -> Any:
        return None if value is None else self.schema.check(value, where)


class _RngState:
    """NumPy's bit-generator state: an object naming its bit generator (numpy checks the rest)."""

    def check(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict) or not isinstance(value.get("bit_generator"), str):
            raise FileFormatError(_("{where} must be a NumPy bit-generator state (an object with "
                                    "'bit_generator'), got {short}").format(where=where, short=_short(value)))
        return value


def check(value: Any, schema: Any, where: str) -> Any:
    """`value` checked against `schema`; errors start with `where` (a file name)."""
    return schema.check(value, where)


# -- the schemas -----------------------------------------------------------------------------------

HYPER = {
    "lr": Number(0, above=True),
    "momentum": Number(0, 1, below=True),
    "weight_decay": Number(0),
    "decay_biases": Bool(),
}
OPTIMIZER = Obj(HYPER, optional=tuple(HYPER))
TRAIN = Obj({"batch_size": Int(1, limits.MAX_BATCH_SIZE), "epochs": Int(1, 1_000_000), **HYPER},
            optional=("batch_size", "epochs", *HYPER))
DATASET = Obj({"name_or_path": Str(), "name": Str(), "path": Str()}, optional=("name_or_path", "name", "path"),
              other=Scalar(), refused={"download_missing": N_("opening a file never downloads; download "
                                                              "the set yourself with `visualcnn data "
                                                              "download NAME`")})


class Spec:
    """The layer stack: an object here; `Network.from_spec` checks it field by field (spec.py)."""

    def check(self, value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise FileFormatError(_("{where} must be a layer-stack object, got {short}").format(
                                      where=where, short=_short(value)))
        return value


#: a preset's title and description in other languages: {"ja": {"title": ..., "description": ...}}
TEXTS = Obj({"title": Str(), "description": Str(max_length=65536)}, optional=("title", "description"))
TRANSLATIONS = Obj({code: TEXTS for code in LANGUAGES if code != SOURCE_LANGUAGE},
                   optional=tuple(code for code in LANGUAGES if code != SOURCE_LANGUAGE))
CONFIG = Obj({"title": Str(), "description": Str(max_length=65536), "translations": TRANSLATIONS, "spec": Spec(),
              "dataset": DATASET, "optimizer": OPTIMIZER, "batch_size": Int(1, limits.MAX_BATCH_SIZE), "train": TRAIN,
              "dtype": Str(("float32", "float64")), "seed": Int(0, limits.MAX_SEED)},
             optional=("title", "description", "translations", "dataset", "optimizer", "batch_size", "train", "dtype",
                       "seed"))
SAMPLER = Obj({"version": Int(1, 1_000), "n": Int(1, 2**40), "batch_size": Int(1, 2**40),
               "seed": Int(0, limits.MAX_SEED), "epoch": Int(0, limits.MAX_ITERATION),
               "position": Int(0, 2**40), "rng_state": _RngState()})
METRIC = Obj({"iteration": Int(0, limits.MAX_ITERATION), "loss": Number(non_finite=True),
              "accuracy": Number(0, 1, non_finite=True)})


def session_meta(version: int, format_name: str) -> Obj:
    """The schema of a session file's __meta__ (format `format_name`, versions 1 … `version`).

    mistakes: the study-note mistakes the session computes (names; checked against visualcnn.mistakes when
    applied); layer_files: custom layer files the session's spec needs (paths; never loaded by opening).
    """
    return Obj({"format": Str((format_name,)), "version": Int(1, version), "config": CONFIG,
                "iteration": Int(0, limits.MAX_ITERATION), "sampler": SAMPLER,
                "phase_index": Int(0, 2 * limits.MAX_LAYERS + 1), "sampler_after": _Nullable(SAMPLER),
                # an older visualcnn saved every iteration: long lists load (and are summarised); the file's
                # description is bounded by limits.MAX_META_BYTES anyway
                "metrics": List(METRIC),
                "mistakes": List(Str(max_length=100), max_length=64),
                "layer_files": List(Str(), max_length=64)},
               optional=("phase_index", "sampler_after", "metrics", "mistakes", "layer_files"))


__all__ = ["CONFIG", "DATASET", "OPTIMIZER", "SAMPLER", "check", "session_meta"]
