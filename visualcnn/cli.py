"""The command line: `visualcnn [train | gradcheck | snapshot | presets | data] ...`.

`visualcnn` alone opens the GUI. Every error reaches the user as one line and a
non-zero exit status, never a traceback (unless --debug). The GUI is imported
lazily, inside the commands that need it, so the core stays Qt-free.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .cli_argparse import number, number_of_phases, positive_int, seed, size, translated_argparse
from .errors import VisualCNNError
from .i18n import _, ngettext, set_language
from .layers.workspace import keep_freed_memory

PROG = "visualcnn"


class CLIError(VisualCNNError):
    """A bad command-line request (file missing, conflicting options...)."""


# -- helpers -----------------------------------------------------------------------------------

def _add_source(p: argparse.ArgumentParser, resume: bool = False) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--preset", help=_("a bundled preset (see `visualcnn presets`); default digits-small"))
    g.add_argument("--spec", type=Path, help=_("a layer-stack spec or preset JSON file, or an ONNX model (.onnx)"))
    if resume:
        g.add_argument("--resume", type=Path, help=_("continue a session saved by the GUI or by --save"))
    p.add_argument("--data", help=_("bundled set name (digits, bars, shapes), a directory of MNIST IDX files, "
                                    "or an .npz with images and labels"))
    p.add_argument("--seed", type=seed, help=_("seed for initial weights and batch order (0 to 4294967295)"))
    p.add_argument("--dtype", choices=("float32", "float64"))
    p.add_argument("--mistake", action="append", default=[], metavar="NAME",
                   help=_("swap a correct formula for the study note's version (repeatable; see the Mistakes menu)"))
    p.add_argument("--layer-file", type=Path, action="append", default=[],
                   help=_("a Python file defining a custom layer class (its type can then be used in --spec)"))


def _config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    from .io import load_spec
    from .presets import DEFAULT_PRESET, check_config, load_preset

    if args.spec is not None:
        spec_path = args.spec
        cfg = load_preset(spec_path) if _is_config(spec_path) else check_config({"spec": load_spec(spec_path)},
                                                                                 str(spec_path))
    else:
        cfg = load_preset(args.preset or DEFAULT_PRESET)
    if args.seed is not None:
        cfg["seed"] = args.seed
    if args.dtype is not None:
        cfg["dtype"] = args.dtype
    return cfg


def _is_config(path: Path) -> bool:
    from .jsontext import read_json_file
    try:
        data = read_json_file(path, CLIError)
    except CLIError:
        return False            # load_spec reads it again and says what is wrong
    return isinstance(data, dict) and "spec" in data


def _dataset_for(args: argparse.Namespace, cfg: dict[str, Any]):
    from .data import load_dataset
    if args.data:
        return load_dataset(args.data)
    return load_dataset(cfg["dataset"])


def _apply_extensions(args: argparse.Namespace) -> list[str]:
    """Load the custom layer files (their types join the registry) and check the mistake names;
    returns the mistakes to build the session with."""
    from .mistakes import check_names

    mistakes = check_names(args.mistake)          # an unknown name fails before any data is loaded
    if args.layer_file:
        from .custom import load_layer_file
        for path in args.layer_file:
            load_layer_file(path)
    return mistakes


def _session(args: argparse.Namespace):
    from .presets import build_session

    mistakes = _apply_extensions(args)
    if getattr(args, "resume", None) is not None:
        from .io import load_session
        if args.data:
            raise CLIError(_("--data cannot be combined with --resume: the session keeps its own dataset"))
        session = load_session(args.resume)
        if mistakes:
            from .mistakes import apply_to_session
            apply_to_session(session, mistakes)
        return session, {}
    from .interop.commands import is_onnx, onnx_session
    if is_onnx(args.spec):                          # an ONNX model: its spec and its weights
        return onnx_session(args, mistakes), {}
    cfg = _config_from_args(args)
    dataset = _dataset_for(args, cfg)
    if not args.data:           # no data set asked for: a stack no data set fits steps on random images
        from .data.random_set import fit_or_random
        dataset = fit_or_random(cfg["spec"], dataset, say=lambda text: print(text, file=sys.stderr))
    return build_session(cfg, dataset=dataset, mistakes=mistakes), cfg


# -- commands ----------------------------------------------------------------------------------

def cmd_train(args: argparse.Namespace) -> int:
    from .cli_run import StopRequests, save_or_rescue, train_epochs
    from .io import check_writable

    if args.save is not None:
        check_writable(args.save)           # before training, not after: the results would be lost
    session, cfg = _session(args)
    train_cfg = cfg.get("train", {})
    # a resumed session keeps the batch size it was saved with; a preset has its own for training
    default_batch = session.batch_size if args.resume is not None else train_cfg.get("batch_size", 32)
    batch_size = args.batch_size or default_batch
    epochs = args.epochs or train_cfg.get("epochs", 5)
    session.set_batch_size(batch_size)
    # a preset's "train" block may tune the optimizer for its larger training batch; flags win over both
    hyper = {k: train_cfg[k] for k in ("lr", "momentum", "weight_decay") if k in train_cfg}
    hyper.update({k: v for k, v in (("lr", args.lr), ("momentum", args.momentum),
                                    ("weight_decay", args.weight_decay)) if v is not None})
    if hyper:
        session.set_hyper(**hyper)
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    ds = session.dataset
    per_epoch = session.sampler.batches_per_epoch
    h = session.optimizer.hyper()
    print(_("training {n:,} parameters on {data}").format(n=session.network.n_params, data=ds.describe()))
    print(_("batch {batch}, {per_epoch} iterations per epoch, lr {lr:g}, momentum {momentum:g}, "
            "weight decay {weight_decay:g}, {dtype}").format(
        batch=batch_size, per_epoch=per_epoch, lr=h["lr"], momentum=h["momentum"], weight_decay=h["weight_decay"],
        dtype=session.network.dtype.name))
    status = 0
    try:
        with StopRequests() as stop:
            status = train_epochs(session, epochs, per_epoch, stop)
    finally:
        if args.save is not None:
            where, failure = save_or_rescue(session, args.save)
            if failure is not None:
                print(_("{prog}: error: {failure}; the trained session was saved to {where} instead").format(
                    prog=PROG, failure=failure, where=where), file=sys.stderr)
                status = status or 2
            else:
                print(_("saved to {path} (iteration {iteration})").format(path=args.save,
                                                                          iteration=session.iteration))
    return status


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from .gradcheck import gradcheck, update_check

    session, _cfg = _session(args)
    rng = np.random.default_rng(args.seed or 0)
    ds = session.dataset
    idx = rng.choice(len(ds.y_train), size=min(args.batch, len(ds.y_train)), replace=False)
    net = session.network
    print(ngettext("gradient check in float64 on {n} sample of {data}",
                   "gradient check in float64 on {n} samples of {data}", len(idx)).format(n=len(idx),
                                                                                          data=ds.describe()))
    if args.jitter:
        print(_("inputs jittered by N(0, {sigma:g}²): flat image regions would otherwise tie in max-pooling "
                "windows or sit at ReLU's kink, where there is no derivative to check").format(sigma=args.jitter))
    try:
        report = gradcheck(net, ds.x_train[idx], ds.y_train[idx], tol=args.tol, max_entries=args.max_entries,
                           seed=args.seed or 0, jitter=args.jitter)
    except VisualCNNError:
        raise
    except (Exception, SystemExit) as e:  # noqa: BLE001 - a user-written layer may raise anything; one line
        raise CLIError(_("{where}raised {kind}: {error} during the gradient check "
                         "(--debug shows the traceback)").format(where=_failing_layer(e, net),
                                                                 kind=type(e).__name__, error=e)) from e
    print(report.table())
    update = update_check(session.optimizer)
    print((_("update rule: one SGD step follows {rule} (MATH.md §2)") if update.passed
           else _("update rule: one SGD step DOES NOT follow {rule} (MATH.md §2)")).format(
        rule="Δw = −ε ∂C/∂w + α Δw^(t−1) − ελw"))
    report.results.extend(update.results)
    from .gradcheck import dtype_check
    same = dtype_check(net, ds.x_train[idx], ds.y_train[idx])
    print((_("float32 path: analytic gradients agree with float64 on the same numbers "
             "(worst {worst:.1e}, tolerance {tol:.0e})") if same.passed
           else _("float32 path: analytic gradients DO NOT agree with float64 on the same numbers "
                  "(worst {worst:.1e}, tolerance {tol:.0e})")).format(
        worst=max(r.max_rel_error for r in same.results), tol=same.tol))
    report.results.extend(same.failures)
    for r in report.failures:
        print(_("FAILED: layer {k} {type} {name}: max relative error {error:.2e} "
                "on {failing} of {checked} entries").format(k=r.layer, type=r.layer_type, name=r.name,
                                                            error=r.max_rel_error, failing=r.failing.size,
                                                            checked=r.indices.size), file=sys.stderr)
    return 0 if report.passed else 1


def _failing_layer(exc: BaseException, net) -> str:
    """'layer 3 my_layer: ' for the innermost layer of `net` (by type, in any copy of it) in exc's traceback."""
    tb, found = exc.__traceback__, ""
    types_ = {type(layer): i for i, layer in enumerate(net.layers)}
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if type(owner) in types_ and hasattr(owner, "type_name"):
            found = _("layer {k} {type}: ").format(k=types_[type(owner)], type=owner.type_name)
        tb = tb.tb_next
    return found


