"""Backward explanations: how a layer's backward computed one entry of ∂C/∂(input) or of ∂C/∂W, ∂C/∂b.

`backward` functions get the unit in the layer's *input* (per-sample index: what the backward sends
down) and write it as the sum over every output unit that read it — for pooling with overlapping
windows, every window containing it; for a conv, every position of every filter that touched it —
read from the backward record (∂C/∂y arriving, the routing, the weights the pass used). `value` is
the record's ∂C/∂x entry. `param` explains one parameter-gradient entry the same way.
"""

from __future__ import annotations

import numpy as np

from ..layers import Conv2D, Dense, Flatten, ReLU, Sigmoid, Tanh
from .context import POOLS, Context, symbols, tex_name
from visualcnn.i18n import _
from .model import Explanation, MapRef, Term, fmt, fold, idx, par, result_lines, shifted, summed, tnum, tpar


def _grad(sym: str, sub: str = "") -> str:
    """∂C/∂sym_sub as a mathtext fraction (sub: '{1,2}' or '_{ij}')."""
    if sub and not sub.startswith("_"):
        sub = "_" + sub
    return rf"\dfrac{{\partial C}}{{\partial {sym}{sub}}}"


def _maps(ctx: Context, cells, u) -> tuple[MapRef, MapRef]:
    x_sym, y_sym = symbols(ctx.layer)
    n = ctx.sample
    reads = MapRef(_("reads {symbol}").format(symbol=f"∂C/∂{y_sym}"), ctx.bwd.dout[n], tuple(cells),
                   gradient=True, about=_("the gradient arriving at layer {index}'s output").format(index=ctx.index))
    computes = MapRef(_("computes {symbol}").format(symbol=f"∂C/∂{x_sym}"), ctx.bwd.dx[n], (tuple(u),),
                      gradient=True,
                      about=_("the gradient layer {index} sends down to its input").format(index=ctx.index))
    return reads, computes


def _sum(ctx: Context, u, terms, formula: str, formula_tex: str, head_tex: str, value: float,
         reads: MapRef, computes: MapRef, scale: tuple[str, str] | None = None) -> Explanation:
    f = fold(terms)
    total = f.total
    end_p, end_t = result_lines(total, value, ctx.dtype)
    if not terms:
        numbers = [_("no output unit read this input (it lies outside every window): nothing flows back"), *end_p]
        lines = [head_tex, "= 0"]           # why, in words: the plain-text numbers (mathtext has no CJK glyphs)
    else:
        numbers = [f"= {f.plain()}", *end_p]
        lines = [head_tex, f"= {f.tex()}", *end_t]
    return summed(ctx.title, terms, f, total, value, formula=formula, formula_tex=formula_tex, numbers=numbers,
                  lines=lines, reads=reads, computes=computes)


def conv(ctx: Context, u) -> Explanation:
    k_, a, b = u
    lay: Conv2D = ctx.layer
    F, Ho, Wo = lay.output_shape
    k, s, pad = lay.options["kernel_size"], lay.options["stride"], lay.options["padding"]
    Wt = ctx.params("W")
    dout = ctx.bwd.dout[ctx.sample]
    terms = []
    for l in range(F):
        for p in range(k):
            for q in range(k):
                ii, jj = a + pad - p, b + pad - q
                if ii % s or jj % s:
                    continue
                i, j = ii // s, jj // s
                if 0 <= i < Ho and 0 <= j < Wo:
                    d, w = float(dout[l, i, j]), float(Wt[l, k_, p, q])
                    terms.append(Term(f"δ[{l},{i},{j}]·W[{l},{k_},{p},{q}]", (d, w), d * w,
                                      tex=rf"{tpar(d)} \cdot {tpar(w)}", cell=(l, i, j)))
    value = float(ctx.bwd.dx[(ctx.sample, *u)])
    formula = _("∂C/∂y_{{k,a,b}} = Σ_l Σ_p Σ_q δ_{{l,i,j}} · W_{{l,k,p,q}}  over i·s+p−pad = a, "
                "j·s+q−pad = b   (δ = ∂C/∂x)").format()
    formula_tex = (_grad("y", "_{k,a,b}") + r" = \sum_{l}\sum_{p,q}\ \delta_{l,i,j}\, W_{l,k,p,q},"
                   r"\quad is+p-\mathrm{pad} = a,\ js+q-\mathrm{pad} = b")
    head = _grad("y", idx(k_, a, b)) + rf" = \sum\ \delta_{{l,i,j}}\,W_{idx('l', k_, 'p', 'q')}"
    return _sum(ctx, u, terms, formula, formula_tex, head, value, *_maps(ctx, [t.cell for t in terms], u))


