"""The core's source: every message a user can see is marked for translation, and marking cannot break.

An AST scan of `visualcnn/**` (no imports, no Qt): the strings of `raise …(…)`, `print(…)`, argparse's
`help=`/`description=`, a lesson's or importer's `fail(…)`, an explanation's `unavailable(…)` and a map's
`about=` must sit inside `_()` / `N_()` / `ngettext()` when they hold English words. A string that must
stay as it is goes in EXEMPT with the reason.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "visualcnn"
MARKERS = {"_", "N_", "ngettext"}
#: two words of three letters or more (identifiers like weight_decay or x_train are one "word")
ENGLISH = re.compile(r"\b[A-Za-z]{3,}\b")

#: (file, the string's literal text, why it stays untranslated)
EXEMPT = {
    ("visualcnn/cli.py", "visualcnn train --preset lenet5 --data "): "a command line to copy, the same in every language",
    ("visualcnn/lessons/format.py", "setup.preset : "): "a field path and the underlying error's own message",
    ("visualcnn/layers/pool.py", ": routing exists only after a forward pass"):
        "RuntimeError: a programming error inside the views, never a user's input",
    ("visualcnn/mistakes.py", ": routing exists only after a forward pass"):
        "RuntimeError: a programming error inside the views, never a user's input",
    ("visualcnn/spec.py", "NaN"): "NaN is written NaN in every language",
}


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def _is_marker_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS


def _strings_outside_markers(node: ast.AST):
    """The string literals under `node` that no _() / N_() / ngettext() call wraps."""
    if _is_marker_call(node):
        return
    text = _literal_text(node)
    if text is not None:
        yield node, text
        return
    for child in ast.iter_child_nodes(node):
        yield from _strings_outside_markers(child)


def _shown(tree: ast.AST):
    """The expressions whose strings reach a user."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            yield node.exc
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in ("print", "fail", "unavailable"):
                yield from node.args
            yield from (kw.value for kw in node.keywords if kw.arg in ("help", "description", "about"))


def _format_values(tree: ast.AST):
    """The arguments of `_("…").format(…)`: a word put into a translated sentence must be translated too."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
                and _is_marker_call(node.func.value)):
            yield from node.args
            yield from (kw.value for kw in node.keywords)


def _value_strings(node: ast.AST):
    """The literals an expression can evaluate to (`x or "none"`, `"a" if c else "b"`, `" and ".join(…)`),
    not the keys and arguments it uses on the way (`entry["type"]`, `meta.get("format")`)."""
    if _literal_text(node) is not None:
        yield node
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _value_strings(value)
    elif isinstance(node, ast.IfExp):
        yield from _value_strings(node.body)
        yield from _value_strings(node.orelse)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
        yield from _value_strings(node.func.value)


def unmarked(source: str) -> list[tuple[int, str]]:
    """(line, literal text) of every shown string with English words that is not marked for translation."""
    tree = ast.parse(source)
    found = {}
    for root in _shown(tree):
        for node, text in _strings_outside_markers(root):
            if len(ENGLISH.findall(text)) >= 2:
                found[(node.lineno, node.col_offset)] = text
    for root in _format_values(tree):
        for node in _value_strings(root):
            text = _literal_text(node)
            if ENGLISH.search(text):
                found[(node.lineno, node.col_offset)] = text
    return [(line, text) for (line, _col), text in sorted(found.items())]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _window_modules() -> list[Path]:
    """The window's code (read as text: no Qt is imported): the checks below hold there too."""
    return sorted((ROOT / "ui").rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_every_message_a_user_sees_is_marked_for_translation():
    left = [f"{_name(p)}:{line}: {text!r}" for p in _modules() for line, text in unmarked(p.read_text("utf-8"))
            if (_name(p), text) not in EXEMPT]
    assert left == [], "mark these with _() (see visualcnn/i18n.py), or exempt them with a reason:\n" + "\n".join(left)


def test_every_exemption_is_still_needed():
    found = {(_name(p), text) for p in _modules() for _line, text in unmarked(p.read_text("utf-8"))}
    assert set(EXEMPT) <= found, f"no longer in the code, drop from EXEMPT: {set(EXEMPT) - found}"


@pytest.mark.parametrize("source, expected", [
    ('raise ValueError(f"layer {k}: kernel too large")', [(1, "layer : kernel too large")]),
    ('raise ValueError(_("layer {k}: kernel too large").format(k=k))', []),
    ('print("training the network now")', [(1, "training the network now")]),
    ('p.add_argument("--x", help="the number of epochs")', [(1, "the number of epochs")]),
    ('raise KeyError(name)', []),
    ('raise ValueError(f"{path}: {e}")', []),                     # nothing to translate
    ('raise ValueError(f"bad {weight_decay}")', []),              # one word
    ('raise SpecError(msg, hint=f"use {k} or fewer layers")', [(1, "use  or fewer layers")]),
    ('x = f"not shown to anyone, ever"', []),
    ('raise ValueError(_("layers: {names}").format(names=", ".join(n) or "none"))', [(1, "none")]),
    ('raise ValueError(_("layers: {names}").format(names=", ".join(n) or _("none")))', []),
    ('raise ValueError(_("{t}: bad").format(t=entry["type"], u=" and ".join(m)))', [(1, " and ")]),
])
def test_the_scan_finds_unmarked_messages(source, expected):
    assert unmarked(source) == expected


# -- marking cannot break a message ------------------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp,
           ast.GeneratorExp)


