"""The lesson file format (TOML) and its parser: `load_lesson(path)` → Lesson, or one LessonError.

A lesson is a TOML file; every text is a table of languages, English required:

    format = 1
    title = { en = "…", ja = "…" }
    summary = { en = "…", ja = "…" }

    [setup]
    preset = "seed-note"            # a bundled preset (or a path to a preset JSON)
    sample = 3                      # the training image to step on (pinned), default 0
    hyper = { lr = 0.1 }            # optimizer settings: lr, momentum, weight_decay, decay_biases
    mistakes = []                   # study-note mistakes on from the start
    hide_mistakes = false           # true: the lesson never names them ("find the bug")

    [[steps]]
    title = { en = "…", ja = "…" }
    text = { en = "…", ja = "…" }   # Markdown; math as Unicode (∂C/∂x_j = p_j − d_j)
    at = "backward 4"               # where the session stands once the step is revealed:
                                    # start | forward N | loss | backward N | update
    iteration = 0                   # which iteration of the lesson (default 0)
    point = { view = "pipeline", layer = 4, unit = [3] }    # what the window highlights (unit: in the
                                    # layer's output; of = "input" for its input)
    mistakes = ["softmax-diagonal"] # from this step on (optional)
    hyper = { momentum = 0.0 }      # from this step on (optional)

    [steps.ask]                     # optional: asked *before* the phase `at` is run
    kind = "sign"                   # sign | value | window | layer
    quantity = "grad_output"        # what is asked about (QUANTITIES), at `layer` / `param` / `unit`
    layer = 4
    unit = [3]
    prompt = { en = "…", ja = "…" }
    explain = { en = "…", ja = "…" }   # shown after the answer, right or wrong

Everything is checked when the file is loaded, against the network the setup builds (layer indices,
quantities, unit indices, phases): a mistake is one LessonError naming the file, the step and the problem.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ..errors import VisualCNNError
from .model import (FORMAT_VERSION, HYPER_KEYS, KINDS, LANGS, PHASE_WORDS, POOL_TYPES, QUANTITIES, TABS, VIEWS,
                    Lesson, LessonError, Pointer, Question, Setup, Step, phase_index, quantity_shape)
from visualcnn.i18n import _

# -- parsing --------------------------------------------------------------------------------------

class _Reader:
    """Checks one table's keys and values; every complaint names the file and the step."""

    def __init__(self, path: Path, step: int | None) -> None:
        self.path, self.step = path, step

    def fail(self, problem: str) -> LessonError:
        return LessonError(self.path, problem, self.step)

    def table(self, value: Any, what: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(_("{what} must be a table, got {type_name} {value!r}").format(
                                what=what, type_name=type(value).__name__, value=value))
        for key in value:
            if key not in allowed:
                raise self.fail(_("{what}: unknown key {key!r}; valid keys: {allowed}").format(
                                    what=what, key=key, allowed=', '.join(allowed)))
        for key in required:
            if key not in value:
                raise self.fail(_("{what}: missing {key!r}").format(what=what, key=key))
        return value

    def text(self, value: Any, what: str) -> dict[str, str]:
        if isinstance(value, str):
            value = {"en": value}
        t = self.table(value, what, LANGS, ("en",))
        for lang, s in t.items():
            if not isinstance(s, str) or not s.strip():
                raise self.fail(_("{what}.{lang} must be non-empty text, got {s!r}").format(
                                    what=what, lang=lang, s=s))
        return {k: v.strip() for k, v in t.items()}

    def integer(self, value: Any, what: str, minimum: int = 0) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(_("{what} must be a whole number ≥ {minimum}, got {value!r}").format(
                                what=what, minimum=minimum, value=value))
        return value

    def unit(self, value: Any, what: str) -> tuple[int, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(_("{what} must be a list of indices like [0, 2, 3], got {value!r}").format(
                                what=what, value=value))
        return tuple(self.integer(v, what) for v in value)

    def mistakes(self, value: Any, what: str) -> tuple[str, ...]:
        from ..mistakes import MISTAKES
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(_("{what} must be a list of mistake names, got {value!r}").format(
                                what=what, value=value))
        for name in value:
            if name not in MISTAKES:
                raise self.fail(_("{what}: unknown mistake {name!r}; valid mistakes: {MISTAKES}").format(
                                    what=what, name=name, MISTAKES=', '.join(MISTAKES)))
        return tuple(value)

    def hyper(self, value: Any, what: str) -> dict[str, Any]:
        h = self.table(value, what, HYPER_KEYS)
        for k, v in h.items():
            ok = isinstance(v, bool) if k == "decay_biases" else (
                isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0)
            if not ok:
                raise self.fail(_("{what}.{k}: expected {value}, got {v!r}").format(
                                    what=what, k=k,
                                    value=_('true or false') if k == 'decay_biases' else _('a number ≥ 0'), v=v))
        return dict(h)


def load_lesson(path: str | Path) -> Lesson:
    """Read and check a lesson file; a LessonError names the file, the step and the problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LessonError(path, _("no such file")) from None
    except IsADirectoryError:
        raise LessonError(path, _("a folder, not a lesson file")) from None
    except UnicodeDecodeError:
        raise LessonError(path, _("not UTF-8 text")) from None
    except tomllib.TOMLDecodeError as e:
        raise LessonError(path, _("not valid TOML ({error})").format(error=e)) from None
    return parse_lesson(raw, path)


def parse_lesson(raw: dict[str, Any], path: str | Path) -> Lesson:
    """A Lesson from the TOML's table `raw`; `path` names it in errors (and gives its name)."""
    path = Path(path)
    top = _Reader(path, None)
    top.table(raw, _("the lesson"), ("format", "order", "title", "summary", "setup", "steps"),
              ("format", "title", "setup", "steps"))
    if raw["format"] != FORMAT_VERSION:
        raise top.fail(_("format must be {FORMAT_VERSION}, got {format!r}").format(
                           FORMAT_VERSION=FORMAT_VERSION, format=raw['format']))
    title = top.text(raw["title"], "title")
    summary = top.text(raw.get("summary", raw["title"]), "summary")
    order = top.integer(raw.get("order", 100), "order")
    setup = _setup(top, raw["setup"])
    network = _network_for(top, setup)
    steps_raw = raw["steps"]
    if not isinstance(steps_raw, list) or not steps_raw:
        raise top.fail(_("steps must be a non-empty array of tables ([[steps]])"))
    steps = tuple(_step(_Reader(path, n), s, n, network) for n, s in enumerate(steps_raw, start=1))
    return Lesson(name=path.stem, path=str(path), title=title, summary=summary, setup=setup, steps=steps,
                  order=order)


def _setup(r: _Reader, value: Any) -> Setup:
    s = r.table(value, "setup", ("preset", "sample", "seed", "hyper", "mistakes", "hide_mistakes"), ("preset",))
    if not isinstance(s["preset"], str):
        raise r.fail(_("setup.preset must be a preset name, got {preset!r}").format(preset=s['preset']))
    hide = s.get("hide_mistakes", False)
    if not isinstance(hide, bool):
        raise r.fail(_("setup.hide_mistakes must be true or false, got {hide!r}").format(hide=hide))
    return Setup(preset=s["preset"], sample=r.integer(s.get("sample", 0), "setup.sample"),
                 seed=None if "seed" not in s else r.integer(s["seed"], "setup.seed"),
                 hyper=r.hyper(s.get("hyper", {}), "setup.hyper"),
                 mistakes=r.mistakes(s.get("mistakes", []), "setup.mistakes"), hide_mistakes=hide)


def _network_for(r: _Reader, setup: Setup):
    """The setup's network (shapes only matter): what steps are checked against."""
    from ..network import Network
    from ..presets import load_preset
    try:
        cfg = load_preset(setup.preset)
        return Network.from_spec(cfg["spec"], seed=0)
    except VisualCNNError as e:
        raise r.fail(f"setup.preset {setup.preset!r}: {e}") from None


def _step(r: _Reader, value: Any, number: int, net: Any) -> Step:
    s = r.table(value, _("the step"), ("title", "text", "at", "iteration", "point", "ask", "mistakes", "hyper"),
                ("title", "text", "at"))
    at = _phase(r, s["at"], net)
    ask = None if "ask" not in s else _question(r, s["ask"], at, net)
    return Step(number=number, title=r.text(s["title"], "title"), text=r.text(s["text"], "text"), at=at,
                iteration=r.integer(s.get("iteration", 0), "iteration"),
                point=None if "point" not in s else _pointer(r, s["point"], net), ask=ask,
                mistakes=None if "mistakes" not in s else r.mistakes(s["mistakes"], "mistakes"),
                hyper=r.hyper(s.get("hyper", {}), "hyper"))


def _phase(r: _Reader, value: Any, net: Any) -> str:
    L = len(net.layers)
    valid = _("start, forward N, loss, backward N or update (N a layer 0…{value})").format(value=L - 1)
    if not isinstance(value, str):
        raise r.fail(_("at must be a phase ({valid}), got {value!r}").format(valid=valid, value=value))
    word, _sep, n = value.strip().partition(" ")
    if word not in PHASE_WORDS:
        raise r.fail(_("at = {value!r}: unknown phase {word!r}; valid: {valid}").format(
                         value=value, word=word, valid=valid))
    if word in ("forward", "backward"):
        if not n.strip().isdigit() or not 0 <= int(n) < L:
            raise r.fail(_("at = {value!r}: {word} needs a layer number 0…{last} of the {n_layers} layers").format(
                             value=value, word=word, last=L - 1, n_layers=L))
        return f"{word} {int(n)}"
    if n.strip():
        raise r.fail(_("at = {value!r}: {word} takes no layer number; valid: {valid}").format(
                         value=value, word=word, valid=valid))
    return word


def _layer(r: _Reader, value: Any, what: str, net: Any) -> int:
    L = len(net.layers)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < L:
        raise r.fail(_("{what} must be a layer number 0…{last}, got {value!r}").format(
                         what=what, last=L - 1, value=value))
    return value


def _pointer(r: _Reader, value: Any, net: Any) -> Pointer:
    p = r.table(value, "point", ("view", "layer", "channel", "unit", "tab", "of"))
    view = p.get("view", "pipeline")
    if view not in VIEWS:
        raise r.fail(_("point.view: unknown view {view!r}; valid views: {VIEWS}").format(
                         view=view, VIEWS=', '.join(VIEWS)))
    layer = None if "layer" not in p else _layer(r, p["layer"], "point.layer", net)
    unit = None if "unit" not in p else r.unit(p["unit"], "point.unit")
    if unit is not None and layer is None:
        raise r.fail(_("point.unit needs point.layer (the column the unit is in)"))
    tab = p.get("tab")
    if tab is not None and tab not in TABS:
        raise r.fail(_("point.tab: unknown tab {tab!r}; the inspector's tabs: {TABS}").format(
                         tab=tab, TABS=', '.join(TABS)))
    channel = None if "channel" not in p else r.integer(p["channel"], "point.channel")
    of = p.get("of", "output")
    if of not in ("output", "input"):
        raise r.fail(_("point.of must be 'output' or 'input' (where the unit is), got {of!r}").format(of=of))
    if unit is not None:
        shape = quantity_shape(net, of, layer, None)
        if len(unit) != len(shape) or any(u >= n for u, n in zip(unit, shape)):
            raise r.fail(_("point.unit {unit} is not a unit of layer {layer}'s {of} of shape {dims}").format(
                             unit=list(unit), layer=layer, of=of, dims='×'.join(map(str, shape))))
    return Pointer(view=view, layer=layer, channel=channel, unit=unit, tab=tab, of=of)


def _question(r: _Reader, value: Any, at: str, net: Any) -> Question:
    q = r.table(value, "ask", ("kind", "prompt", "explain", "quantity", "layer", "param", "unit", "sample",
                               "tolerance", "relative", "pick"), ("kind", "prompt", "explain"))
    kind = q["kind"]
    if kind not in KINDS:
        raise r.fail(_("ask.kind: unknown kind {kind!r}; valid kinds: {KINDS}").format(
                         kind=kind, KINDS=', '.join(KINDS)))
    if at == "start":
        raise r.fail(_("a question needs a phase to reveal, but at = 'start' runs none; use e.g. at = "
                       "'forward 0'"))
    L = len(net.layers)
    reveal = phase_index(at, L)
    common = dict(kind=kind, prompt=r.text(q["prompt"], "ask.prompt"), explain=r.text(q["explain"], "ask.explain"),
                  sample=r.integer(q.get("sample", 0), "ask.sample"))
    if kind == "layer":
        extra = set(q) - {"kind", "prompt", "explain", "sample"}
        if extra:
            raise r.fail(_("ask: kind 'layer' (which layer's formula is wrong) takes no {extra!r}").format(
                             extra=sorted(extra)[0]))
        return Question(**common)
    if kind == "window":
        quantity = "grad_input"
        if q.get("quantity", quantity) != quantity:
            raise r.fail(_("ask: kind 'window' is about where a pooling layer sends its gradient; "
                           "leave out quantity (it is {quantity!r}), got {quantity2!r}").format(
                             quantity=quantity, quantity2=q['quantity']))
    else:
        quantity = q.get("quantity")
        if quantity not in QUANTITIES:
            raise r.fail(_("ask.quantity: unknown quantity {quantity!r}; valid: {QUANTITIES}").format(
                             quantity=quantity, QUANTITIES=', '.join(QUANTITIES)))
    phase, per_sample, needs_param = QUANTITIES[quantity]
    layer = None
    if quantity != "probs":
        if "layer" not in q:
            raise r.fail(_("ask: quantity {quantity!r} needs layer (a number 0…{value})").format(
                             quantity=quantity, value=L - 1))
        layer = _layer(r, q["layer"], "ask.layer", net)
    param = q.get("param")
    if needs_param:
        params = list(net.layers[layer].params)
        if param not in params:
            raise r.fail(_("ask.param: layer {layer} {type_name} has parameters {value}, got {param!r}").format(
                             layer=layer, type_name=net.layers[layer].type_name, value=', '.join(params) or _('none'),
                             param=param))
    elif param is not None:
        raise r.fail(_("ask.param: quantity {quantity!r} has no parameter; leave param out").format(
                         quantity=quantity))
    # the phase that computes the quantity must be the revealed one or an earlier one of the same iteration
    needed = phase_index(f"{phase} {layer}" if phase in ("forward", "backward") else phase, L)
    if needed > reveal:
        raise r.fail(_("ask: {quantity} of layer {layer} is computed by the {phase} phase, after at = "
                       "{at!r}; ask it at that phase or later").format(
                         quantity=quantity, layer=layer, phase=phase, at=at))
    if kind == "window":
        if net.layers[layer].type_name not in POOL_TYPES:
            raise r.fail(_("ask: kind 'window' needs a pooling layer ({POOL_TYPES}); layer {layer} is "
                           "{type_name}").format(
                             POOL_TYPES=', '.join(POOL_TYPES), layer=layer, type_name=net.layers[layer].type_name))
        shape = tuple(net.layers[layer].output_shape)
        pick = q.get("pick", "nonzero")
        if pick not in ("nonzero", "largest"):
            raise r.fail(_("ask.pick must be 'nonzero' or 'largest', got {pick!r}").format(pick=pick))
    else:
        shape = quantity_shape(net, quantity, layer, param)
        pick = "nonzero"
    unit = r.unit(q.get("unit"), "ask.unit")
    if len(unit) != len(shape) or any(u >= s for u, s in zip(unit, shape)):
        whose = _("its output") if kind == "window" else quantity
        raise r.fail(_("ask.unit {unit} is not an index into {whose} of shape {dims} (give {n_shape} "
                       "indices, each below its size)").format(
                         unit=list(unit), whose=whose, dims='×'.join(map(str, shape)), n_shape=len(shape)))
    tol = q.get("tolerance", 0.01)
    if kind == "value":
        if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not tol > 0:
            raise r.fail(_("ask.tolerance must be a number > 0, got {tol!r}").format(tol=tol))
        relative = q.get("relative", False)
        if not isinstance(relative, bool):
            raise r.fail(_("ask.relative must be true or false, got {relative!r}").format(relative=relative))
    else:
        relative = False
        for key in ("tolerance", "relative"):
            if key in q:
                raise r.fail(_("ask.{key} only applies to kind 'value', not {kind!r}").format(key=key, kind=kind))
    return Question(**common, quantity=quantity, layer=layer, param=param, unit=unit, tolerance=float(tol),
                    relative=relative, pick=pick)


__all__ = ["FORMAT_VERSION", "KINDS", "LANGS", "Lesson", "LessonError", "Pointer", "QUANTITIES", "Question",
           "Setup", "Step", "VIEWS", "load_lesson", "parse_lesson", "phase_index", "quantity_shape"]
