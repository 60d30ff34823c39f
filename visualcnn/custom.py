"""Your own layer: load a Python file that defines Layer subclasses and make their types usable in specs.

    classes = load_layer_file("my_layer.py")      # only ever on an explicit user action
    spec = {..., "layers": [..., {"type": "scaled_tanh"}, ...]}
    Network.from_spec(spec)                       # the type is now known everywhere

The one registry is `visualcnn.layers.LAYER_TYPES` (what the spec validation, Network.from_spec
and the stack editor all read): `register_layer` adds a checked class to it and remembers it in
`CUSTOM_TYPES`; `unregister_layer` / `unregister_all` take custom types out again. Built-in
types can never be replaced. Loading the same file again replaces its classes (edit, reload).

Every problem with a file — syntax error, failing import, exception while it runs, a class
without forward/backward, a name clash — is a `CustomLayerError` naming the file, with the
message and the traceback text. Failures while a session runs the layer are the Session's
`LayerFailure`s; `check_layer` gradient-checks a class on its own.
"""

from __future__ import annotations

import hashlib
import re
import sys
import traceback
import types
from pathlib import Path
from typing import Any

import numpy as np

from .errors import VisualCNNError
from .gradcheck import GradCheckReport
from .layers import LAYER_TYPES, Field, Layer
from visualcnn.i18n import _

#: the built-in types, as they were before any custom layer: never replaced
BUILTIN_TYPES: dict[str, type[Layer]] = dict(LAYER_TYPES)
#: custom type name → class, for the types registered by this module
CUSTOM_TYPES: dict[str, type[Layer]] = {}
#: custom type name → the file it came from (None when registered from code)
SOURCES: dict[str, Path | None] = {}

REQUIRED_METHODS = ("forward", "backward")
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


class CustomLayerError(VisualCNNError):
    """A custom layer file or class that cannot be used: names the file, says why, carries the traceback."""

    def __init__(self, path: str | Path | None, message: str, traceback_text: str = "") -> None:
        where = f"{path}: " if path is not None else ""
        super().__init__(where + message)
        self.path = None if path is None else Path(path)
        self.message = message
        self.traceback_text = traceback_text

    def __reduce__(self):
        return (type(self), (self.path, self.message, self.traceback_text))


def _check_class(cls: Any, path: Path | None) -> None:
    """Raise CustomLayerError unless `cls` is a usable Layer subclass with a type_name of its own."""
    name = getattr(cls, "__name__", repr(cls))
    if not (isinstance(cls, type) and issubclass(cls, Layer)) or cls is Layer:
        raise CustomLayerError(path, _("{name} is not a subclass of visualcnn.layers.Layer").format(name=name))
    type_name = cls.type_name
    if not isinstance(type_name, str) or not _TYPE_NAME.match(type_name):
        raise CustomLayerError(path, _("class {name}: type_name must be a name like 'scaled_tanh' "
                                       "(letters, digits, _ or -), got {type_name!r}").format(
                                         name=name, type_name=type_name))
    if type_name in BUILTIN_TYPES:
        raise CustomLayerError(path, _("class {name}: type {type_name!r} is a built-in layer; give "
                                       "your class a type_name of its own (built-in types: "
                                       "{BUILTIN_TYPES})").format(
                                         name=name, type_name=type_name, BUILTIN_TYPES=', '.join(BUILTIN_TYPES)))
    owner = SOURCES.get(type_name)
    if type_name in CUSTOM_TYPES and (path is None or owner != path):
        owner_text = str(owner) if owner is not None else _("code")
        raise CustomLayerError(path, _("class {name}: type {type_name!r} is already defined by "
                                       "{owner}; choose another type_name").format(
                                         name=name, type_name=type_name, owner=owner_text))
    missing = [m for m in REQUIRED_METHODS if getattr(cls, m) is getattr(Layer, m)]
    if missing:
        raise CustomLayerError(path, _("class {name} does not define {missing}; every layer needs "
                                       "forward(x) -> y and backward(dout) -> dx (see "
                                       "assets/layer_template.py)").format(
                                         name=name, missing=_(" and ").join(missing)))
    fields = cls.fields
    if not isinstance(fields, dict) or not all(isinstance(f, Field) for f in fields.values()):
        raise CustomLayerError(path, _("class {name}: fields must be a dict of option name -> "
                                       "visualcnn.layers.Field, got {fields!r}").format(name=name, fields=fields))


def register_layer(cls: type[Layer], source: str | Path | None = None) -> type[Layer]:
    """Check `cls` and add its type to the registry (replacing an earlier class from the same file)."""
    path = None if source is None else Path(source).resolve()
    _check_class(cls, path)
    LAYER_TYPES[cls.type_name] = cls
    CUSTOM_TYPES[cls.type_name] = cls
    SOURCES[cls.type_name] = path
    return cls


