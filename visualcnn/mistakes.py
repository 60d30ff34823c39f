"""The study note's mistakes, each one switchable: the note's formula in place of the correct one.

Every mistake is a *subclass* of a built-in class (a layer, the loss or the optimizer)
that swaps exactly one formula for the note's version (MATH.md). The built-ins are
never touched, so the correct math stays the default and nothing leaks into normal
use: a network computes a mistake only when it was built with the mistake's class,

    net = build_network(spec, ["conv-no-flip"])                    # or
    session = build_session(cfg, mistakes=["conv-no-flip"])        # visualcnn.presets
    apply_to_session(session, ["sigmoid-sign"])                    # same weights, other math

and `active(net, optimizer)` reads back which mistakes a network computes.

Which tensors a mistake spoils (`Mistake.affects`, `expected_failures`):
- a layer's backward that is wrong for its *input* spoils that input's gradient and,
  through the chain rule, every tensor of every layer below it; the layer's own
  parameters (computed from the correct upstream gradient) and everything above stay right.
  The highest failing (layer, tensor) of a network check is therefore the affected one, and
  `gradcheck_layer` (the layer alone, with a random upstream gradient) flags exactly it;
- a wrong loss gradient spoils everything (`gradcheck_loss` flags the logits' gradient);
- an optimizer slip leaves every gradient right: `update_check` compares one update with
  MATH.md §2 computed by hand and flags the tensors the optimizer updates wrongly.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Sequence

import numpy as np

from .errors import VisualCNNError
from .gradcheck import GradCheckReport, gradcheck_layer, gradcheck_loss, update_check
from visualcnn.i18n import N_, _
from .layers import LAYER_TYPES, Conv2D, Layer, LpPool2D, Sigmoid
from .layers.activations import sigmoid_and_slope
from .layers.windows import scatter_windows, windows
from .losses import LOSS_TYPES, SoftmaxCrossEntropy
from .network import Network
from .optim import SGD


class UnknownMistakeError(VisualCNNError):
    """A mistake name that is not in MISTAKES."""


# -- the note's formulas, as subclasses of the correct ones ----------------------------------------

class SoftmaxDiagonal(SoftmaxCrossEntropy):
    """softmax-diagonal: ∂C/∂x_j = (d_j / p_j) · p_j(1 − p_j) = d_j(1 − p_j) (÷ N for "mean").

    The note's chain keeps only the diagonal of the softmax Jacobian and its ∂C/∂p_j = d_j/p_j
    has lost the minus sign of −log p.
    """

    mistake: ClassVar[str] = "softmax-diagonal"

    def backward(self) -> np.ndarray:
        if self.probs is None:
            raise RuntimeError(_("backward() needs a loss computed first"))
        N, K = self.probs.shape
        d = np.zeros_like(self.probs)
        d[np.arange(N), self.labels] = 1.0
        dx = d * (1.0 - self.probs)
        if self.reduction == "mean":
            dx /= N
        return dx


class LpPoolMissingFactor(LpPool2D):
    """lp-missing-factor: ∂y_ij/∂x_ab = (1/p)·((1/|P|) Σ |x|^p)^{1/p − 1} = (1/p)·y_ij^{1−p} for every (a, b).

    The note drops the inner factor (p/|P|)·sign(x_ab)|x_ab|^{p−1} of the chain rule. Only public
    state (x, y, options, kernel, stride) and the `windows` helpers are used, so the layer keeps
    working whatever the built-in's internals become; `routing` shows the note's derivative.
    """

    mistake: ClassVar[str] = "lp-missing-factor"

    def note_local_grad(self) -> np.ndarray:
        """The note's ∂y_ij/∂x_ab for every window: (N, C, H_out, W_out, KH, KW), 0 where y_ij = 0."""
        p = float(self.options["p"])
        y = np.asarray(self.y)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(y > 0, y ** (1.0 - p), 0.0) / p
        return np.broadcast_to(g[..., None, None], (*y.shape, self.kernel, self.kernel))

    @property
    def routing(self) -> np.ndarray:
        if self.x is None:
            raise RuntimeError(f"{self.type_name}: routing exists only after a forward pass")
        r = np.array(self.note_local_grad(), dtype=self.x.dtype)
        r.flags.writeable = False
        return r

    def backward(self, dout):
        dwin = self.note_local_grad() * np.asarray(dout)[..., None, None]
        return scatter_windows(dwin, self.x.shape, self.stride).astype(self.dtype, copy=False)


