"""Save and load specs and sessions: JSON and .npz (allow_pickle=False), written atomically.

A session file (`.vcnn`) is one .npz archive: `__meta__` (JSON) and the arrays that
session_file.py describes (parameters, velocities, the current batch, a pinned input).
It is written to a temporary file beside the target and renamed over it, so a crash
mid-save never destroys the previous file. A corrupt, truncated or foreign file is a
FileFormatError naming the file and the problem; nothing is changed when loading fails.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import FileFormatError
from .presets import check_config, read_json
from .session_file import FORMAT, VERSION, LayerFilesNeeded, restore_session, session_state  # noqa: F401 - API

SESSION_SUFFIX = ".vcnn"


def atomic_write(path: str | Path, write: Callable[[Any], None], binary: bool = True) -> Path:
    """Call write(file) on a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_spec(spec: dict[str, Any], path: str | Path) -> Path:
    return atomic_write(path, lambda f: json.dump(spec, f, indent=2), binary=False)


def load_spec(path: str | Path) -> dict[str, Any]:
    """A spec from JSON (a bare spec, or a preset/session configuration with a 'spec' key)."""
    path = Path(path)
    data = read_json(path)
    if isinstance(data, dict) and "spec" in data:
        data = data["spec"]
    if not isinstance(data, dict) or "layers" not in data:
        raise FileFormatError(f"{path}: not a layer-stack spec (expected an object with 'input_shape' and 'layers')")
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
        raise FileFormatError(f"{path}: no such file")
    try:
        # our own handle: np.load leaves its file open when the archive turns out to be corrupt
        with open(path, "rb") as fh:
            z = np.load(fh, allow_pickle=False)
            if not hasattr(z, "files"):
                raise FileFormatError(f"{path}: not a visualcnn session (a bare .npy array, not an archive)")
            with z:
                if "__meta__" not in z.files:
                    raise FileFormatError(f"{path}: not a visualcnn session file (no __meta__ entry); "
                                          f"open a .vcnn file saved by visualcnn")
                arrays = {k: z[k] for k in z.files}
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
        raise FileFormatError(f"{path}: corrupt or truncated session file ({type(e).__name__}: {e})") from None
    try:
        meta = json.loads(str(arrays.pop("__meta__")))
    except (json.JSONDecodeError, TypeError) as e:
        raise FileFormatError(f"{path}: the session's description is not valid JSON ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise FileFormatError(f"{path}: not a visualcnn session file (format {meta.get('format')!r})"
                              if isinstance(meta, dict) else f"{path}: not a visualcnn session file")
    if meta.get("version", 0) > VERSION:
        raise FileFormatError(f"{path}: saved by a newer visualcnn (format version {meta['version']}, "
                              f"this one reads up to {VERSION})")
    for key in ("config", "iteration", "sampler"):
        if key not in meta:
            raise FileFormatError(f"{path}: the session description lacks {key!r}")
    meta["config"] = check_config(meta["config"], str(path))
    return meta, arrays


def load_session(path: str | Path, dataset: Any = None, layer_files: bool = False):
    """A Session restored from `path`, at the phase it was saved in: same spec, weights, velocities,
    hyper-parameters, mistakes, dataset, batch and batch order. A stack with custom layers needs their
    files run: pass layer_files=True only once the user agreed (else LayerFilesNeeded names them)."""
    path = Path(path)
    meta, arrays = read_session_file(path)
    return restore_session(meta, arrays, path, dataset=dataset, layer_files=layer_files)
