"""Forward explanations: how one output unit of a layer was computed from the layer's input.

Each function gets (ctx, u) — the unit in the output's per-sample index — and returns an Explanation
whose `value` is the forward record's own entry, whose `reads` is the layer's input (the cells the
formula reads: the unit's receptive field in this layer) and whose `computes` is the layer's output.
"""

from __future__ import annotations

import math

import numpy as np

from ..layers import AvgPool2D, Conv2D, Dense, Flatten, LpPool2D, MaxPool2D, ReLU, Sigmoid, Tanh
from .context import Context, symbols, tex_name
from .model import (Explanation, MapRef, Term, fmt, fold, idx, more_terms, par, result_lines, shifted, summed, tnum,
                    tpar)
from visualcnn.i18n import _


def _maps(ctx: Context, cells, u) -> tuple[MapRef, MapRef]:
    x_sym, y_sym = symbols(ctx.layer)
    n = ctx.sample
    reads = MapRef(_("reads {symbol}").format(symbol=x_sym), ctx.fwd.x[n], tuple(cells),
                   about=_("layer {index}'s input").format(index=ctx.index))
    computes = MapRef(_("computes {symbol}").format(symbol=y_sym), ctx.fwd.y[n], (tuple(u),),
                      about=_("layer {index}'s output").format(index=ctx.index))
    return reads, computes


def _sum_explanation(ctx: Context, u, terms, extra: float, extra_plain: str, extra_tex: str,
                     formula: str, formula_tex: str, head_tex: str) -> Explanation:
    """A weighted sum plus a bias: the folded sum, then its total, then the record's value."""
    value = float(ctx.fwd.y[(ctx.sample, *u)])
    f = fold(terms)
    total = f.total + extra
    plain_end, tex_end = result_lines(total, value, ctx.dtype)
    numbers = [f"= {f.plain()} + {extra_plain}", f"= {fmt(f.total)} + {par(extra)}", *plain_end]
    lines = [head_tex, f"= {f.tex()} + {extra_tex}", f"= {tnum(f.total)} + {tpar(extra)}", *tex_end]
    reads, computes = _maps(ctx, [t.cell for t in terms if t.cell is not None], u)
    return summed(ctx.title, terms, f, total, value, formula=formula, formula_tex=formula_tex, numbers=numbers,
                  lines=lines, reads=reads, computes=computes)


def conv(ctx: Context, u) -> Explanation:
    l, i, j = u
    lay: Conv2D = ctx.layer
    C, H, W = lay.input_shape
    k, s, pad = lay.options["kernel_size"], lay.options["stride"], lay.options["padding"]
    Wt, b = ctx.params("W"), ctx.params("b")
    x = ctx.fwd.x[ctx.sample]
    terms = []
    for c in range(C):
        for p in range(k):
            for q in range(k):
                a, bb = i * s + p - pad, j * s + q - pad
                inside = 0 <= a < H and 0 <= bb < W
                y = float(x[c, a, bb]) if inside else 0.0
                w = float(Wt[l, c, p, q])
                where = f"y[{c},{a},{bb}]" if inside else "pad"
                terms.append(Term(f"W[{l},{c},{p},{q}]·{where}", (w, y), w * y,
                                  tex=rf"{tpar(w)} \cdot {tpar(y)}", cell=(c, a, bb) if inside else None))
    tied = b.ndim == 1
    bias = float(b[l]) if tied else float(b[l, i, j])
    b_plain, b_tex = ("b_l", "b_l") if tied else ("b_{l,i,j}", "b_{l,i,j}")
    formula = f"x_{{l,i,j}} = Σ_k Σ_p Σ_q W_{{l,k,p,q}} · y_{{k, i·s+p−pad, j·s+q−pad}} + {b_plain}"
    formula_tex = (r"x_{l,i,j} = \sum_{k}\sum_{p}\sum_{q} W_{l,k,p,q}\, y_{k,\,is+p-\mathrm{pad},\,js+q-\mathrm{pad}}"
                   + f" + {b_tex}")
    a0, b0 = i * s - pad, j * s - pad
    head = (rf"x_{idx(l, i, j)} = \sum_{{k<{C}}}\sum_{{p,q<{k}}} W_{idx(l, 'k', 'p', 'q')}\,"
            rf" y_{idx('k', shifted('p', 1, a0), shifted('q', 1, b0))}"
            + (f" + b_{{{l}}}" if tied else f" + b_{idx(l, i, j)}"))
    return _sum_explanation(ctx, u, terms, bias, par(bias), tpar(bias), formula, formula_tex, head)