class SigmoidSign(Sigmoid):
    """sigmoid-sign: y = 1/(1 + e^{x}) forward (the note's e^{+x}), backward still y(1 − y).

    The true derivative of 1/(1 + e^{x}) is −y(1 − y): backward has the wrong sign.
    """

    mistake: ClassVar[str] = "sigmoid-sign"

    def forward(self, x):
        self.x = x
        # 1/(1 + e^{x}) = σ(−x); the inherited backward's y(1 − y) is the same slope as the right sigmoid's
        self.y, self._slope = sigmoid_and_slope(x, mirrored=True)
        return self.y


def full_correlation_input_grad(dout: np.ndarray, W: np.ndarray, input_shape: Sequence[int],
                                stride: int, padding: int) -> np.ndarray:
    """Σ_l (δ_l dilated by the stride, framed by KH−1 / KW−1 zeros) cross-correlated with W_{l,k}.

    dout (N, F, H_out, W_out), W (F, C, KH, KW) → (N, C, H, W) for the per-sample input_shape (C, H, W).
    With W rotated by 180° (W[:, :, ::-1, ::-1]) this is the correct ∂C/∂x of a convolution
    (MATH.md §4); with W as is, it is the classic bug of conv-no-flip.
    Input positions no window reaches (output size floored) get 0.
    """
    N, F, H_out, W_out = dout.shape
    C, H, Wd = input_shape
    KH, KW = W.shape[2:]
    s, pad = stride, padding
    hd, wd = s * (H_out - 1) + 1, s * (W_out - 1) + 1
    framed = np.zeros((N, F, hd + 2 * (KH - 1), wd + 2 * (KW - 1)), dtype=np.result_type(dout, W))
    framed[:, :, KH - 1:KH - 1 + hd:s, KW - 1:KW - 1 + wd:s] = dout
    win = windows(framed, KH, KW, 1)                                   # (N, F, Hc, Wc, KH, KW)
    covered = np.tensordot(win, W, axes=([1, 4, 5], [0, 2, 3]))         # (N, Hc, Wc, C)
    Hc, Wc = covered.shape[1:3]
    dxp = np.zeros((N, C, H + 2 * pad, Wd + 2 * pad), dtype=framed.dtype)
    dxp[:, :, :Hc, :Wc] = covered.transpose(0, 3, 1, 2)
    return dxp[:, :, pad:pad + H, pad:pad + Wd]


class ConvNoFlip(Conv2D):
    """conv-no-flip: ∂C/∂x as the full correlation of δ with the filter *not* rotated by 180°.

    The filter and bias gradients are the built-in's (they stay right); only dx is the note's.
    """

    mistake: ClassVar[str] = "conv-no-flip"

    def backward(self, dout):
        super().backward(dout)              # fills grads["W"], grads["b"] correctly
        dx = full_correlation_input_grad(dout, self.params["W"], self.input_shape,
                                         self.options["stride"], self.options["padding"])
        return dx.astype(self.dtype, copy=False)


class SGDBiasNoMomentum(SGD):
    """bias-no-momentum: the note's bias line Δb^t = −ε ∂C/∂b + Δb^{t−1} − ελ b (α dropped).

    Weights keep the correct rule; the bias's previous step is carried over at full weight
    instead of α times it, so its velocity never decays.
    """

    mistake: ClassVar[str] = "bias-no-momentum"

    def step(self) -> None:
        for layer, vel in zip(self.net.layers, self.velocity):
            for k, w in layer.params.items():
                v = vel[k]
                if k != "b":
                    v *= self.momentum                  # α Δw^{t−1}; the note's bias line has no α
                v -= self.lr * layer.grads[k]
                if self.weight_decay and self.decays(k):
                    v -= (self.lr * self.weight_decay) * w
                w += v


# -- the registry ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mistake:
    """One of the note's slips: the formula as written, the correct one, why they differ, what it spoils.

    Formulas are plain Unicode with `_x` / `_{..}` subscripts and `^x` / `^{..}` superscripts
    (`formula_html` renders them). Texts are marked for the catalogue (N_): show them through
    `visualcnn.i18n._` to get the current language. `affects`: (spec layer type, or "loss" / "optimizer";
    the tensors a check flags on that layer alone).
    """

    name: str
    title: str
    note_formula: str
    correct_formula: str
    why: str
    affects: tuple[tuple[str, tuple[str, ...]], ...]
    cls: type
    section: str = ""
    #: the layer's input gradient is exactly −(the right one): two such layers in a chain cancel out
    flips_sign: bool = False

    @property
    def kind(self) -> str:
        """"layer", "loss" or "optimizer": where the class goes."""
        target = self.affects[0][0]
        return target if target in ("loss", "optimizer") else "layer"

    @property
    def target(self) -> str:
        """The spec layer type it replaces, or "loss" / "optimizer"."""
        return self.affects[0][0]


