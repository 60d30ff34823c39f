"""What an explanation is made of: terms, the maps it reads and computes, and how numbers are written.

Every explanation carries its formula twice: as plain text (for copying, tests and screen readers)
and as mathtext (the TeX subset matplotlib renders without a LaTeX install), one string per line
without the surrounding `$`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from visualcnn.i18n import _, ngettext

#: a sum with more terms than this shows its SHOWN_TERMS largest and folds the rest into one number
ALL_TERMS_UP_TO = 6
SHOWN_TERMS = 4
DIGITS = 4


def fmt(v: float, digits: int = DIGITS) -> str:
    """A number as the views print it: `digits` significant digits, a real minus sign."""
    v = float(v)
    if v == 0:
        return "0"
    return f"{v:.{digits}g}".replace("-", "−")


def par(v: float) -> str:
    """A factor inside a product (plain text): negatives in parentheses."""
    s = fmt(v)
    return f"({s})" if s.startswith("−") else s


def tnum(v: float, digits: int = DIGITS) -> str:
    """A number in mathtext: 4 significant digits, powers of ten as ×10^k."""
    v = float(v)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return r"\infty" if v > 0 else (r"-\infty" if v < 0 else r"\mathrm{NaN}")
    s = f"{v:.{digits}g}"
    if "e" in s:
        mant, exp = s.split("e")
        return rf"{mant}\times10^{{{int(exp)}}}"
    return s


def tpar(v: float) -> str:
    """A factor inside a product (mathtext): negatives in parentheses."""
    s = tnum(v)
    return f"({s})" if s.startswith("-") else s


def idx(*ix: int | str) -> str:
    """Subscript indices, comma-separated: idx(2, 3, 4) -> '{2,3,4}'."""
    return "{" + ",".join(str(i) for i in ix) + "}"


def shifted(var: str, stride: int, offset: int) -> str:
    """'2i+1', 'i-1', 'j': an index as the window position times the stride plus an offset."""
    return (f"{stride}{var}" if stride != 1 else var) + (f"{offset:+d}" if offset else "")


@dataclass(frozen=True)
class Term:
    """One product of a sum: what it multiplies (label / tex), its factors, their product, and where it reads.

    `cell` is the index of the term's entry in the explanation's `reads` map (None for a term that
    reads the zero padding outside it, e.g. a conv window hanging over the edge).
    """

    label: str
    factors: tuple[float, ...]
    product: float
    tex: str = ""
    cell: tuple[int, ...] | None = None


@dataclass(frozen=True)
class MapRef:
    """One sample's array a formula reads or computes, its title, and the cells to mark on it.

    `array` is (C, H, W) or (D,) — the core's record, never a recomputation; `cells` index it.
    `title` names the symbol ("reads y", "computes ∂C/∂x"); `about` says what it is in words.
    """

    title: str
    array: np.ndarray | None
    cells: tuple[tuple[int, ...], ...] = ()
    gradient: bool = False
    about: str = ""              # what the map is, in words (the title is kept short enough for a narrow map)


@dataclass(frozen=True)
class Explanation:
    """One unit's value with the formula and the numbers that produced it.

    `value` is always the core's own entry; `total` is the sum the explanation writes out (equal to
    `value` up to the rounding of the core's dtype); `reads` / `computes` are the maps to draw.
    """

    title: str
    formula: str
    numbers: str
    value: float
    terms: tuple[Term, ...] = field(default_factory=tuple)
    available: bool = True
    formula_tex: str = ""
    lines_tex: tuple[str, ...] = ()
    reads: MapRef | None = None
    computes: MapRef | None = None
    total: float | None = None
    shown: tuple[Term, ...] = ()
    folded: float | None = None

    @property
    def text(self) -> str:
        """Title, formula and numbers, one per block (the plain-text form of the Numbers tab)."""
        return f"{self.title}\n\n{self.formula}\n\n{self.numbers}"


def unavailable(title: str, why: str) -> Explanation:
    return Explanation(title, "", why, float("nan"), available=False)


@dataclass(frozen=True)
class Folded:
    """A sum written out: the terms shown (largest |product| first when folded), the rest's sum, the total."""

    shown: tuple[Term, ...]
    n_rest: int
    rest: float
    total: float
    rest_all_zero: bool = False

    def plain(self) -> str:
        s = " + ".join("·".join(par(f) for f in t.factors) for t in self.shown)
        if self.n_rest:
            s += f" + ({more_terms(self.n_rest, self.rest_all_zero)}: {fmt(self.rest)})"
        return s or "0"

    def tex(self) -> str:
        parts = [t.tex or r" \cdot ".join(tpar(f) for f in t.factors) for t in self.shown]
        if self.n_rest:
            # "12 more terms: 0.03" as a symbol: the words are in the plain-text numbers (mathtext has no CJK)
            parts.append(rf"[\ldots_{{({self.n_rest})}}:\ {tnum(self.rest)}]")
        return " + ".join(parts) or "0"


def more_terms(n: int, all_zero: bool = False) -> str:
    """'12 more terms' (', all 0' when they are) in the plain-text sums, in the current language."""
    return (ngettext("{n} more term, all 0", "{n} more terms, all 0", n) if all_zero
            else ngettext("{n} more term", "{n} more terms", n)).format(n=n)


def fold(terms: Sequence[Term]) -> Folded:
    """All terms of a short sum in order; for a long one the SHOWN_TERMS largest by |product|, the rest summed.

    total = the exact (fsum) sum of every product: shown + rest == total, whatever is folded.
    """
    total = math.fsum(t.product for t in terms)
    if len(terms) <= ALL_TERMS_UP_TO:
        return Folded(tuple(terms), 0, 0.0, total)
    order = sorted(range(len(terms)), key=lambda k: -abs(terms[k].product))
    shown = tuple(terms[k] for k in order[:SHOWN_TERMS])
    rest = math.fsum(terms[k].product for k in order[SHOWN_TERMS:])
    all_zero = all(terms[k].product == 0 for k in order[SHOWN_TERMS:])
    return Folded(shown, len(terms) - SHOWN_TERMS, rest, total, all_zero)


def summed(title: str, terms: Sequence[Term], f: Folded, total: float, value: float, *, formula: str,
           formula_tex: str, numbers: Sequence[str], lines: Sequence[str], reads: MapRef | None,
           computes: MapRef | None) -> Explanation:
    """The Explanation of a sum written out as `f` (its shown terms and folded rest), totalling `total`."""
    return Explanation(title, formula, "\n".join(numbers), value, tuple(terms), formula_tex=formula_tex,
                       lines_tex=tuple(lines), reads=reads, computes=computes, total=total, shown=f.shown,
                       folded=f.rest if f.n_rest else None)


def result_lines(total: float, value: float, dtype: np.dtype | None) -> tuple[list[str], list[str]]:
    """The closing '= total' lines (plain, tex). If the core's rounded result prints differently from the
    exact sum of its terms, both are written and the dtype named, so the page never states a false equality."""
    if fmt(total) == fmt(value):
        return [f"= {fmt(value)}"], [f"= {tnum(value)}"]
    name = np.dtype(dtype).name if dtype is not None else "float"
    return ([_("= {total} (exact sum of the terms)").format(total=fmt(total)),
             _("≈ {value} (the layer's {dtype} result)").format(value=fmt(value), dtype=name)],
            [f"= {tnum(total)}\\quad(\\Sigma)", f"\\approx {tnum(value)}\\quad(\\mathrm{{{name}}})"])