def dense(ctx: Context, u) -> Explanation:
    (j,) = u
    Wt, b = ctx.params("W"), ctx.params("b")
    x = np.asarray(ctx.fwd.x[ctx.sample])
    flat = x.reshape(-1)
    terms = []
    for i in range(flat.size):
        w, y = float(Wt[j, i]), float(flat[i])
        cell = tuple(int(v) for v in np.unravel_index(i, x.shape))
        terms.append(Term(f"W[{j},{i}]·y[{i}]", (w, y), w * y, tex=rf"{tpar(w)} \cdot {tpar(y)}", cell=cell))
    bias = float(b[j])
    head = rf"x_{{{j}}} = \sum_{{i<{flat.size}}} W_{idx(j, 'i')}\, y_i + b_{{{j}}}"
    return _sum_explanation(ctx, u, terms, bias, par(bias), tpar(bias), "x_j = Σ_i W_ji · y_i + b_j",
                            r"x_j = \sum_i W_{ji}\, y_i + b_j", head)


def _window_cells(ctx: Context, c: int, i: int, j: int) -> list[tuple[int, int, int]]:
    k, s = ctx.layer.kernel, ctx.layer.stride
    return [(c, i * s + p, j * s + q) for p in range(k) for q in range(k)]


def pool(ctx: Context, u) -> Explanation:
    c, i, j = u
    lay = ctx.layer
    n = ctx.sample
    x = ctx.fwd.x[n]
    cells = _window_cells(ctx, c, i, j)
    vals = [float(x[cell]) for cell in cells]
    value = float(ctx.fwd.y[n, c, i, j])
    k, s = lay.kernel, lay.stride
    a0, b0 = i * s, j * s
    reads, computes = _maps(ctx, cells, u)
    win_plain = _("window rows {a0}…{a1}, cols {b0}…{b1}").format(a0=a0, a1=a0 + k - 1, b0=b0, b1=b0 + k - 1)
    win_tex = rf"P_{idx(i, j)} = \{{{a0}..{a0 + k - 1}\}} \times \{{{b0}..{b0 + k - 1}\}}"
    common = dict(reads=reads, computes=computes)
    if isinstance(lay, MaxPool2D):
        routing = ctx.routing()[n, c, i, j].ravel()            # the core's own winner (ties, NaN: its rule)
        w = int(np.argmax(routing))
        a, b = cells[w][1:]
        terms = tuple(Term(f"x[{cc},{aa},{bb}]", (v,), v, tex=tnum(v), cell=(cc, aa, bb))
                      for (cc, aa, bb), v in zip(cells, vals))
        numbers = (f"{win_plain}: [{', '.join(fmt(v) for v in vals)}]\n"
                   + _("winner x[{c},{a},{b}] = {value}").format(c=c, a=a, b=b, value=fmt(vals[w]))
                   + f"\n= {fmt(value)}")
        lines = (win_tex, rf"y_{idx(c, i, j)} = \max({', '.join(tnum(v) for v in vals)})",
                 rf"= x_{idx(c, a, b)} = {tnum(value)}")
        formula = _("y_ij = max_{{(a,b) ∈ P_ij}} x_ab   (ties: first in row-major order)").format()
        return Explanation(ctx.title, formula,
                           numbers, value, terms, formula_tex=r"y_{ij} = \max_{(a,b)\in P_{ij}}\ x_{ab}",
                           lines_tex=lines, total=vals[w], shown=terms, **common)
    if isinstance(lay, AvgPool2D):
        terms = tuple(Term(f"x[{cc},{aa},{bb}]", (v,), v, tex=tpar(v), cell=(cc, aa, bb))
                      for (cc, aa, bb), v in zip(cells, vals))
        f = fold(terms)
        total = f.total / len(vals)
        end_p, end_t = result_lines(total, value, ctx.dtype)
        numbers = [f"= (1/{len(vals)})·({f.plain()})", f"= {fmt(f.total)} / {len(vals)}", *end_p]
        lines = (win_tex, rf"y_{idx(c, i, j)} = \dfrac{{1}}{{{len(vals)}}}\,({f.tex()})",
                 rf"= \dfrac{{{tnum(f.total)}}}{{{len(vals)}}}", *end_t)
        return summed(ctx.title, terms, f, total, value, formula="y_ij = (1/|P|) Σ_{P_ij} x_ab",
                      formula_tex=r"y_{ij} = \dfrac{1}{|P|} \sum_{(a,b)\in P_{ij}} x_{ab}", numbers=numbers,
                      lines=lines, **common)
    return _lp(ctx, u, cells, vals, value, win_tex, common)