MISTAKES: dict[str, Mistake] = {m.name: m for m in (
    Mistake(
        name="softmax-diagonal",
        title=N_("Softmax + cross-entropy: only the diagonal of the Jacobian, minus sign lost"),
        section="MATH.md §1",
        note_formula="∂C/∂p_j = d_j / p_j,   ∂p_j/∂x_j = p_j(1 − p_j)\n"
                     "∂C/∂x_j = (d_j / p_j) · p_j(1 − p_j) = d_j(1 − p_j)",
        correct_formula="∂C/∂p_i = −d_i / p_i,   ∂p_i/∂x_j = p_i(δ_{ij} − p_j)\n"
                        "∂C/∂x_j = Σ_i ∂C/∂p_i · ∂p_i/∂x_j = p_j − d_j",
        why=N_("The loss depends on x_j through every probability p_i, not only through p_j: the "
            "off-diagonal terms −p_i p_j of the softmax Jacobian (which the note derives correctly) must be "
            "summed too. And the derivative of −log p is −1/p: the note lost that minus sign. Together, the "
            "true class gets a gradient of the wrong sign and every other class gets none, so gradient "
            "descent pushes the right answer's probability down and the loss climbs."),
        affects=(("loss", ("logits",)),),
        cls=SoftmaxDiagonal),
    Mistake(
        name="lp-missing-factor",
        title=N_("Lp pooling: the chain rule's inner factor dropped"),
        section="MATH.md §3",
        note_formula="∂y_{ij}/∂y_{ab} = (1/p) · ((1/|P|) Σ_{P_{ij}} y_{pq}^p)^{1/p − 1}",
        correct_formula="∂y_{ij}/∂y_{ab} = (1/p) · u^{1/p − 1} · (p/|P|) · sign(y_{ab}) |y_{ab}|^{p−1}\n"
                        "= (1/|P|) · sign(y_{ab}) |y_{ab}|^{p−1} · y_{ij}^{1−p},   u = (1/|P|) Σ |y_{pq}|^p",
        why=N_("The output is y_ij = u^{1/p} with u = the mean of |y|^p over the window, so the chain rule "
            "needs two factors: ∂y/∂u = (1/p)·u^{1/p−1} and ∂u/∂y_ab = (p/|P|)·sign(y_ab)|y_ab|^{p−1}. The "
            "note keeps only the outer one: every input of a window gets the same share whatever its size, "
            "so the gradient no longer says which input mattered, and its scale is off."),
        affects=(("lppool2d", ("input",)),),
        cls=LpPoolMissingFactor),
    Mistake(
        name="sigmoid-sign",
        title=N_("Sigmoid written as 1/(1 + eˣ): the minus sign lost"),
        section="MATH.md §4",
        note_formula="y = 1 / (1 + e^{x}),   ∂y/∂x = y(1 − y)",
        correct_formula="y = 1 / (1 + e^{−x}),   ∂y/∂x = y(1 − y)",
        why=N_("With e^{+x} the curve falls instead of rising, and its true derivative is −y(1 − y). Keeping "
            "the textbook derivative y(1 − y) for the wrong function makes backward disagree with forward: "
            "every gradient below this layer has its sign flipped, so the layers below climb the loss "
            "instead of descending it."),
        affects=(("sigmoid", ("input",)),),
        cls=SigmoidSign, flips_sign=True),
    Mistake(
        name="conv-no-flip",
        title=N_("Convolution: input gradient without the 180° rotation of the filter"),
        section="MATH.md §4",
        note_formula=N_("(left “for later”: アルゴリズムをあとで考える) — the usual first attempt:\n"
                        "∂C/∂y_k = Σ_l δ_l ⋆_{full} h_{l,k}   (δ slid over the filter as it is)"),
        correct_formula=N_("∂C/∂y_{k,a,b} = Σ_l Σ_{p,q} δ_{l,i,j} h_{l,k,p,q}  with i·s + p − pad = a, j·s + q − pad = b\n"
                        "= Σ_l δ_l ⋆_{full} rot180(h_{l,k})   (δ dilated by the stride)"),
        why=N_("In the forward pass input y_{a+p} met filter tap h_p, so it must receive δ·h_p back: seen from "
            "the input, the taps arrive in reverse order, which is the 180° rotation. Without it each "
            "weight's share lands on the mirror-image position. The filter and bias gradients don't use "
            "this step and stay right; only what flows further down is wrong, so when the convolution "
            "is the first layer, training is unchanged and only the image's gradient is wrong."),
        affects=(("conv2d", ("input",)),),
        cls=ConvNoFlip),
    Mistake(
        name="bias-no-momentum",
        title=N_("Bias update: the momentum term without its α"),
        section="MATH.md §2",
        note_formula="Δb_j^t = −ε ∂C/∂b_j + Δb_j^{t−1} − ελ b_i^t",
        correct_formula="Δb_j^t = −ε ∂C/∂b_j + α Δb_j^{t−1} − ελ b_j^t",
        why=N_("Biases follow the same rule as the weights. Without α the previous step is carried over at "
            "full weight: the bias velocity never decays but sums every gradient so far, so the biases "
            "drift and overshoot. The gradients themselves are right, so a gradient check cannot see "
            "this slip; comparing one update with the rule computed by hand does."),
        affects=(("optimizer", ("b",)),),
        cls=SGDBiasNoMomentum),
)}