def dense(ctx: Context, u) -> Explanation:
    lay: Dense = ctx.layer
    i = int(np.ravel_multi_index(tuple(u), lay.input_shape))
    Wt = ctx.params("W")
    dout = ctx.bwd.dout[ctx.sample]
    terms = [Term(f"W[{j},{i}]·δ[{j}]", (float(Wt[j, i]), float(dout[j])), float(Wt[j, i]) * float(dout[j]),
                  tex=rf"{tpar(float(Wt[j, i]))} \cdot {tpar(float(dout[j]))}", cell=(j,))
             for j in range(dout.shape[0])]
    value = float(ctx.bwd.dx[(ctx.sample, *u)])
    head = _grad("y", f"_{{{i}}}") + rf" = \sum_{{j<{dout.shape[0]}}} W_{idx('j', i)}\, \delta_j"
    return _sum(ctx, u, terms, _("∂C/∂y_i = Σ_j W_ji · δ_j   (δ = ∂C/∂x of this layer)"),
                _grad("y", "_i") + r" = \sum_j W_{ji}\, \delta_j,\quad \delta_j = " + _grad("x", "_j"),
                head, value, *_maps(ctx, [t.cell for t in terms], u))


def pool(ctx: Context, u) -> Explanation:
    c, a, b = u
    lay = ctx.layer
    k, s = lay.kernel, lay.stride
    _C, Ho, Wo = lay.output_shape
    routing = ctx.routing()[ctx.sample, c]
    dout = ctx.bwd.dout[ctx.sample, c]
    terms = []
    for i in range(max(0, -(-(a - k + 1) // s)), min(Ho - 1, a // s) + 1):
        for j in range(max(0, -(-(b - k + 1) // s)), min(Wo - 1, b // s) + 1):
            d, r = float(dout[i, j]), float(routing[i, j, a - i * s, b - j * s])
            terms.append(Term(f"∂C/∂y[{c},{i},{j}]·∂y[{c},{i},{j}]/∂x[{c},{a},{b}]", (d, r), d * r,
                              tex=rf"{tpar(d)} \cdot {tpar(r)}", cell=(c, i, j)))
    value = float(ctx.bwd.dx[(ctx.sample, *u)])
    kind = type(lay).__name__
    share = {"MaxPool2D": _("∂y_ij/∂x_ab = 1 if x_ab won window ij, else 0"),
             "AvgPool2D": "∂y_ij/∂x_ab = 1/|P|",
             "LpPool2D": _("∂y_ij/∂x_ab = (1/|P|) sign(x_ab) (|x_ab|/y_ij)^(p−1), 0 where y_ij = 0"),
             }.get(kind, "")
    formula = _("∂C/∂x_ab = Σ_(windows ij containing ab) ∂C/∂y_ij · ∂y_ij/∂x_ab;   {share}").format(
        share=share)
    formula_tex = (_grad("x", "_{ab}") + r" = \sum_{ij:\ (a,b)\in P_{ij}} " + _grad("y", "_{ij}")
                   + r"\,\dfrac{\partial y_{ij}}{\partial x_{ab}}")
    head = (_grad("x", idx(c, a, b)) + rf" = \sum_{{ij}} " + _grad("y", idx(c, "i", "j"))
            + r"\,\dfrac{\partial y_{ij}}{\partial x_{" + f"{a},{b}" + "}}")
    return _sum(ctx, u, terms, formula, formula_tex, head, value, *_maps(ctx, [t.cell for t in terms], u))


def activation(ctx: Context, u) -> Explanation:
    lay = ctx.layer
    at = (ctx.sample, *u)
    dout, dx = float(ctx.bwd.dout[at]), float(ctx.bwd.dx[at])
    x, y = float(ctx.fwd.x[at]), float(ctx.fwd.y[at])
    sub = idx(*u)
    if isinstance(lay, Sigmoid):
        local = y * (1 - y)
        formula, ftex = "∂C/∂x = ∂C/∂y · y(1−y)", _grad("x") + " = " + _grad("y") + r"\cdot y\,(1-y)"
        numbers = f"= {par(dout)} · {fmt(y)}·(1−{fmt(y)}) = {par(dout)} · {fmt(local)}"
        mid = rf"= {tpar(dout)} \cdot {tnum(y)}\,(1-{tnum(y)}) = {tpar(dout)} \cdot {tnum(local)}"
    elif isinstance(lay, ReLU):
        local = float(x > 0)
        formula, ftex = "∂C/∂x = ∂C/∂y · [x > 0]", _grad("x") + " = " + _grad("y") + r"\cdot [x > 0]"
        numbers = (_("x = {x}, so [x > 0] = {local}").format(x=fmt(x), local=int(local))
                   + f"\n= {par(dout)} · {int(local)}")
        mid = rf"x = {tnum(x)}:\ [x>0] = {int(local)},\quad = {tpar(dout)} \cdot {int(local)}"
    elif isinstance(lay, Tanh):
        local = 1 - y * y
        formula, ftex = "∂C/∂x = ∂C/∂y · (1 − y²)", _grad("x") + " = " + _grad("y") + r"\cdot (1-y^2)"
        numbers = f"= {par(dout)} · (1 − {par(y)}²) = {par(dout)} · {fmt(local)}"
        mid = rf"= {tpar(dout)} \cdot (1 - {tpar(y)}^2) = {tpar(dout)} \cdot {tnum(local)}"
    else:
        return generic(ctx, u)
    end_p, end_t = result_lines(dout * local, dx, ctx.dtype)
    lines = (_grad("x", sub) + " = " + _grad("y", sub) + r"\cdot \dfrac{\partial y}{\partial x}", mid, *end_t)
    term = Term("∂C/∂y·∂y/∂x", (dout, local), dout * local, cell=tuple(u))
    return Explanation(ctx.title, formula, "\n".join([numbers, *end_p]), dx, (term,), formula_tex=ftex,
                       lines_tex=lines, total=dout * local, shown=(term,), **_named(_maps(ctx, [tuple(u)], u)))


def _named(maps: tuple[MapRef, MapRef]) -> dict[str, MapRef]:
    return {"reads": maps[0], "computes": maps[1]}


def flatten(ctx: Context, u) -> Explanation:
    d = int(np.ravel_multi_index(tuple(u), ctx.layer.input_shape))
    dout = float(ctx.bwd.dout[ctx.sample, d])
    value = float(ctx.bwd.dx[(ctx.sample, *u)])
    return Explanation(ctx.title, _("∂C/∂x[c,i,j] = ∂C/∂y_d,  d = (c·H + i)·W + j   (flatten only reshapes)"),
                       f"∂C/∂y_{d} = {fmt(dout)} → ∂C/∂x{tuple(u)}\n= {fmt(value)}", value,
                       formula_tex=_grad("x", "_{c,i,j}") + " = " + _grad("y", "_d") + r",\quad d = (cH+i)\,W + j",
                       lines_tex=(_grad("x", idx(*u)) + " = " + _grad("y", f"_{{{d}}}"), rf"= {tnum(value)}"),
                       total=dout, **_named(_maps(ctx, [(d,)], u)))


def generic(ctx: Context, u) -> Explanation:
    value = float(ctx.bwd.dx[(ctx.sample, *u)])
    name = tex_name(ctx.layer.type_name)
    return Explanation(ctx.title, f"∂C/∂x = ∂C/∂y · ∂{ctx.layer.type_name}/∂x", f"= {fmt(value)}", value,
                       formula_tex=_grad("x") + " = " + _grad("y") + r"\cdot \dfrac{\partial " + name + r"}{\partial x}",
                       lines_tex=(rf"= {tnum(value)}",), total=value, **_named(_maps(ctx, [], u)))


BACKWARD = {Conv2D: conv, Dense: dense, Sigmoid: activation, ReLU: activation, Tanh: activation, Flatten: flatten,
            **{cls: pool for cls in POOLS}}


# -- parameter gradients ---------------------------------------------------------------------------

def param(ctx: Context, name: str, index: tuple[int, ...]) -> Explanation:
    """∂C/∂W or ∂C/∂b at `index`: the sum over the batch (and, for a conv, every position) of δ · input."""
    lay = ctx.layer
    grads = ctx.bwd.grads[name]
    value = float(grads[index])
    delta = np.asarray(ctx.bwd.dout)
    x = np.asarray(ctx.fwd.x)
    N = delta.shape[0]
    n = ctx.sample
    terms: list[Term] = []
    if isinstance(lay, Conv2D):
        F, Ho, Wo = lay.output_shape
        C, H, W = lay.input_shape
        s, pad = lay.options["stride"], lay.options["padding"]
        if name == "W":
            l, k_, p, q = index
            # the (row, input row) and (column, input column) pairs whose window puts offset (p, q) inside
            # the input, gathered at once: a batch of 64 on a 24×24 map is 36,864 terms
            rows = [(i, i * s + p - pad) for i in range(Ho) if 0 <= i * s + p - pad < H]
            cols = [(j, j * s + q - pad) for j in range(Wo) if 0 <= j * s + q - pad < W]
            ds = np.asarray(delta[:, l], np.float64)[:, [i for i, _ in rows]][:, :, [j for j, _ in cols]].tolist()
            ys = np.asarray(x[:, k_], np.float64)[:, [a for _, a in rows]][:, :, [b for _, b in cols]].tolist()
            for smp in range(N):
                for (i, a), d_row, y_row in zip(rows, ds[smp], ys[smp]):
                    for (j, b), d, y in zip(cols, d_row, y_row):
                        terms.append(Term(f"δ[{smp}: {l},{i},{j}]·y[{smp}: {k_},{a},{b}]", (d, y), d * y,
                                          cell=(k_, a, b) if smp == n else None))
            formula = "∂C/∂W_{l,k,p,q} = Σ_s Σ_{i,j} δ^s_{l,i,j} · y^s_{k, i·s+p−pad, j·s+q−pad}"
            ftex = (_grad("W", "_{l,k,p,q}") + r" = \sum_s \sum_{i,j}\ \delta^s_{l,i,j}\,"
                    r"y^s_{k,\,is+p-\mathrm{pad},\,js+q-\mathrm{pad}}")
            head = (_grad("W", idx(*index)) + rf" = \sum_{{s<{N}}}\sum_{{i,j}}\ \delta^s_{idx(l, 'i', 'j')}\,"
                    rf"y^s_{idx(k_, shifted('i', s, p - pad), shifted('j', s, q - pad))}")
            computes = MapRef(_("computes {symbol}").format(symbol=f"∂C/∂W[{l}]"), grads[l], ((k_, p, q),),
                              gradient=True, about=_("the gradient of filter {l}").format(l=l))
            reads = MapRef(_("reads {symbol}").format(symbol="y"), x[n],
                           tuple(t.cell for t in terms if t.cell is not None),
                           about=_("layer {index}'s input, sample {n}").format(index=ctx.index, n=n))
        else:
            tied = grads.ndim == 1
            l = index[0]
            for smp in range(N):
                for i in range(Ho) if tied else (index[1],):
                    for j in range(Wo) if tied else (index[2],):
                        d = float(delta[smp, l, i, j])
                        terms.append(Term(f"δ[{smp}: {l},{i},{j}]", (d,), d, cell=(l, i, j) if smp == n else None))
            formula = "∂C/∂b_l = Σ_s Σ_{i,j} δ^s_{l,i,j}" if tied else "∂C/∂b_{l,i,j} = Σ_s δ^s_{l,i,j}"
            ftex = (_grad("b", "_l") + r" = \sum_s\sum_{i,j}\ \delta^s_{l,i,j}" if tied
                    else _grad("b", "_{l,i,j}") + r" = \sum_s\ \delta^s_{l,i,j}")
            head = _grad("b", idx(*index)) + rf" = \sum_{{s<{N}}}" + (r"\sum_{i,j}" if tied else "") + r"\ \delta^s"
            computes = MapRef(_("computes {symbol}").format(symbol="∂C/∂b"), grads, (tuple(index),), gradient=True,
                              about=_("the bias gradient"))
            reads = MapRef(_("reads {symbol}").format(symbol="δ"), delta[n],
                           tuple(t.cell for t in terms if t.cell is not None), gradient=True,
                           about=_("∂C/∂x arriving at layer {index}, sample {n}").format(index=ctx.index, n=n))
    elif isinstance(lay, Dense):
        x2 = x.reshape(N, -1)
        j = index[0]
        if name == "W":
            i = index[1]
            terms = [Term(f"δ[{smp}: {j}]·y[{smp}: {i}]", (float(delta[smp, j]), float(x2[smp, i])),
                          float(delta[smp, j]) * float(x2[smp, i]), cell=(i,) if smp == n else None)
                     for smp in range(N)]
            formula, ftex = "∂C/∂W_ji = Σ_s δ^s_j · y^s_i", _grad("W", "_{ji}") + r" = \sum_s\ \delta^s_j\, y^s_i"
            head = _grad("W", idx(j, i)) + rf" = \sum_{{s<{N}}} \delta^s_{{{j}}}\, y^s_{{{i}}}"
            computes = MapRef(_("computes {symbol}").format(symbol=f"∂C/∂W[{j}]"), grads[j], ((i,),), gradient=True,
                              about=_("row {j} of the weight gradient").format(j=j))
            reads = MapRef(_("reads {symbol}").format(symbol="y"), x2[n], ((i,),),
                           about=_("layer {index}'s input, sample {n}").format(index=ctx.index, n=n))
        else:
            terms = [Term(f"δ[{smp}: {j}]", (float(delta[smp, j]),), float(delta[smp, j]),
                          cell=(j,) if smp == n else None) for smp in range(N)]
            formula, ftex = "∂C/∂b_j = Σ_s δ^s_j", _grad("b", "_j") + r" = \sum_s\ \delta^s_j"
            head = _grad("b", f"_{{{j}}}") + rf" = \sum_{{s<{N}}} \delta^s_{{{j}}}"
            computes = MapRef(_("computes {symbol}").format(symbol="∂C/∂b"), grads, ((j,),), gradient=True,
                              about=_("the bias gradient"))
            reads = MapRef(_("reads {symbol}").format(symbol="δ"), delta[n], ((j,),), gradient=True,
                           about=_("∂C/∂x arriving at layer {index}, sample {n}").format(index=ctx.index, n=n))
    else:
        raise ValueError(_("layer {index} ({type}) has no parameter {name!r} to explain").format(
            index=ctx.index, type=lay.type_name, name=name))
    batch = _(" (summed over the {N} samples of the batch)").format(N=N) if N > 1 else ""
    f = fold(terms)
    end_p, end_t = result_lines(f.total, value, ctx.dtype)
    return summed(ctx.title, terms, f, f.total, value, formula=formula, formula_tex=ftex,
                  numbers=[f"= {f.plain()}{batch}", *end_p], lines=[head, f"= {f.tex()}", *end_t],
                  reads=reads, computes=computes)

