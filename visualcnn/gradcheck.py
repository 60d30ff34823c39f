"""Numeric gradient checks: central differences in float64 (MATH.md §5).

For every layer i, every parameter of it, and its input, the analytic gradient
from `backward` is compared with (C(θ+h) − C(θ−h)) / 2h, where C is the
network's loss recomputed from layer i on (the layers below are unaffected).
relative error = |a − n| / max(|a|, |n|, tiny); an entry passes under `tol`.

`tiny` is the central difference's own noise floor divided by `tol`: rounding
gives the numeric estimate an error of about ε_mach·|C|/h, truncation about h²,
so gradients smaller than (ε_mach·|C|/h + h²)/tol cannot be measured to `tol`
and are compared on that absolute scale instead (a wrong formula is many orders
of magnitude above it).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .layers import Layer
from .network import Network
from .spec import format_shape
from visualcnn.i18n import _

#: the smallest `tiny` ever used (float64 gradients below it are zero for every purpose here)
TINY = 1e-12


def noise_floor(loss: float, h: float, tol: float) -> float:
    """The `tiny` of the relative error for a loss value C and step h: (ε·max(|C|, 1)/h + h²) / tol."""
    eps = np.finfo(np.float64).eps
    return max(TINY, (eps * max(abs(loss), 1.0) / h + h * h) / tol)


class GradCheckCancelled(Exception):
    """Raised inside gradcheck when `should_stop()` answers True."""


@dataclass
class CheckResult:
    """One tensor's check: the entries compared (flat indices into `shape`) and their errors."""

    layer: int
    layer_type: str
    name: str                       # "W", "b", ... or "input"
    shape: tuple[int, ...]
    indices: np.ndarray             # flat indices checked
    analytic: np.ndarray
    numeric: np.ndarray
    tol: float
    tiny: float = TINY
    #: entries at a kink (a max-pooling tie, a ReLU at 0): no derivative exists, so they are not judged
    kinks: np.ndarray | None = None

    @property
    def rel_error(self) -> np.ndarray:
        return relative_error(self.analytic, self.numeric, self.tiny)

    @property
    def judged(self) -> np.ndarray:
        """Mask of the checked entries that count (all but the kinks)."""
        return np.ones(self.indices.size, bool) if self.kinks is None else ~self.kinks

    @property
    def n_kinks(self) -> int:
        return 0 if self.kinks is None else int(self.kinks.sum())

    @property
    def max_rel_error(self) -> float:
        err = self.rel_error[self.judged]
        return float(err.max()) if err.size else 0.0

    @property
    def failing(self) -> np.ndarray:
        """Flat indices (into `shape`) of the entries over the tolerance."""
        return self.indices[(self.rel_error >= self.tol) & self.judged]

    @property
    def passed(self) -> bool:
        return self.max_rel_error < self.tol

    @property
    def sampled(self) -> bool:
        return self.indices.size < int(np.prod(self.shape))

    def full(self, which: str) -> np.ndarray:
        """'analytic' / 'numeric' / 'rel_error' as an array of `shape`, NaN where not checked."""
        values = {"analytic": self.analytic, "numeric": self.numeric, "rel_error": self.rel_error}[which]
        out = np.full(int(np.prod(self.shape)), np.nan)
        out[self.indices] = values
        return out.reshape(self.shape)