def unregister_layer(type_name: str) -> None:
    """Take a custom type out of the registry (built-ins cannot be removed)."""
    if type_name not in CUSTOM_TYPES:
        valid = ", ".join(CUSTOM_TYPES) or _("none loaded")
        raise CustomLayerError(None, _("{type_name!r} is not a custom layer type (custom types: "
                                       "{valid})").format(type_name=type_name, valid=valid))
    del CUSTOM_TYPES[type_name]
    SOURCES.pop(type_name, None)
    if LAYER_TYPES.get(type_name) is not None and type_name not in BUILTIN_TYPES:
        del LAYER_TYPES[type_name]


def unregister_all() -> None:
    """Take every custom type out of the registry."""
    for name in list(CUSTOM_TYPES):
        unregister_layer(name)


def _user_traceback(exc: BaseException) -> str:
    """The traceback of `exc` without this module's own frames (the user's file is what matters)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def load_layer_file(path: str | Path) -> list[type[Layer]]:
    """Run the Python file `path` as a module and register every Layer subclass it defines with a type_name.

    Returns the classes, in definition order. Raises CustomLayerError (file, message, traceback text)
    for a missing or unreadable file, a syntax error, an exception while it runs, no layer class,
    a class without forward/backward, or a type name that clashes.
    """
    path = Path(path)
    if not path.is_file():
        raise CustomLayerError(path, _("no such file") if not path.exists() else _("not a file"))
    if path.suffix != ".py":
        raise CustomLayerError(path, _("a layer file must be Python source ending in .py, got "
                                       "{suffix!r}").format(suffix=path.suffix))
    path = path.resolve()
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CustomLayerError(path, _("cannot be read: {error}").format(error=e)) from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as e:
        text = "".join(traceback.format_exception_only(type(e), e))
        raise CustomLayerError(path, _("syntax error on line {lineno}: {msg}").format(lineno=e.lineno, msg=e.msg),
                               text) from None

    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"visualcnn_user_layers.{stem}_{digest}"
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module     # dataclasses and pickling look classes up by module
    try:
        exec(code, module.__dict__)
    except BaseException as e:  # noqa: BLE001 - whatever the user's file does is reported, not fatal
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
        if not isinstance(e, (Exception, SystemExit)):
            raise                   # Stop (LayerStopped) or Ctrl-C while the file ran: the caller's to report
        raise CustomLayerError(path, _("raised {type_name} while loading: {error}").format(
                                         type_name=type(e).__name__, error=e), _user_traceback(e)) from None

    found = [obj for obj in vars(module).values()
             if isinstance(obj, type) and issubclass(obj, Layer) and obj.__module__ == module_name
             and obj.type_name]
    if not found:
        raise CustomLayerError(path, _("defines no layer: expected a subclass of "
                                       "visualcnn.layers.Layer with a type_name, e.g. class "
                                       "MyLayer(Layer): type_name = 'my_layer' (see "
                                       "assets/layer_template.py)"))
    names = [cls.type_name for cls in found]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise CustomLayerError(path, _("two classes share the type_name {dup!r}").format(dup=dup))
    for cls in found:                       # check all before registering any: a file loads whole or not at all
        _check_class(cls, path)
    for name in [n for n, src in SOURCES.items() if src == path and n not in names]:
        unregister_layer(name)              # a reloaded file no longer defines it
    return [register_layer(cls, path) for cls in found]


def is_user_layer(type_name: Any, cls: Any) -> bool:
    """Is a layer of this type and class user code (a custom type, or a class from outside the package)?"""
    return type_name in CUSTOM_TYPES or (isinstance(cls, type) and not cls.__module__.startswith("visualcnn."))


def user_layers(spec: Any) -> list[tuple[int, str]]:
    """(index, type) of the layers of `spec` whose classes are user code: building them runs that code."""
    layers = spec.get("layers") if isinstance(spec, dict) else None
    found = []
    for i, entry in enumerate(layers if isinstance(layers, list) else []):
        kind = entry.get("type") if isinstance(entry, dict) else None
        if isinstance(kind, str) and is_user_layer(kind, LAYER_TYPES.get(kind)):
            found.append((i, kind))
    return found


def check_layer(cls: type[Layer], input_shape: tuple[int, ...], options: dict[str, Any] | None = None, *,
                batch: int = 2, seed: int = 0, tol: float = 1e-6, max_entries: int | None = None
                ) -> GradCheckReport:
    """Build `cls` for input_shape (per sample) in float64 and gradient-check it alone on random data.

    Builds through the spec validation, so options get their defaults and are checked.
    """
    from .gradcheck import gradcheck_layer
    from .spec import normalize_layer

    entry = normalize_layer(0, {"type": cls.type_name, **(options or {})}, {cls.type_name: cls})
    layer = cls(**{k: v for k, v in entry.items() if k != "type"})
    rng = np.random.default_rng(seed)
    layer.build(tuple(input_shape), rng, np.float64)
    x = rng.standard_normal((batch, *input_shape))
    return gradcheck_layer(layer, x, seed=seed, tol=tol, max_entries=max_entries)


__all__ = ["BUILTIN_TYPES", "CUSTOM_TYPES", "CustomLayerError", "check_layer", "is_user_layer",
           "load_layer_file", "register_layer", "unregister_all", "unregister_layer", "user_layers"]
