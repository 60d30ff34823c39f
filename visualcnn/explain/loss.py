"""The loss phase: a logit's gradient through softmax + cross-entropy, p_j − d_j (÷ N for the mean)."""

from __future__ import annotations

from typing import Any, Sequence

from ..mistakes import mistake_of
from ..records import StepRecord
from .context import find_record
from .model import Explanation, MapRef, fmt, result_lines, tnum, unavailable
from visualcnn.i18n import _


def explain_loss(net: Any, records: Sequence[StepRecord], n: int, j: int) -> Explanation:
    title = _("softmax + cross-entropy, class {j} of sample {n}").format(j=j, n=n)
    rec = find_record(records, "loss")
    if rec is None:
        return unavailable(title, _("step to the loss phase first"))
    wrong = mistake_of(net.loss_fn)
    if wrong is not None:
        value = float(rec.dx[n, j])
        return Explanation(_("{title} — ⚠ the study note's mistake {wrong!r} is on").format(title=title,
                                                                                              wrong=wrong),
                           _("∂C/∂x_j: the note's formula"),
                           _("the loss computes the study note's ∂C/∂x_j, not p_j − d_j") + f"\n= {fmt(value)}",
                           value,
                           formula_tex=r"\dfrac{\partial C}{\partial x_j}",
                           lines_tex=(rf"= {tnum(value)}",), total=value,
                           reads=MapRef(_("reads {symbol}").format(symbol="p"), rec.probs[n], ((j,),),
                                        about=_("the softmax probabilities")),
                           computes=MapRef(_("computes {symbol}").format(symbol="∂C/∂x"), rec.dx[n], ((j,),),
                                           gradient=True, about=_("the logits' gradient (mistaken)")))
    if not 0 <= n < rec.probs.shape[0]:
        raise ValueError(_("sample {n} is outside the batch of {shape}").format(n=n, shape=rec.probs.shape[0]))
    p, truth = float(rec.probs[n, j]), int(rec.batch_y[n])
    d = int(truth == j)
    dx = float(rec.dx[n, j])
    N = rec.probs.shape[0]
    mean = getattr(net.loss_fn, "reduction", "mean") == "mean" and N > 1
    logits = rec.logits[n]
    x, m = float(logits[j]), float(logits.max())
    total = (p - d) / N if mean else p - d
    end_p, end_t = result_lines(total, dx, rec.probs.dtype)
    formula = ("p_j = exp(x_j − max_k x_k) / Σ_k exp(x_k − max_k x_k);   ∂C/∂x_j = p_j − d_j"
               + (_("   (÷ N for the mean over the batch)") if mean else ""))
    formula_tex = (r"p_j = \dfrac{e^{x_j - \max_k x_k}}{\sum_k e^{x_k - \max_k x_k}},\qquad"
                   r"\dfrac{\partial C}{\partial x_j} = " + (r"\dfrac{p_j - d_j}{N}" if mean else "p_j - d_j"))
    why = _("the true class") if d else _("true class is {truth}").format(truth=truth)
    numbers = "\n".join([f"x_{j} = {fmt(x)}, max_k x_k = {fmt(m)} → p_{j} = {fmt(p)}",
                         f"d_{j} = {d} ({why})",
                         f"∂C/∂x_{j} = " + (f"({fmt(p)} − {d}) / {N}" if mean else f"{fmt(p)} − {d}"), *end_p])
    grad = rf"\dfrac{{\partial C}}{{\partial x_{{{j}}}}}"
    lines = (rf"x_{{{j}}} = {tnum(x)},\ \max_k x_k = {tnum(m)}\ \rightarrow\ p_{{{j}}} = {tnum(p)}",
             rf"d_{{{j}}} = [{j} = {truth}] = {d}",            # the words (the true class…) are in `numbers`
             grad + " = " + (rf"\dfrac{{{tnum(p)} - {d}}}{{{N}}}" if mean else f"{tnum(p)} - {d}"), *end_t)
    reads = MapRef(_("reads {symbol}").format(symbol="p"), rec.probs[n], ((j,),), about=_("the softmax probabilities"))
    computes = MapRef(_("computes {symbol}").format(symbol="∂C/∂x"), rec.dx[n], ((j,),), gradient=True,
                      about=_("the logits' gradient"))
    return Explanation(title, formula, numbers, dx, formula_tex=formula_tex, lines_tex=lines, reads=reads,
                       computes=computes, total=total)