@dataclass
class GradCheckReport:
    results: list[CheckResult] = field(default_factory=list)
    tol: float = 1e-6

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def result(self, layer: int, name: str) -> CheckResult:
        for r in self.results:
            if r.layer == layer and r.name == name:
                return r
        raise KeyError(_("no check for layer {layer} {name!r}").format(layer=layer, name=name))

    def table(self) -> str:
        """The per-layer table: layer, type, tensor, shape, entries checked, max relative error, pass/fail."""
        rows = [(_("layer"), _("type"), _("tensor"), _("shape"), _("checked"), _("max rel. error"), "")]
        for r in self.results:
            total = int(np.prod(r.shape))
            verdict = _("ok") if r.passed else _("FAIL")
            if r.n_kinks:
                verdict += _(" ({n_kinks} at kinks, not judged)").format(n_kinks=r.n_kinks)
            rows.append((str(r.layer), r.layer_type, r.name, format_shape(r.shape),
                         f"{r.indices.size}/{total}", f"{r.max_rel_error:.2e}", verdict))
        widths = [max(_width(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines = ["  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip() for row in rows]
        verdict = (_("all passed") if self.passed else
                   _("{failed} of {checked} FAILED").format(failed=len(self.failures), checked=len(self.results)))
        lines.append(_("tolerance {tol:.0e} on the relative error: {verdict}").format(
                         tol=self.tol, verdict=verdict))
        return "\n".join(lines)


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: East Asian wide characters (漢字, かな) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def relative_error(a: np.ndarray, n: np.ndarray, tiny: float = TINY) -> np.ndarray:
    """|a − n| / max(|a|, |n|, tiny), element-wise."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), tiny)


def numeric_gradient(f: Callable[[], float], array: np.ndarray, indices: np.ndarray, h: float = 1e-5,
                     on_entry: Callable[[], None] | None = None) -> np.ndarray:
    """Central differences of f() w.r.t. the entries `indices` of `array` (perturbed in place, then restored)."""
    flat = array.reshape(-1)            # a view: `array` must be contiguous
    out = np.empty(indices.size)
    for j, idx in enumerate(indices):
        old = flat[idx]
        flat[idx] = old + h
        f_plus = f()
        flat[idx] = old - h
        f_minus = f()
        flat[idx] = old
        out[j] = (f_plus - f_minus) / (2 * h)
        if on_entry is not None:
            on_entry()
    return out


def _pick(size: int, max_entries: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_entries, replace=False))


def gradcheck(net: Network, x: Any, labels: Any, *, h: float = 1e-5, tol: float = 1e-6,
              max_entries: int | None = None, seed: int = 0, jitter: float = 0.0,
              layers: Sequence[int] | None = None,
              progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> GradCheckReport:
    """Check every parameter and every layer input of `net` on the batch (x, labels), in float64.

    The network itself is not touched: the check runs on a float64 copy.
    max_entries: check at most this many entries per tensor (a random, seeded sample).
    jitter: add N(0, jitter²) noise to x first. Real images have flat regions whose values tie
        exactly inside a max-pooling window or sit exactly at a ReLU's kink, where no derivative
        exists (MATH.md §5); a little noise moves them off those points.
    progress(done, total) is called after each entry; should_stop() can cancel (GradCheckCancelled).
    """
    net64 = net.copy(np.float64)
    x = net64.check_input(x)
    rng = np.random.default_rng(seed)
    if jitter:
        x = x + rng.normal(0.0, jitter, size=x.shape)
    chosen = range(len(net64.layers)) if layers is None else layers

    # one clean pass: every layer's input, the analytic gradients, and the gradient each layer sends down
    inputs: list[np.ndarray] = []
    h_ = x
    for layer in net64.layers:
        inputs.append(h_.copy())
        h_ = layer.forward(h_)
    tiny = noise_floor(net64.loss(h_, labels), h, tol)
    labels = net64.loss_fn.labels
    dout = net64.loss_fn.backward()
    dinputs: list[np.ndarray] = [None] * len(net64.layers)  # type: ignore[list-item]
    for i in reversed(range(len(net64.layers))):
        dout = net64.layers[i].backward(dout)
        dinputs[i] = dout
    analytic = [{k: g.copy() for k, g in layer.grads.items()} for layer in net64.layers]

    plan = []   # (layer index, name, array to perturb, analytic gradient, indices)
    for i in chosen:
        layer = net64.layers[i]
        for k, p in layer.params.items():
            plan.append((i, k, p, analytic[i][k], _pick(p.size, max_entries, rng)))
        plan.append((i, "input", inputs[i], dinputs[i], _pick(inputs[i].size, max_entries, rng)))

    total = sum(item[4].size for item in plan)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if should_stop is not None and should_stop():
            raise GradCheckCancelled()
        if progress is not None:
            progress(done, total)

    report = GradCheckReport(tol=tol)
    for i, name, array, grad, idx in plan:
        start = inputs[i]

        def loss_from_layer(i: int = i, start: np.ndarray = start) -> float:
            out = start
            for layer in net64.layers[i:]:
                out = layer.forward(out)
            return net64.loss_fn.forward(out, labels)

        report.results.append(check_tensor(loss_from_layer, array, grad, idx, layer=i,
                                           layer_type=net64.layers[i].type_name, name=name, h=h, tol=tol,
                                           tiny=tiny, on_entry=tick))
    return report


def check_tensor(f: Callable[[], float], array: np.ndarray, analytic: np.ndarray, indices: np.ndarray, *,
                 layer: int, layer_type: str, name: str, h: float, tol: float, tiny: float,
                 on_entry: Callable[[], None] | None = None) -> CheckResult:
    """Compare `analytic` (shape of `array`) with central differences of f() at `indices`; kinks marked."""
    numeric = numeric_gradient(f, array, indices, h, on_entry=on_entry)
    result = CheckResult(layer=layer, layer_type=layer_type, name=name, shape=array.shape, indices=indices,
                         analytic=np.asarray(analytic, dtype=np.float64).reshape(-1)[indices].copy(),
                         numeric=numeric, tol=tol, tiny=tiny)
    suspects = np.flatnonzero(result.rel_error >= tol)
    if suspects.size:
        result.kinks = np.zeros(indices.size, bool)
        result.kinks[suspects] = at_kink(f, array, indices[suspects], h, tiny * tol)
    return result


def gradcheck_layer(layer: Layer, x: Any, dout: Any = None, *, h: float = 1e-5, tol: float = 1e-6,
                    max_entries: int | None = None, seed: int = 0, index: int = 0) -> GradCheckReport:
    """Check one layer alone: C = Σ dout · layer.forward(x), so ∂C/∂(input, params) come from backward(dout).

    x: (N, *input_shape); dout: (N, *output_shape), random (seeded) when None. Runs in float64 on a
    twin of the layer (same class, options and parameters). The results carry layer = `index`;
    parameters first, then "input", like `gradcheck`.
    """
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)           # our own copy: it is perturbed in place
    twin = type(layer)(**layer.options)
    twin.build(tuple(layer.input_shape) or tuple(x.shape[1:]), np.random.default_rng(0), np.float64)
    for k, v in layer.params.items():
        twin.params[k][...] = v
    y = twin.forward(x)
    dout = rng.standard_normal(y.shape) if dout is None else np.array(dout, dtype=np.float64)
    value = float(np.vdot(dout, y))
    dx = np.array(twin.backward(dout), dtype=np.float64)
    analytic = {**{k: np.array(g, dtype=np.float64) for k, g in twin.grads.items()}, "input": dx}
    tiny = noise_floor(value, h, tol)

    def f() -> float:
        return float(np.vdot(dout, twin.forward(x)))

    report = GradCheckReport(tol=tol)
    for name, array in [*twin.params.items(), ("input", x)]:
        report.results.append(check_tensor(f, array, analytic[name], _pick(array.size, max_entries, rng),
                                           layer=index, layer_type=twin.type_name, name=name, h=h, tol=tol,
                                           tiny=tiny))
    return report


def gradcheck_loss(loss: Any, logits: Any, labels: Any, *, h: float = 1e-5, tol: float = 1e-6) -> GradCheckReport:
    """Check a loss's ∂C/∂logits (N, K) against central differences; the result has layer −1, name "logits"."""
    logits = np.array(logits, dtype=np.float64)
    value = loss.forward(logits, labels)
    analytic = np.array(loss.backward(), dtype=np.float64)
    report = GradCheckReport(tol=tol)
    report.results.append(check_tensor(lambda: loss.forward(logits, labels), logits, analytic,
                                       np.arange(logits.size), layer=-1, layer_type=loss.type_name,
                                       name="logits", h=h, tol=tol, tiny=noise_floor(value, h, tol)))
    return report


def at_kink(f: Callable[[], float], array: np.ndarray, indices: np.ndarray, h: float,
            noise: float) -> np.ndarray:
    """Which entries sit at a kink of f: the one-sided slopes differ, and the gap does not shrink with h.

    On a smooth function (f(x+h) − f(x))/h and (f(x) − f(x−h))/h differ by about h·f''; shrinking h
    tenfold shrinks the gap tenfold. At a kink (a max-pooling tie, ReLU at 0) the gap is the jump of
    the derivative and stays. A wrong backward formula is not a kink: its numeric slopes agree.
    """
    flat = array.reshape(-1)
    f0 = f()
    out = np.zeros(indices.size, bool)
    for j, idx in enumerate(indices):
        old = flat[idx]
        gaps = []
        for step in (h, h / 10):
            flat[idx] = old + step
            f_plus = f()
            flat[idx] = old - step
            f_minus = f()
            flat[idx] = old
            gaps.append(abs((f_plus - f0) - (f0 - f_minus)) / step)
        out[j] = gaps[0] > 10 * noise and gaps[1] > 0.5 * gaps[0]
    return out


def _analytic(net: Network, x: np.ndarray, labels: Any) -> list[dict[str, np.ndarray]]:
    """Every layer's parameter gradients and input gradient ("input") from one forward/backward of `net`."""
    out = x
    for layer in net.layers:
        out = layer.forward(out)
    net.loss(out, labels)
    dout = net.loss_fn.backward()
    grads: list[dict[str, np.ndarray]] = [{} for _ in net.layers]
    for i in reversed(range(len(net.layers))):
        dout = net.layers[i].backward(dout)
        grads[i] = {**{k: np.array(g, dtype=np.float64) for k, g in net.layers[i].grads.items()},
                    "input": np.array(dout, dtype=np.float64)}
    return grads


def dtype_check(net: Network, x: Any, labels: Any, *, tol: float = 1e-4) -> GradCheckReport:
    """Compare the float32 network's analytic gradients with the float64 ones on the same numbers.

    `gradcheck` runs on a float64 copy, so a bug only the float32 path has (a dtype-dependent fast
    path, a cast in the wrong place) would pass it. Here the parameters and x are rounded to float32
    once; a float32 copy and a float64 copy of those same values each run forward and backward, and
    every tensor's gradients must agree to float32 precision: relative error against the tensor's
    largest float64 entry below `tol` (1e-4 ≈ 800 float32 ulps, room for a stack's accumulated
    rounding; a wrong formula is off by order 1). `analytic` holds float32's values, `numeric` float64's.
    """
    net32 = net.copy(np.float32)
    net64 = net32.copy(np.float64)          # exactly the float32 parameters, widened
    x32 = net32.check_input(x)
    g32 = _analytic(net32, x32, labels)
    g64 = _analytic(net64, x32.astype(np.float64), labels)
    report = GradCheckReport(tol=tol)
    for i, layer in enumerate(net64.layers):
        for name, ref in g64[i].items():
            scale = max(float(np.abs(ref).max(initial=0.0)), TINY)
            report.results.append(CheckResult(
                layer=i, layer_type=layer.type_name, name=name, shape=ref.shape, indices=np.arange(ref.size),
                analytic=g32[i][name].reshape(-1), numeric=ref.reshape(-1), tol=tol, tiny=scale))
    return report


def update_check(optimizer: Any, *, seed: int = 0, tol: float = 1e-9) -> GradCheckReport:
    """Compare one optimizer step with MATH.md §2 computed by hand, for every parameter tensor.

    Runs on a float64 copy (the optimizer and its network are not touched) with random, seeded
    gradients and previous steps Δw^{t−1}. In each result `analytic` is the optimizer's Δw and
    `numeric` the rule's Δw = −ε ∂C/∂w + α Δw^{t−1} − ελw (λ on biases only if decay_biases).
    """
    rng = np.random.default_rng(seed)
    hyper = optimizer.hyper()
    net = optimizer.net.copy(np.float64)
    opt = type(optimizer)(net, **hyper)
    prev = [{k: rng.standard_normal(p.shape) for k, p in layer.params.items()} for layer in net.layers]
    opt.set_state(prev)
    for layer in net.layers:
        for k, g in layer.grads.items():
            g[...] = rng.standard_normal(g.shape)
    before = net.get_params()
    opt.step()
    lr, alpha, lam = hyper["lr"], hyper["momentum"], hyper["weight_decay"]
    report = GradCheckReport(tol=tol)
    for i, layer in enumerate(net.layers):
        for k, w in layer.params.items():
            decay = lam if (k != "b" or hyper["decay_biases"]) else 0.0
            expected = -lr * layer.grads[k] + alpha * prev[i][k] - lr * decay * before[i][k]
            actual = w - before[i][k]
            report.results.append(CheckResult(
                layer=i, layer_type=layer.type_name, name=k, shape=w.shape, indices=np.arange(w.size),
                analytic=actual.reshape(-1), numeric=expected.reshape(-1), tol=tol, tiny=TINY))
    return report