def check_names(names: Iterable[str] | None) -> list[str]:
    """The names, checked, without duplicates, in MISTAKES order; an UnknownMistakeError lists the valid ones."""
    wanted = list(names or [])
    for name in wanted:
        if name not in MISTAKES:
            close = difflib.get_close_matches(str(name), list(MISTAKES), n=1, cutoff=0.5)
            hint = _(" (did you mean {close!r}?)").format(close=close[0]) if close else ""
            raise UnknownMistakeError(_("unknown mistake {name!r}{hint}; valid mistakes: {MISTAKES}").format(
                                          name=name, hint=hint, MISTAKES=', '.join(MISTAKES)))
    return [n for n in MISTAKES if n in wanted]


def layer_types(names: Iterable[str] | None) -> dict[str, type[Layer]]:
    """Spec type → layer class for Network.from_spec: the registered types with the named mistakes swapped in."""
    types = dict(LAYER_TYPES)
    for name in check_names(names):
        m = MISTAKES[name]
        if m.kind == "layer":
            types[m.target] = m.cls
    return types


def loss_types(names: Iterable[str] | None) -> dict[str, type]:
    """Loss type → class for Network.from_spec, with the named loss mistakes swapped in."""
    types = dict(LOSS_TYPES)
    for name in check_names(names):
        m = MISTAKES[name]
        if m.kind == "loss":
            types[m.cls.type_name] = m.cls
    return types


def optimizer_class(names: Iterable[str] | None) -> type[SGD]:
    """SGD, or the optimizer mistake among `names`."""
    for name in check_names(names):
        if MISTAKES[name].kind == "optimizer":
            return MISTAKES[name].cls
    return SGD


def mistake_of(obj: Any) -> str | None:
    """The mistake a layer, loss or optimizer (instance or class) computes, or None for correct math."""
    cls = obj if isinstance(obj, type) else type(obj)
    name = cls.__dict__.get("mistake")
    return name if name in MISTAKES else None


def active(network: Network, optimizer: SGD | None = None) -> list[str]:
    """The mistakes `network` (and `optimizer`) compute, in MISTAKES order."""
    found = {mistake_of(layer) for layer in network.layers} | {mistake_of(network.loss_fn)}
    if optimizer is not None:
        found.add(mistake_of(optimizer))
    return [n for n in MISTAKES if n in found]


def applies_to(name: str, network: Network) -> bool:
    """Whether mistake `name` changes anything in `network` (e.g. lp-missing-factor needs an lppool2d layer)."""
    m = MISTAKES[check_names([name])[0]]
    if m.kind != "layer":
        return True
    return any(layer.type_name == m.target for layer in network.layers)


def build_network(spec: dict[str, Any], names: Iterable[str] | None = (), dtype: Any = np.float32,
                  seed: int = 0) -> Network:
    """Network.from_spec with the named mistakes on."""
    return Network.from_spec(spec, dtype=dtype, seed=seed, layer_types=layer_types(names),
                             loss_types=loss_types(names))