def _lp(ctx: Context, u, cells, vals, value, win_tex, common) -> Explanation:
    """Lp in the max-scaled form: y = m·(N⁻¹ Σ (|x|/m)^p)^{1/p}, m = max|x| — finite for any p and |x|."""
    c, i, j = u
    lay = ctx.layer
    p = float(lay.options["p"])
    # the layer's own constant c (1/|P| for the mean form, 1 for the sum form) where it exposes it
    c_norm = float(getattr(lay, "norm_factor", 1.0 / len(vals) if lay.options.get("norm", "mean") == "mean" else 1.0))
    mean = c_norm != 1.0
    n_div = round(1 / c_norm)
    m = max(abs(v) for v in vals)
    ratios = [abs(v) / m if m > 0 else 0.0 for v in vals]
    terms = tuple(Term(f"(|x[{cc},{aa},{bb}]|/m)^p", (r,), r ** p,
                       tex=rf"{tnum(r)}^{{{tnum(p)}}}", cell=(cc, aa, bb))
                  for (cc, aa, bb), r in zip(cells, ratios))
    f = fold(terms)
    inner = f.total / n_div
    total = m * inner ** (1 / p)
    end_p, end_t = result_lines(total, value, ctx.dtype)
    div_p, div_t = (f"(1/{n_div})·", rf"\dfrac{{1}}{{{n_div}}}") if mean else ("", "")
    numbers = [f"p = {fmt(p)}, m = max |x| = {fmt(m)}",
               f"= m·({div_p}({' + '.join(fmt(t.product) for t in f.shown)}"
               + (f" + ({more_terms(f.n_rest)}: {fmt(f.rest)})" if f.n_rest else "") + f"))^(1/{fmt(p)})",
               f"= {fmt(m)}·({fmt(inner)})^(1/{fmt(p)})", *end_p]
    lines = (win_tex, rf"p = {tnum(p)},\ m = \max\,|x_{{ab}}| = {tnum(m)}",
             rf"y_{idx(c, i, j)} = m\,\left({div_t}\left({f.tex()}\right)\right)^{{1/{tnum(p)}}}",
             rf"= {tnum(m)} \cdot {tnum(inner)}^{{1/{tnum(p)}}}", *end_t)
    formula = ("y_ij = m·((1/|P|) Σ_{P_ij} (|x_ab|/m)^p)^{1/p},  m = max_{P_ij} |x_ab|" if mean else
               "y_ij = m·(Σ_{P_ij} (|x_ab|/m)^p)^{1/p},  m = max_{P_ij} |x_ab|")
    norm = r"\dfrac{1}{|P|}" if mean else ""
    formula_tex = (r"y_{ij} = \left(" + norm + r"\sum_{P_{ij}} |x_{ab}|^p\right)^{1/p} = m\left(" + norm
                   + r"\sum_{P_{ij}} \left(\dfrac{|x_{ab}|}{m}\right)^p\right)^{1/p}")
    return summed(ctx.title, terms, f, total, value, formula=formula, formula_tex=formula_tex, numbers=numbers,
                  lines=lines, **common)