def _own_nodes(fn: ast.AST):
    """The nodes of a function's own scope (not of functions, classes or comprehensions inside it)."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


def shadowing(source: str) -> list[str]:
    """Functions that call _() and also bind `_` themselves (`a, _ = …`, `for _ in …`): _ is then a local
    variable, and the message raises UnboundLocalError or TypeError instead of being shown."""
    out = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, (ast.Store, ast.Del))
                    for n in _own_nodes(fn))
        binds |= any(a.arg == "_" for a in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs)
        calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in ast.walk(fn))
        if binds and calls:
            out.append(fn.name)
    return out


def missing_imports(source: str) -> set[str]:
    """Marker functions a module calls without importing them (a NameError that waits for the error path)."""
    tree = ast.parse(source)
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module and node.module.endswith("i18n") for alias in node.names}
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    called = {node.func.id for node in ast.walk(tree) if _is_marker_call(node)}
    return called - imported - defined


def test_no_function_that_translates_rebinds_the_underscore():
    bad = [f"{_name(p)}: {fn}" for p in _modules() + _window_modules()
           for fn in shadowing(p.read_text("utf-8"))]
    assert bad == []


def test_every_module_that_translates_imports_the_markers():
    bad = {_name(p): names for p in _modules() + _window_modules() if (names := missing_imports(p.read_text("utf-8")))}
    assert bad == {}


def test_the_source_checks_catch_their_mistakes():
    assert shadowing("def f():\n    a, _ = g()\n    raise ValueError(_('x'))\n") == ["f"]
    assert shadowing("def f():\n    y = [_ for _ in x]\n    raise ValueError(_('x'))\n") == []
    assert missing_imports("def f():\n    raise ValueError(_('x'))\n") == {"_"}
    assert missing_imports("from visualcnn.i18n import _\nraise ValueError(_('x'))\n") == set()


# -- a translated sentence gets every placeholder it names --------------------------------------------

def _fields(text: str) -> set[str]:
    return {f.split(".")[0].split("[")[0] for _lit, f, _spec, _conv in string.Formatter().parse(text) if f}


def format_mismatches(source: str) -> list[str]:
    """`_("… {a} …").format(b=…)` calls whose keywords are not exactly the placeholders: a KeyError (or a
    lost value) that would wait for the error path, in every language (translations keep the same fields)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
                and _is_marker_call(node.func.value)):
            continue
        marked = node.func.value
        texts = [a.value for a in marked.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if not texts:                   # _(CONSTANT): marked where it is defined, not checkable here
            continue
        fields = set().union(*(_fields(t) for t in texts))
        given = {kw.arg for kw in node.keywords}
        if node.args or None in given or fields != given:
            out.append(f"line {node.lineno}: {texts[0]!r} gets {sorted(k for k in given if k)}")
    return out


def test_every_translated_sentence_gets_exactly_its_placeholders():
    bad = [f"{_name(p)} {m}" for p in _modules() + _window_modules() for m in format_mismatches(p.read_text("utf-8"))]
    assert bad == []


def test_the_placeholder_check_catches_a_missing_value():
    assert format_mismatches('_("layer {k}: {why}").format(k=1)') != []
    assert format_mismatches('_("layer {k!r}: {why:>3}").format(k=1, why=2)') == []
    assert format_mismatches('ngettext("{n} term", "{n} terms", n).format(n=n)') == []
    assert format_mismatches('_("{a}").format(a=1, b=2)') != []
    assert format_mismatches('_(FILTER).format(suffix=".vcnn")') == []         # a constant: checked where defined
