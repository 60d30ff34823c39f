"""The command line's side of interop: `visualcnn export …` and `--spec model.onnx` (cli.py only dispatches here).

    visualcnn export --preset digits-small --onnx net.onnx --pytorch net.py
    visualcnn export --resume run.vcnn --onnx trained.onnx        # the session's trained weights
    visualcnn export --spec tinyvgg.onnx --pytorch tinyvgg.py      # ONNX in, PyTorch code out
    visualcnn train --spec tinyvgg.onnx --epochs 1                 # an ONNX model wherever a spec goes
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .onnx_export import ExportError
from visualcnn.i18n import _

ONNX_SUFFIX = ".onnx"


def is_onnx(path: Path | None) -> bool:
    return path is not None and Path(path).suffix.lower() == ONNX_SUFFIX


def onnx_session(args: argparse.Namespace, mistakes: Any = ()) -> Any:
    """The session for `--spec model.onnx` (with --data, --seed, --dtype if given); prints the import report."""
    from ..data import load_dataset
    from .sessions import open_model_session

    dataset = load_dataset(args.data) if getattr(args, "data", None) else None
    options = {"mistakes": mistakes}
    if getattr(args, "seed", None) is not None:
        options["seed"] = args.seed
    if getattr(args, "dtype", None) is not None:
        options["dtype"] = args.dtype
    session, model = open_model_session(args.spec, dataset, **options)
    print(model.report.text())
    return session


def add_export_parser(sub: Any) -> None:
    """The `export` sub-command's arguments (its body is `cmd_export`)."""
    p = sub.add_parser("export", help=_("write a network and its weights as ONNX and/or PyTorch code"))
    g = p.add_mutually_exclusive_group()
    g.add_argument("--preset", help=_("a bundled preset (its initial weights); default digits-small"))
    g.add_argument("--spec", type=Path, help=_("a spec or preset JSON file, or an ONNX model"))
    g.add_argument("--resume", type=Path, help=_("a saved session (.vcnn): its current weights"))
    p.add_argument("--seed", type=int, help=_("seed of the initial weights (preset or spec)"))
    p.add_argument("--dtype", choices=("float32", "float64"), help=_("precision of the written weights"))
    p.add_argument("--onnx", type=Path, metavar="OUT.onnx", help=_("write an ONNX model (opset 17) here"))
    p.add_argument("--pytorch", type=Path, metavar="OUT.py",
                   help=_("write a PyTorch nn.Module here, with its weights beside it as OUT.npz"))
    p.set_defaults(func=cmd_export)


def _network(args: argparse.Namespace) -> tuple[Any, str]:
    import numpy as np

    from ..io import load_session, load_spec
    from ..network import Network
    from ..presets import DEFAULT_PRESET, load_preset
    from .onnx_import import load_onnx

    dtype = np.dtype(args.dtype) if args.dtype else None
    if args.resume is not None:
        net = load_session(args.resume).network
        return (net.copy(dtype) if dtype is not None else net), str(args.resume)
    if is_onnx(args.spec):
        return load_onnx(args.spec).network(dtype or np.float32), str(args.spec)
    if args.spec is not None:
        cfg = load_preset(args.spec) if args.spec.suffix == ".json" and "spec" in _json(args.spec) else None
        spec = cfg["spec"] if cfg else load_spec(args.spec)
        seed = cfg.get("seed", 0) if cfg else 0
        where = str(args.spec)
    else:
        cfg = load_preset(args.preset or DEFAULT_PRESET)
        spec, seed, where = cfg["spec"], cfg["seed"], _("preset {name}").format(name=args.preset or DEFAULT_PRESET)
    seed = args.seed if args.seed is not None else seed
    return Network.from_spec(spec, dtype=dtype or np.float32, seed=seed), where


def _json(path: Path) -> Any:
    from ..presets import read_json
    data = read_json(path)
    return data if isinstance(data, dict) else {}


def cmd_export(args: argparse.Namespace) -> int:
    from .onnx_export import OPSET, to_onnx
    from .pytorch_export import to_pytorch

    if args.onnx is None and args.pytorch is None:
        raise ExportError(_("export: say what to write: --onnx OUT.onnx and/or --pytorch OUT.py"))
    if args.onnx is not None and args.onnx.suffix.lower() != ONNX_SUFFIX:
        raise ExportError(_("export: --onnx {onnx}: the file name must end in .onnx").format(onnx=args.onnx))
    net, where = _network(args)
    what = _("{n_layers} layers, {n_params:,} parameters, {name}").format(
               n_layers=len(net.layers), n_params=net.n_params, name=net.dtype.name)
    if args.onnx is not None:
        path = to_onnx(net, args.onnx)
        print(_("wrote {path} (ONNX opset {OPSET}; {what}; from {where})").format(
                  path=path, OPSET=OPSET, what=what, where=where))
    if args.pytorch is not None:
        code, weights = to_pytorch(net, args.pytorch)
        print(_("wrote {code} and {weights} (PyTorch nn.Module; {what}; from {where})").format(
                  code=code, weights=weights, what=what, where=where))
    return 0
