"""Presets (assets/presets/NAME.json): a spec with its dataset, hyper-parameters and seed.

The same dictionary shape describes any session's configuration, so a preset,
a saved session and the command line all build sessions through `build_session`:

    {"title": ..., "description": ..., "translations": {"ja": {"title": ..., "description": ...}},
     "spec": {...}, "dataset": {"name": "digits", "size": 8},
     "optimizer": {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4, "decay_biases": true},
     "batch_size": 1, "train": {"batch_size": 16, "epochs": 5, "lr": 0.05}, "dtype": "float32", "seed": 0}

"optimizer" and "batch_size" are for stepping and run mode in the window (batch 1: one image at a
time); "train" is for `visualcnn train`, with a larger batch that can take a larger learning rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import FileFormatError, SpecError
from .network import DTYPES, Network
from .optim import SGD
from visualcnn.i18n import N_, SOURCE_LANGUAGE, _, pick

CONFIG_KEYS = ("title", "description", "translations", "spec", "dataset", "optimizer", "batch_size", "train", "dtype",
               "seed")
DEFAULT_PRESET = "digits-small"


def presets_dir() -> Path:
    from .data.paths import assets_dir
    return assets_dir() / "presets"


def list_presets() -> list[dict[str, str]]:
    """[{"name", "title", "description"}] of the bundled presets, sorted by name; title and description in the
    current language when the preset has them in its "translations", else in English."""
    out = []
    for path in sorted(presets_dir().glob("*.json")):
        cfg = load_preset(path)
        out.append({"name": path.stem, "title": preset_text(cfg, "title", path.stem),
                    "description": preset_text(cfg, "description")})
    return out


def preset_text(cfg: dict[str, Any], key: str, default: str = "") -> str:
    """A preset's "title" or "description" in the current language (English when it has no translation)."""
    texts = {code: t[key] for code, t in cfg.get("translations", {}).items() if key in t}
    return pick({**texts, SOURCE_LANGUAGE: cfg.get(key, default)})


def load_preset(name_or_path: str | Path) -> dict[str, Any]:
    """A preset's configuration, checked, by bundled name or by path to a JSON file."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = presets_dir() / f"{name_or_path}.json"
        if not path.exists():
            names = ", ".join(p.stem for p in sorted(presets_dir().glob("*.json")))
            raise FileFormatError(_("no preset named {name_or_path!r}; bundled presets: {names}").format(
                                      name_or_path=str(name_or_path), names=names))
    return check_config(read_json(path, N_("a valid JSON preset")), str(path))


def read_json(path: str | Path, what: str = N_("valid JSON")) -> Any:
    """The JSON in `path`, or a FileFormatError naming the file: missing, too big, not text, not JSON,
    NaN/Infinity, nested too deep (see visualcnn.jsontext)."""
    from .jsontext import read_json_file
    return read_json_file(path, FileFormatError, what)


def check_config(cfg: Any, where: str) -> dict[str, Any]:
    """Check a session configuration's keys and types; fill defaults. Errors name `where`."""
    if not isinstance(cfg, dict):
        raise FileFormatError(_("{where}: a configuration must be a JSON object, got {type_name}").format(
                                  where=where, type_name=type(cfg).__name__))
    if "spec" not in cfg:
        raise FileFormatError(_("{where}: missing 'spec' (the layer stack)").format(where=where))
    unknown = [k for k in cfg if k not in CONFIG_KEYS]
    if unknown:
        raise FileFormatError(_("{where}: unknown key {unknown!r}; valid keys: {CONFIG_KEYS}").format(
                                  where=where, unknown=unknown[0], CONFIG_KEYS=', '.join(CONFIG_KEYS)))
    from . import schema
    cfg = schema.check(cfg, schema.CONFIG, f"{where}:")      # every field's type and range (schema.py)
    out = {"dataset": {"name_or_path": "digits"}, "optimizer": {}, "batch_size": 1, "train": {},
           "dtype": "float32", "seed": 0, **cfg}
    if out["dtype"] not in DTYPES:
        raise FileFormatError(_("{where}: dtype must be 'float32' or 'float64', got {dtype!r}").format(
                                  where=where, dtype=out['dtype']))
    ds = out["dataset"]
    if isinstance(ds, dict) and "name" in ds:      # presets say "name"; Dataset.source says "name_or_path"
        ds = {"name_or_path": ds["name"], **{k: v for k, v in ds.items() if k != "name"}}
    if not isinstance(ds, dict) or not isinstance(ds.get("name_or_path"), str):
        raise FileFormatError(_("{where}: dataset must be an object with a 'name', got {dataset!r}").format(
                                  where=where, dataset=out['dataset']))
    out["dataset"] = ds
    return out


def build_session(cfg: dict[str, Any], dataset: Any = None, mistakes: Any = (), **overrides: Any):
    """A Session from a configuration (preset or saved); `overrides` replace top-level keys
    (batch_size, dtype, seed) or optimizer settings (lr, momentum, weight_decay, decay_biases).
    `mistakes`: names of study-note mistakes to compute (visualcnn.mistakes.MISTAKES); none by default."""
    from .data import load_dataset
    from .session import Session

    cfg = dict(cfg)
    opt_cfg = dict(cfg.get("optimizer", {}))
    for key in ("lr", "momentum", "weight_decay", "decay_biases"):
        if key in overrides:
            opt_cfg[key] = overrides.pop(key)
    cfg.update(overrides)
    if dataset is None:
        dataset = load_dataset(cfg["dataset"])
    dtype = DTYPES[cfg["dtype"]] if isinstance(cfg["dtype"], str) else np.dtype(cfg["dtype"])
    if mistakes:
        from . import mistakes as _mistakes
        net = _mistakes.build_network(cfg["spec"], mistakes, dtype=dtype, seed=cfg["seed"])
        opt = _mistakes.optimizer_class(mistakes)(net, **opt_cfg)
    else:
        net = Network.from_spec(cfg["spec"], dtype=dtype, seed=cfg["seed"])
        opt = SGD(net, **opt_cfg)
    return Session(net, opt, dataset, batch_size=cfg["batch_size"], seed=cfg["seed"])


def session_from_preset(name: str | Path = DEFAULT_PRESET, **overrides: Any):
    cfg = load_preset(name)
    try:
        session = build_session(cfg, **overrides)
    except SpecError as e:
        raise SpecError(_("preset {name}: {error}").format(name=name, error=e), layer_index=e.layer_index) from None
    session.preset = str(name)
    return session