def with_mistakes(network: Network, names: Iterable[str] | None) -> Network:
    """A new network with `network`'s spec, dtype, seed and parameters, computing exactly the named mistakes.

    Layers of types no mistake touches keep their current class (a custom layer stays itself).
    """
    names = check_names(names)
    current = {layer.type_name: type(layer) for layer in network.layers if mistake_of(layer) is None}
    types = {**current, **layer_types(names)}
    net = Network.from_spec(network.to_spec(), dtype=network.dtype, seed=network.seed,
                            layer_types=types, loss_types=loss_types(names))
    net.set_params(network.get_params())
    return net


def apply_to_session(session: Any, names: Iterable[str] | None) -> list[str]:
    """Switch `session` to exactly the named mistakes, keeping weights, velocities and history.

    The current iteration is recomputed up to the cursor with the new formulas (Session.swap_network).
    Returns the mistakes now on.
    """
    names = check_names(names)
    net = with_mistakes(session.network, names)
    opt = optimizer_class(names)(net, **session.optimizer.hyper())
    opt.set_state(session.optimizer.get_state())
    session.swap_network(net, opt)
    return names


# -- which tensors a mistake spoils, and checks that find them ------------------------------------------

def expected_failures(network: Network) -> set[tuple[int, str]]:
    """(layer, tensor) pairs a full gradient check of `network` must flag, given the mistake classes it holds.

    Walking down from the loss, the gradient arriving at a layer is right, sign-flipped or spoiled.
    A layer's parameter gradients are wrong unless what arrives is right; its input gradient is then
    what arrives, passed through its backward: a sign-flipping mistake (sigmoid-sign) turns right
    into flipped and flipped back into right (two of them cancel), any other input mistake spoils it,
    and every backward is linear in what arrives, so a flip or a spoil carries on below. A loss
    mistake spoils everything; optimizer mistakes spoil no gradient.
    """
    state = "spoiled" if mistake_of(network.loss_fn) is not None else "right"
    out: set[tuple[int, str]] = set()
    for i in reversed(range(len(network.layers))):
        layer = network.layers[i]
        if state != "right":
            out |= {(i, k) for k in layer.params}
        name = mistake_of(layer)
        if name is not None and "input" in MISTAKES[name].affects[0][1]:
            if not MISTAKES[name].flips_sign:
                state = "spoiled"
            elif state != "spoiled":
                state = "flipped" if state == "right" else "right"
        if state != "right":
            out.add((i, "input"))
    return out


def first_failure(report: GradCheckReport) -> tuple[int, str] | None:
    """The highest failing (layer, tensor) of a network check: where the wrong formula sits."""
    failures = [(r.layer, r.name) for r in report.failures]
    return max(failures, key=lambda f: (f[0], f[1] != "input")) if failures else None


# -- display ------------------------------------------------------------------------------------

_SCRIPT = re.compile(r"([_^])(\{([^{}]*)\}|([^\s{}()·,/=+−\-|]+?)(?=[\s()·,/=+−\-|^_]|$))")


def formula_html(text: str) -> str:
    """A formula in this module's notation as HTML: `_x` / `_{..}` → <sub>, `^x` / `^{..}` → <sup>, lines → <br>."""
    def one_line(line: str) -> str:
        line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        prev = None
        while prev != line:                      # nested scripts (y_{ij}^{1−p}) resolve one level per pass
            prev = line
            line = _SCRIPT.sub(lambda m: ("<sub>" if m.group(1) == "_" else "<sup>")
                               + (m.group(3) if m.group(3) is not None else m.group(4))
                               + ("</sub>" if m.group(1) == "_" else "</sup>"), line)
        return line
    return "<br>".join(one_line(line) for line in text.split("\n"))


__all__ = [
    "MISTAKES", "ConvNoFlip", "LpPoolMissingFactor", "Mistake", "SGDBiasNoMomentum", "SigmoidSign",
    "SoftmaxDiagonal", "UnknownMistakeError", "active", "applies_to", "apply_to_session", "build_network",
    "check_names", "expected_failures", "first_failure", "formula_html", "full_correlation_input_grad",
    "gradcheck_layer", "gradcheck_loss", "layer_types", "loss_types", "mistake_of", "optimizer_class",
    "update_check", "with_mistakes",
]
