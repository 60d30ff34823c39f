"""JSON from files the user opens: size, nesting and non-finite numbers checked, one error naming the file.

Python's `json` accepts `NaN` and `Infinity` (not JSON at all) and fails with a RecursionError on
a document nested 100 000 deep; a spec, preset or session description needs neither.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import limits
from .reading import opened
from visualcnn.i18n import N_, _


def _no_constant(name: str) -> Any:
    raise ValueError(_("{name} is not a JSON number; write a finite number").format(name=name))


def _depth(value: Any) -> int:
    """How deeply `value` nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            if deepest > limits.MAX_JSON_DEPTH:
                return deepest
            stack.extend((v, depth + 1) for v in item)
    return deepest


def parse_json(text: str, where: str, error: type[Exception], what: str = N_("valid JSON"),
               allow_nan: bool = False) -> Any:
    """The value of JSON `text`, or error(...) naming `where`: not JSON, NaN/Infinity, or nested too deep.

    allow_nan: read NaN and Infinity as floats (what Python's json writes for them; a schema then says
    where they are valid — a diverged run's loss — and where not).
    """
    try:
        value = json.loads(text, **({} if allow_nan else {"parse_constant": _no_constant}))
    except RecursionError:
        raise error(_("{where}: not {what}: nested deeper than the limit of {MAX_JSON_DEPTH} "
                      "(visualcnn.limits.MAX_JSON_DEPTH)").format(
                        where=where, what=_(what), MAX_JSON_DEPTH=limits.MAX_JSON_DEPTH)) from None
    except ValueError as e:                 # JSONDecodeError and the NaN/Infinity refusal
        raise error(_("{where}: not {what} ({error})").format(where=where, what=_(what), error=e)) from None
    if _depth(value) > limits.MAX_JSON_DEPTH:
        raise error(_("{where}: not {what}: nested deeper than the limit of {MAX_JSON_DEPTH} "
                      "(visualcnn.limits.MAX_JSON_DEPTH)").format(
                        where=where, what=_(what), MAX_JSON_DEPTH=limits.MAX_JSON_DEPTH))
    return value


def read_json_file(path: str | Path, error: type[Exception], what: str = N_("valid JSON")) -> Any:
    """The JSON in `path`, or error(...) naming the file: missing, a folder, too big, not text, not JSON."""
    path = Path(path)
    with opened(path, error, str(path)) as (f, _size):
        raw = f.read(limits.MAX_JSON_FILE_BYTES + 1)
    limits.check(len(raw), "MAX_JSON_FILE_BYTES", str(path), _("the file's size"), error, "bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(_("{path}: not {what} (not UTF-8 text: {error})").format(path=path, what=_(what),
                                                                            error=e)) from None
    return parse_json(text, str(path), error, what)


__all__ = ["parse_json", "read_json_file"]
