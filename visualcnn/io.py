"""Save and load specs and sessions: JSON and .npz (allow_pickle=False), written atomically.

A session file (`.vcnn`) is one .npz archive:
    __meta__      JSON: format name and version, the configuration (spec, dataset, optimizer,
                  batch size, dtype, seed), the iteration, the sampler state, the metrics
    param/I/K     layer I's parameter K
    velocity/I/K  its momentum velocity
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

from .errors import FileFormatError, VisualCNNError
from .presets import build_session, check_config, read_json

FORMAT = "visualcnn-session"
VERSION = 1
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


def session_state(session) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) describing `session` completely enough to continue training it."""
    meta = {
        "format": FORMAT, "version": VERSION,
        "config": session.config(),
        "iteration": session.iteration,
        "sampler": session.sampler.get_state(),
        "metrics": [{"iteration": m.iteration, "loss": m.loss, "accuracy": m.accuracy}
                    for m in session.metrics],
    }
    arrays: dict[str, np.ndarray] = {}
    cp = session.checkpoint_state()
    for i, (params, vel) in enumerate(zip(cp["params"], cp["velocity"])):
        for k in params:
            arrays[f"param/{i}/{k}"] = params[k]
            arrays[f"velocity/{i}/{k}"] = vel[k]
    return meta, arrays


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


def load_session(path: str | Path, dataset: Any = None):
    """A Session restored from `path`: same spec, weights, velocities, hyper-parameters, dataset and batch order."""
    from .history import IterationMetrics

    path = Path(path)
    meta, arrays = read_session_file(path)
    try:
        session = build_session(meta["config"], dataset=dataset)
        L = len(session.network.layers)
        params = [{k: arrays[f"param/{i}/{k}"] for k in layer.params} for i, layer in
                  enumerate(session.network.layers)]
        velocity = [{k: arrays[f"velocity/{i}/{k}"] for k in layer.params} for i, layer in
                    enumerate(session.network.layers)]
        extra = set(arrays) - {f"{kind}/{i}/{k}" for kind in ("param", "velocity") for i in range(L)
                               for k in session.network.layers[i].params}
        if extra:
            raise FileFormatError(f"{path}: arrays {sorted(extra)[:3]} do not belong to this network")
        metrics = [IterationMetrics(int(m["iteration"]), float(m["loss"]), float(m["accuracy"]))
                   for m in meta.get("metrics", [])]
        session.restore_state(params, velocity, int(meta["iteration"]), meta["sampler"], metrics)
    except KeyError as e:
        raise FileFormatError(f"{path}: missing array {e.args[0]!r} for this network") from None
    except FileFormatError:
        raise
    except VisualCNNError as e:
        raise FileFormatError(f"{path}: {e}") from None
    session.path = path
    return session
