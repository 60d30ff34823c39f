"""What a session file holds about the session, and how a session is rebuilt from it (io.py reads and
writes the file itself).

The meta JSON (format version 2) has, besides format and version:
    config          spec, dataset, optimizer, batch size (the one the next fetched batch uses), dtype, seed
    iteration       the iteration the session stands in
    phase_index     the phase the next step runs (0 … 2L+1): a save between two phases resumes there
    sampler         the batch order at the *start* of that iteration
    sampler_after   the batch order after that iteration's batch was fetched, or null before the fetch
    metrics         [{iteration, loss, accuracy}] of the completed iterations
    mistakes        [names] of the study-note mistakes the session computes (visualcnn.mistakes)
    layer_files     [absolute paths] of the Python files that define the stack's custom layer types
and the arrays: param/I/K and velocity/I/K (layer I's parameter K at the iteration's start and its
momentum velocity), batch/x and batch/y (the iteration's batch, once fetched), pinned/x and pinned/y
(the images the session steps on instead of the dataset's, if pinned).

Version 1 files (no phase_index, batch or mistakes) open at the start of their iteration as before.
A custom layer file is code: it is run only when the caller says the user agreed (`layer_files=True`);
otherwise opening such a session raises LayerFilesNeeded naming the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import FileFormatError, VisualCNNError
from visualcnn.i18n import _

FORMAT = "visualcnn-session"
VERSION = 2
_PAIRS = ("batch", "pinned")


class LayerFilesNeeded(FileFormatError):
    """A session whose stack uses custom layer types defined in Python files not loaded yet.

    `paths`: the files named by the session; `types`: the custom types the stack needs. Open it again
    with layer_files=True once the user agreed to run those files.
    """

    def __init__(self, session_path: Path, paths: list[str], types: list[str]) -> None:
        self.session_path, self.paths, self.types = session_path, paths, types
        files = ", ".join(paths) if paths else _("no file (the session names none)")
        super().__init__(_("{session_path}: the layer stack uses custom layer type(s) {types}, defined "
                           "in {files}; loading a layer file runs the Python code in it — load it only "
                           "if you trust it (the window asks; on the command line pass --layer-file)").format(
                             session_path=session_path, types=', '.join(types), files=files))


def layer_files(network: Any) -> list[str]:
    """The files that define `network`'s custom layer types (absolute paths, in stack order, once each)."""
    from .custom import CUSTOM_TYPES, SOURCES

    out: list[str] = []
    for layer in network.layers:
        src = SOURCES.get(layer.type_name) if layer.type_name in CUSTOM_TYPES else None
        if src is not None and str(src) not in out:
            out.append(str(src))
    return out


def session_state(session: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) describing `session` completely enough to continue it bit for bit."""
    from .mistakes import active

    state = session.file_state()
    meta = {
        "format": FORMAT, "version": VERSION,
        "config": session.config(),
        "iteration": state["iteration"],
        "phase_index": state["phase_index"],
        "sampler": state["sampler"],
        "sampler_after": state["sampler_after"],
        "metrics": [{"iteration": m.iteration, "loss": m.loss, "accuracy": m.accuracy}
                    for m in session.metrics],
        "mistakes": active(session.network, session.optimizer),
        "layer_files": layer_files(session.network),
    }
    arrays: dict[str, np.ndarray] = {}
    for i, (params, vel) in enumerate(zip(state["params"], state["velocity"])):
        for k in params:
            arrays[f"param/{i}/{k}"] = params[k]
            arrays[f"velocity/{i}/{k}"] = vel[k]
    for name in _PAIRS:
        if state[name] is not None:
            arrays[f"{name}/x"], arrays[f"{name}/y"] = state[name]
    return meta, arrays


def _names(meta: dict[str, Any], key: str, path: Path) -> list[str]:
    value = meta.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FileFormatError(_("{path}: {key!r} must be a list of names, got {value!r}").format(
                                  path=path, key=key, value=value))
    return value


def _load_layer_files(meta: dict[str, Any], path: Path, allowed: bool) -> None:
    """Make the stack's custom types known: run the session's layer files if allowed, else say which are needed."""
    from .custom import CustomLayerError, load_layer_file
    from .layers import LAYER_TYPES

    files = _names(meta, "layer_files", path)
    layers = meta["config"]["spec"].get("layers") if isinstance(meta["config"]["spec"], dict) else None
    needed = [e.get("type") for e in layers or [] if isinstance(e, dict) and isinstance(e.get("type"), str)
              and e.get("type") not in LAYER_TYPES]
    if not needed or not files:
        return                          # all known (or a plain unknown type: the spec check names it)
    if not allowed:
        raise LayerFilesNeeded(path, files, list(dict.fromkeys(needed)))
    for file in files:
        try:
            load_layer_file(file)
        except CustomLayerError as e:
            raise FileFormatError(_("{path}: its layer file {error}").format(path=path, error=e)) from None


def _pair(arrays: dict[str, np.ndarray], name: str, path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    if f"{name}/x" not in arrays and f"{name}/y" not in arrays:
        return None
    if f"{name}/x" not in arrays or f"{name}/y" not in arrays:
        raise FileFormatError(_("{path}: {name}/x and {name}/y come together; the file has only one of "
                                "them").format(path=path, name=name))
    return arrays[f"{name}/x"], arrays[f"{name}/y"]


def restore_session(meta: dict[str, Any], arrays: dict[str, np.ndarray], path: Path, dataset: Any = None,
                    layer_files: bool = False):
    """The Session described by (meta, arrays) read from `path` (checked by io.read_session_file)."""
    from .history import IterationMetrics
    from .mistakes import check_names
    from .presets import build_session

    _load_layer_files(meta, path, layer_files)
    try:
        mistakes = check_names(_names(meta, "mistakes", path))
        session = build_session(meta["config"], dataset=dataset, mistakes=mistakes)
        layers = session.network.layers
        L = len(layers)
        params = [{k: arrays[f"param/{i}/{k}"] for k in layer.params} for i, layer in enumerate(layers)]
        velocity = [{k: arrays[f"velocity/{i}/{k}"] for k in layer.params} for i, layer in enumerate(layers)]
        known = {f"{kind}/{i}/{k}" for kind in ("param", "velocity") for i in range(L) for k in layers[i].params}
        extra = set(arrays) - known - {f"{n}/{a}" for n in _PAIRS for a in "xy"}
        if extra:
            raise FileFormatError(_("{path}: arrays {extra} do not belong to this network").format(
                                      path=path, extra=sorted(extra)[:3]))
        metrics = [IterationMetrics(int(m["iteration"]), float(m["loss"]), float(m["accuracy"]))
                   for m in meta.get("metrics", [])]
        phase = meta.get("phase_index", 0)
        if isinstance(phase, bool) or not isinstance(phase, int):
            raise FileFormatError(_("{path}: phase_index must be a whole number, got {phase!r}").format(
                                      path=path, phase=phase))
        session.restore_state(params, velocity, int(meta["iteration"]), meta["sampler"], metrics,
                              phase_index=phase, batch=_pair(arrays, "batch", path),
                              sampler_after=meta.get("sampler_after"), pinned=_pair(arrays, "pinned", path))
    except KeyError as e:
        raise FileFormatError(_("{path}: missing array {key!r} for this network").format(
                                  path=path, key=e.args[0])) from None
    except FileFormatError:
        raise
    except VisualCNNError as e:
        raise FileFormatError(f"{path}: {e}") from None
    session.path = path
    return session


__all__ = ["FORMAT", "VERSION", "LayerFilesNeeded", "layer_files", "restore_session", "session_state"]