def cmd_presets(args: argparse.Namespace) -> int:
    from .presets import list_presets
    for p in list_presets():
        print(f"{p['name']:<18} {p['title']}")
        print(f"{'':<18} {p['description']}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    if args.data_command == "download":
        from .data.download import download_fashion_mnist, download_mnist

        def progress(name, done, total):
            if sys.stderr.isatty():
                of = f" / {total / 2**20:.1f}" if total else ""
                sys.stderr.write(f"\r{name}: {done / 2**20:.1f}{of} MB ")
                sys.stderr.flush()
        from .data.download import DEFAULT_MIRROR, FASHION_MNIST_MIRROR, default_dest
        download = download_mnist if args.name == "mnist" else download_fashion_mnist
        mirror = DEFAULT_MIRROR if args.name == "mnist" else FASHION_MNIST_MIRROR
        print(_("downloading {name} from {mirror} into {dest}").format(
            name=args.name, mirror=mirror, dest=args.dest or default_dest(args.name)), flush=True)
        dest = download(args.dest, progress=progress)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        print(_("{name} is in {dest}; train on it with: {command}").format(
            name=args.name, dest=dest, command=f"visualcnn train --preset lenet5 --data {dest}"))
        return 0
    from .data import DATASETS
    for name, text in DATASETS.items():
        print(f"{name:<10} {_(text)}")
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    from ui.snapshot import render_snapshot
    out = render_snapshot(preset=args.preset or "digits-small", phases=args.phases, size=args.size, out=args.out)
    print(_("wrote {path}").format(path=out))
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from ui.app import main as gui_main
    except ImportError as e:
        raise CLIError(_("the GUI cannot start: {error}. Install the project with `make run` "
                         "(it checks Qt's system libraries and says what is missing)").format(error=e)) from None
    argv = []
    preset = getattr(args, "preset", None) or getattr(args, "top_preset", None)
    if preset:
        argv += ["--preset", preset]
    if getattr(args, "open", None):
        argv += [str(args.open)]
    return gui_main(argv)


def cmd_lesson(args: argparse.Namespace) -> int:
    from ui.teach import cmd_lesson as run
    return run(args)


def cmd_animate(args: argparse.Namespace) -> int:
    from ui.teach import cmd_animate as run
    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=_("Step through backpropagation in a small "
                                                              "CNN."))
    parser.add_argument("--debug", action="store_true", help=_("show full tracebacks on errors"))
    # `visualcnn --preset NAME` and `visualcnn FILE.vcnn` open the window: main() routes a bare file to
    # `gui FILE` (a positional here would swallow the command's name: `data list` was "invalid choice")
    parser.add_argument("--preset", dest="top_preset", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help=_("open the window (the default)"))
    p.add_argument("--preset")
    p.add_argument("open", nargs="?", type=Path, help=_("a session (.vcnn) to open"))
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("train", help=_("train headless, with per-epoch loss and accuracy"))
    _add_source(p, resume=True)
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=float)
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--threads", type=positive_int, help=_("BLAS threads (default: all cores)"))
    p.add_argument("--save", type=Path, help=_("save the session here (.vcnn) at the end or on Ctrl-C"))
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("gradcheck", help=_("check every gradient against central differences (exit 1 "
                                           "on failure)"))
    _add_source(p)
    p.add_argument("--batch", type=positive_int, default=2, help=_("samples in the checked batch "
                                                                    "(default 2)"))
    p.add_argument("--max-entries", type=positive_int, default=64,
                   help=_("entries checked per tensor, sampled (default 64)"))
    p.add_argument("--tol", type=number(0, inclusive=False), default=1e-6,
                   help=_("relative error tolerance (default 1e-6)"))
    p.add_argument("--jitter", type=number(0, inclusive=True), default=0.05,
                   help=_("noise added to the images to move them off ties and kinks (default 0.05; 0 "
                          "= none)"))
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser("snapshot", help=_("render the window after N phases to a PNG (for slides)"))
    p.add_argument("--preset")
    p.add_argument("--phases", type=number_of_phases, default=0)
    p.add_argument("--size", type=size, default=(1600, 1000))
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_snapshot)

    p = sub.add_parser("lesson", help=_("open the window on a guided lesson; without a name, list them"))
    p.add_argument("name", nargs="?", help=_("a bundled lesson's name or a lesson file (.toml)"))
    p.add_argument("--step", type=positive_int, help=_("start at this step (default: where you left "
                                                        "it)"))
    p.set_defaults(func=cmd_lesson)

    p = sub.add_parser("animate", help=_("the forward and backward waves of one iteration as a GIF, "
                                         "APNG or MP4"))
    p.add_argument("--preset")
    p.add_argument("--phases", default="all", help=_("all, forward, backward or a number of phases "
                                                     "(default all)"))
    p.add_argument("--size", type=size, default=(1280, 800))
    p.add_argument("--inbetween", type=int, default=0, help=_("cross-faded frames between two phases "
                                                              "(default 0)"))
    p.add_argument("--fps", type=float, default=2.0, help=_("frames per second (default 2)"))
    p.add_argument("--view", choices=("pipeline", "window"), default="pipeline",
                   help=_("the pipeline alone (default) or the whole window"))
    p.add_argument("--no-presentation", action="store_true", help=_("the window's normal text size"))
    p.add_argument("--out", type=Path, required=True, help=_("a .gif, .png (animated PNG) or .mp4 file"))
    p.set_defaults(func=cmd_animate)

    from .interop.commands import add_export_parser
    add_export_parser(sub)

    p = sub.add_parser("presets", help=_("list the bundled presets"))
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("data", help=_("list data sets, or download MNIST"))
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    d = dsub.add_parser("download", help=_("download MNIST into the user cache (checksummed)"))
    d.add_argument("name", choices=("mnist", "fashion-mnist"))
    d.add_argument("--dest", type=Path, help=_("folder to download into (default: the user cache)"))
    dsub.add_parser("list", help=_("list the bundled and synthetic data sets"))
    p.set_defaults(func=cmd_data)
    return parser


def _route_bare_file(argv: list[str], commands: set[str]) -> list[str]:
    """`visualcnn [--debug] [--preset P] FILE` → the same with `gui` before FILE (the window opens FILE).

    Only a word that is no command and names an existing path or a .vcnn/.json file is routed, so a
    mistyped command still gets argparse's "invalid choice" with the list of commands.
    """
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--preset":
            i += 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        if word not in commands and (Path(word).suffix.lower() in (".vcnn", ".json") or Path(word).exists()):
            return [*argv[:i], "gui", *argv[i:]]
        return argv
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    set_language()                  # the system locale's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG): ja_JP → 日本語
    keep_freed_memory()             # a program of ours: its steps reuse freed arrays (layers/workspace.py)
    with translated_argparse():
        parser = build_parser()
        commands = set(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices)
        args = parser.parse_args(_route_bare_file(list(sys.argv[1:] if argv is None else argv), commands))
    if args.command is None:
        args.func = cmd_gui
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(_("{prog}: interrupted").format(prog=PROG), file=sys.stderr)
        return 130
    except (VisualCNNError, OSError) as e:
        if args.debug:
            raise
        print(_("{prog}: error: {error}").format(prog=PROG, error=e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