def activation(ctx: Context, u) -> Explanation:
    lay = ctx.layer
    at = (ctx.sample, *u)
    x, value = float(ctx.fwd.x[at]), float(ctx.fwd.y[at])
    sub = idx(*u)
    if isinstance(lay, Sigmoid):
        e = math.exp(-x) if x > -700 else math.inf
        formula, ftex = "y = 1/(1+e^(−x))", r"y = \dfrac{1}{1 + e^{-x}}"
        numbers = f"x = {fmt(x)}\ny = 1/(1+e^({fmt(-x)})) = 1/(1+{fmt(e)})\n= {fmt(value)}"
        lines = (rf"x_{sub} = {tnum(x)}", rf"y_{sub} = \dfrac{{1}}{{1 + e^{{{tnum(-x)}}}}} = \dfrac{{1}}{{1 + {tnum(e)}}}",
                 rf"= {tnum(value)}")
    elif isinstance(lay, ReLU):
        formula, ftex = "y = max(0, x)", r"y = \max(0,\ x)"
        numbers = f"x = {fmt(x)}\ny = max(0, {fmt(x)})\n= {fmt(value)}"
        lines = (rf"x_{sub} = {tnum(x)}", rf"y_{sub} = \max(0,\ {tnum(x)})", rf"= {tnum(value)}")
    elif isinstance(lay, Tanh):
        formula, ftex = "y = tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))", r"y = \tanh x = \dfrac{e^x - e^{-x}}{e^x + e^{-x}}"
        numbers = f"x = {fmt(x)}\ny = tanh({fmt(x)})\n= {fmt(value)}"
        lines = (rf"x_{sub} = {tnum(x)}", rf"y_{sub} = \tanh({tnum(x)})", rf"= {tnum(value)}")
    else:
        return generic(ctx, u)
    reads, computes = _maps(ctx, [tuple(u)], u)
    return Explanation(ctx.title, formula, numbers, value, formula_tex=ftex, lines_tex=lines, reads=reads,
                       computes=computes, total=value)


def flatten(ctx: Context, u) -> Explanation:
    src = tuple(int(v) for v in np.unravel_index(u[0], ctx.layer.input_shape))
    value = float(ctx.fwd.y[ctx.sample, u[0]])
    reads, computes = _maps(ctx, [src], u)
    return Explanation(ctx.title, _("y_d = x[c, i, j] with d = (c·H + i)·W + j   (row-major)"),
                       f"d = {u[0]} ← x{src}\n= {fmt(value)}", value,
                       formula_tex=r"y_d = x_{c,i,j},\quad d = (cH + i)\,W + j",
                       lines_tex=(rf"y_{{{u[0]}}} = x_{idx(*src)}", rf"= {tnum(value)}"),
                       reads=reads, computes=computes, total=value)


def generic(ctx: Context, u) -> Explanation:
    value = float(ctx.fwd.y[(ctx.sample, *u)])
    name = ctx.layer.type_name
    reads, computes = _maps(ctx, [], u)
    return Explanation(ctx.title, f"y = {name}(x)", f"= {fmt(value)}", value,
                       formula_tex=rf"y = {tex_name(name)}(x)", lines_tex=(rf"= {tnum(value)}",),
                       reads=reads, computes=computes, total=value)


FORWARD = {Conv2D: conv, MaxPool2D: pool, AvgPool2D: pool, LpPool2D: pool, Sigmoid: activation, ReLU: activation,
           Tanh: activation, Flatten: flatten, Dense: dense}
