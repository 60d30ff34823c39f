"""Save and load specs and sessions: JSON and .npz (allow_pickle=False), written atomically.

A session file (`.vcnn`) is one .npz archive: `__meta__` (JSON) and the arrays that
session_file.py describes (parameters, velocities, the current batch, a pinned input).
It is written to a temporary file beside the target and renamed over it, so a crash
mid-save never destroys the previous file. A corrupt, truncated or foreign file is a
FileFormatError naming the file and the problem; nothing is changed when loading fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from . import schema
from .archive import load_npz
from .atomic import SaveError, atomic_write, check_writable  # noqa: F401 - part of this module's API
from .errors import FileFormatError
from .jsontext import parse_json
from .presets import check_config, read_json
from .session_file import FORMAT, VERSION, LayerFilesNeeded, restore_session, session_state  # noqa: F401 - API
from visualcnn.i18n import _

SESSION_SUFFIX = ".vcnn"


def save_spec(spec: dict[str, Any], path: str | Path) -> Path:
    return atomic_write(path, lambda f: json.dump(spec, f, indent=2), binary=False)


def load_spec(path: str | Path) -> dict[str, Any]:
    """A spec from JSON (a bare spec, or a preset/session configuration with a 'spec' key)."""
    path = Path(path)
    data = read_json(path)
    if isinstance(data, dict) and "spec" in data:
        data = data["spec"]
    if not isinstance(data, dict) or "layers" not in data:
        raise FileFormatError(_("{path}: not a layer-stack spec (expected an object with 'input_shape' "
                                "and 'layers')").format(path=path))
    return data


def save_session(session, path: str | Path) -> Path:
    """Write `session` to `path` (.vcnn) atomically (between two phases, if another thread is stepping it)."""
    with session.lock:
        meta, arrays = session_state(session)
    arrays["__meta__"] = np.array(json.dumps(meta))
    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def read_session_file(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of a session file, fully read and checked, or a FileFormatError."""
    path = Path(path)
    if not path.exists():
        raise FileFormatError(_("{path}: no such file").format(path=path))
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == b"\x93NUM":
        raise FileFormatError(_("{path}: not a visualcnn session (a bare .npy array, not an archive)").format(
                                  path=path))
    # every declared size (members, uncompressed bytes, array shapes) is checked before inflating
    arrays = load_npz(path, FileFormatError, name=str(path), member_limits={"__meta__": "MAX_META_BYTES"})
    if "__meta__" not in arrays:
        raise FileFormatError(_("{path}: not a visualcnn session file (no __meta__ entry); open a "
                                ".vcnn file saved by visualcnn").format(path=path))
    raw = arrays.pop("__meta__")
    if raw.dtype.kind != "U" or raw.shape != ():
        raise FileFormatError(_("{path}: not a visualcnn session file (its __meta__ is {dtype} "
                                "{shape}, not text)").format(path=path, dtype=raw.dtype, shape=raw.shape))
    meta = parse_json(str(raw), _("{path}: the session's description").format(path=path), FileFormatError,
                      allow_nan=True)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise FileFormatError(_("{path}: not a visualcnn session file (format {quoted})").format(
                                  path=path, quoted=_quoted(meta.get('format')))
                              if isinstance(meta, dict) else _("{path}: not a visualcnn session file").format(
                                                                 path=path))
    version = meta.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise FileFormatError(_("{path}: saved by a newer visualcnn (format version {version}, this "
                                "one reads up to {VERSION})").format(path=path, version=version, VERSION=VERSION))
    # one schema, as rigorous as the spec's: every field's type and range, no unknown keys (schema.py)
    meta = schema.check(meta, schema.session_meta(VERSION, FORMAT), f"{path}:")
    meta["config"] = check_config(meta["config"], str(path))
    check_session_arrays(arrays, path)
    return meta, arrays


def _quoted(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def check_session_arrays(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Parameters, velocities and batches must be numbers (not text), finite-sized and of one network's shapes;
    a velocity must have its parameter's shape (the network then checks the parameters' own)."""
    for key, a in arrays.items():
        kind = key.split("/", 1)[0]
        if kind in ("param", "velocity", "batch", "pinned") and key not in ("batch/y", "pinned/y"):
            if a.dtype.kind != "f":
                raise FileFormatError(_("{path}: array {key!r} must hold floating-point numbers, got "
                                        "{dtype}").format(path=path, key=key, dtype=a.dtype))
        elif key in ("batch/y", "pinned/y"):
            if a.dtype.kind not in "iu" or a.ndim != 1:
                raise FileFormatError(_("{path}: array {key!r} must be whole-number labels (N,), got "
                                        "{dtype} {shape}").format(path=path, key=key, dtype=a.dtype, shape=a.shape))
        if kind == "velocity":
            param = arrays.get("param/" + key.split("/", 1)[1])
            if param is not None and param.shape != a.shape:
                raise FileFormatError(_("{path}: array {key!r} has shape {shape}; its parameter has "
                                        "{param_shape}").format(path=path, key=key, shape=a.shape,
                                        param_shape=param.shape))


def load_session(path: str | Path, dataset: Any = None, layer_files: bool = False):
    """A Session restored from `path`, at the phase it was saved in: same spec, weights, velocities,
    hyper-parameters, mistakes, dataset, batch and batch order. A stack with custom layers needs their
    files run: pass layer_files=True only once the user agreed (else LayerFilesNeeded names them)."""
    path = Path(path)
    meta, arrays = read_session_file(path)
    return restore_session(meta, arrays, path, dataset=dataset, layer_files=layer_files)
