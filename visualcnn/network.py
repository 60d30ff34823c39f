"""Network: a spec turned into layers, with every shape inferred before any data runs."""

from __future__ import annotations

import copy
import math
from typing import Any, Sequence

import numpy as np

from . import limits
from .errors import ShapeError, SpecError
from .layers import LAYER_TYPES, BuildError, Layer
from .layers.workspace import one_blas_thread
from .losses import LOSS_TYPES, SoftmaxCrossEntropy
from .spec import format_shape, normalize_spec
from visualcnn.i18n import _

DTYPES = {"float32": np.float32, "float64": np.float64}


def _as_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(_("dtype must be float32 or float64, got {dt}").format(dt=dt))
    return dt


def _check_sizes_before_build(layer: Layer, shape: tuple[int, ...], n_params: int, where: str) -> None:
    """Refuse a layer whose output or parameters would exceed the limits, before it allocates them.

    The output shape is inferred without allocating; parameters are estimated from the options every
    parameterised layer type uses (out_features: a weight per input and output; out_channels and
    kernel_size: one filter per output channel). The counts after building are checked again.
    """
    try:
        out = layer.infer_output_shape(tuple(shape))
    except BuildError:
        return                                  # build() reports it, with the layer's own words
    units_in = math.prod(shape)
    units_out = math.prod(int(s) for s in out)
    limits.check(units_out, "MAX_LAYER_UNITS", where, _("the output's size per sample"), SpecError)
    opts = layer.options
    estimate = 0
    if isinstance(opts.get("out_features"), int):
        estimate = units_in * units_out + units_out
    elif isinstance(opts.get("out_channels"), int) and isinstance(opts.get("kernel_size"), int) and shape:
        estimate = opts["out_channels"] * shape[0] * opts["kernel_size"] ** 2 + opts["out_channels"]
    limits.check(n_params + estimate, "MAX_PARAMS", where, _("the parameter count up to this layer"), SpecError)


class Network:
    """A stack of layers ending in softmax + cross-entropy.

    net = Network.from_spec(spec, dtype=np.float64, seed=0)
    logits = net.forward(x)          # x (N, *input_shape) → logits (N, K)
    loss = net.loss(logits, labels)  # int labels (N,) → float
    dx = net.backward()              # fills every layer's grads, returns ∂C/∂x (N, *input_shape)
    """

    def __init__(self, layers: Sequence[Layer], input_shape: Sequence[int],
                 loss: SoftmaxCrossEntropy | None = None, dtype: Any = np.float32, seed: int = 0) -> None:
        self.layers: list[Layer] = list(layers)
        self.input_shape: tuple[int, ...] = tuple(int(s) for s in input_shape)
        self.loss_fn = loss or SoftmaxCrossEntropy()
        self.dtype = _as_dtype(dtype)
        self.seed = int(seed)
        self.x: np.ndarray | None = None
        self._build()

    # -- construction -------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: dict[str, Any], dtype: Any = np.float32, seed: int = 0,
                  layer_types: dict[str, type[Layer]] | None = None,
                  loss_types: dict[str, type] | None = None) -> "Network":
        """Validate `spec`, infer every shape and initialise the parameters (reproducibly from `seed`).

        layer_types / loss_types map spec type names to classes (default: the built-ins); a custom
        layer or a study-note mistake is a different class under the same name.
        """
        types = LAYER_TYPES if layer_types is None else layer_types
        spec = normalize_spec(spec, types)
        layers = [types[e["type"]](**{k: v for k, v in e.items() if k != "type"}) for e in spec["layers"]]
        losses = {**LOSS_TYPES, **(loss_types or {})}
        loss = losses[spec["loss"]["type"]](reduction=spec["loss"]["reduction"])
        return cls(layers, spec["input_shape"], loss, dtype=dtype, seed=seed)

    @classmethod
    def from_onnx(cls, path: Any, dtype: Any = np.float32) -> "Network":
        """The network in an ONNX file, with its weights (see visualcnn.interop; the report: load_onnx)."""
        from .interop import load_onnx
        return load_onnx(path).network(dtype=dtype)

    def to_onnx(self, path: Any) -> Any:
        """Write this network and its current weights as a self-contained ONNX file; returns the path."""
        from .interop import to_onnx
        return to_onnx(self, path)

    def _build(self) -> None:
        rng = np.random.default_rng(self.seed)
        shape = self.input_shape
        limits.check(len(self.layers), "MAX_LAYERS", "spec", _("the number of layers"), SpecError)
        n_params = 0
        for i, layer in enumerate(self.layers):
            where = _("layer {index} {kind}").format(index=i, kind=layer.type_name)
            try:
                _check_sizes_before_build(layer, shape, n_params, where)
                layer.build(shape, rng, self.dtype)
            except BuildError as e:
                raise SpecError(_("{where}: {error} (incoming shape {format_shape})").format(
                                    where=where, error=e, format_shape=format_shape(shape)), layer_index=i) from None
            except SpecError as e:
                raise SpecError(str(e), layer_index=i) from None
            except MemoryError:
                raise SpecError(_("{where}: building it ran out of memory (incoming shape "
                                  "{format_shape}); make it smaller").format(
                                    where=where, format_shape=format_shape(shape)), layer_index=i) from None
            except (Exception, SystemExit) as e:  # noqa: BLE001 - a user-written layer's build may raise anything
                raise SpecError(_("{where}: build raised {type_name}: {error} (incoming shape "
                                  "{format_shape})").format(
                                    where=where, type_name=type(e).__name__, error=e,
                                    format_shape=format_shape(shape)), layer_index=i) from e
            shape = layer.output_shape
            n_params += layer.n_params
            try:
                limits.check(math.prod(shape), "MAX_LAYER_UNITS", where, _("the output's size per "
                                                                           "sample"), SpecError)
                limits.check(n_params, "MAX_PARAMS", where, _("the parameter count up to this layer"), SpecError)
            except SpecError as e:
                raise SpecError(str(e), layer_index=i) from None
        # where training's backward pass may stop; layers are built once, so it is kept (asking every
        # backward phase made an iteration quadratic in depth)
        self._lowest_param_layer = next((i for i, layer in enumerate(self.layers) if layer.params), 0)
        if len(shape) != 1 or shape[0] < 2:
            last = len(self.layers) - 1
            raise SpecError(
                _("layer {last} {type_name}: the last layer must output class scores (a vector of K >= "
                  "2), got {format_shape}; end the stack with a dense layer (out_features = number of "
                  "classes)").format(
                    last=last, type_name=self.layers[last].type_name,
                    format_shape=format_shape(shape)), layer_index=last)

    def to_spec(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "layers": [copy.deepcopy(layer.to_spec()) for layer in self.layers],
            "loss": self.loss_fn.to_spec(),
        }

    def copy(self, dtype: Any = None) -> "Network":
        """An independent network with the same spec and parameters (cast to `dtype` if given)."""
        types = {layer.type_name: type(layer) for layer in self.layers}
        other = Network.from_spec(self.to_spec(), dtype=dtype or self.dtype, seed=self.seed,
                                  layer_types={**LAYER_TYPES, **types},
                                  loss_types={self.loss_fn.type_name: type(self.loss_fn)})
        other.set_params(self.get_params())
        return other

    # -- parameters ---------------------------------------------------------
    @property
    def n_classes(self) -> int:
        return self.layers[-1].output_shape[0]

    @property
    def lowest_param_layer(self) -> int:
        """Index of the first layer with parameters (0 if none): training needs no gradient below it."""
        return self._lowest_param_layer

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    def get_params(self) -> list[dict[str, np.ndarray]]:
        """A copy of every layer's parameters, one dict per layer."""
        return [{k: v.copy() for k, v in layer.params.items()} for layer in self.layers]

    def set_params(self, params: Sequence[dict[str, np.ndarray]]) -> None:
        """Write `params` (as from get_params) into the live arrays, checking every key and shape."""
        if len(params) != len(self.layers):
            raise ShapeError(_("parameters for {n_params} layers given, the network has {n_layers}").format(
                                 n_params=len(params), n_layers=len(self.layers)))
        for i, (layer, new) in enumerate(zip(self.layers, params)):
            if set(new) != set(layer.params):
                raise ShapeError(_("layer {i} {type_name}: parameter names {new} do not match {params}").format(
                                     i=i, type_name=layer.type_name, new=sorted(new), params=sorted(layer.params)))
            for k, v in new.items():
                if np.shape(v) != layer.params[k].shape:
                    raise ShapeError(_("layer {i} {type_name}: {k} has shape {got}, expected {expected}").format(
                                         i=i, type_name=layer.type_name, k=k, got=np.shape(v),
                                         expected=layer.params[k].shape))
                layer.params[k][...] = v

    def summary(self) -> list[dict[str, Any]]:
        """One row per layer: index, type, output shape, parameter count and notes."""
        return [{"index": i, "type": layer.type_name, "output_shape": layer.output_shape,
                 "n_params": layer.n_params, "notes": list(layer.notes)}
                for i, layer in enumerate(self.layers)]

    # -- computing ----------------------------------------------------------
    def check_input(self, x: Any) -> np.ndarray:
        """x as an array of the network's dtype and shape (N, *input_shape), or a ShapeError."""
        x = np.asarray(x)
        if x.ndim == len(self.input_shape):          # a single sample
            x = x[None]
        if tuple(x.shape[1:]) != self.input_shape:
            raise ShapeError(_("input must have shape (N, {dims}), got {shape}").format(
                                 dims=', '.join(map(str, self.input_shape)), shape=x.shape))
        return np.ascontiguousarray(x, dtype=self.dtype)

    def forward(self, x: Any) -> np.ndarray:
        """Logits (N, K) for x (N, *input_shape); every layer keeps its input and output."""
        x = self.check_input(x)
        self.x = x
        with one_blas_thread():                 # the core threads its large passes itself (workspace.py)
            for layer in self.layers:
                x = layer.forward(x)
        return x

    def loss(self, logits: np.ndarray, labels: Any) -> float:
        return self.loss_fn.forward(logits, labels)

    def backward(self, input_grad: bool = True) -> np.ndarray | None:
        """Back-propagate the last loss through every layer; returns ∂C/∂x (N, *input_shape).

        input_grad=False: training needs only the parameter gradients, so the pass stops at the lowest
        layer with parameters and skips its ∂C/∂x (as a framework does for an input that needs no
        gradient); returns None.
        """
        with one_blas_thread():                 # as forward
            return self._backward(input_grad)

    def _backward(self, input_grad: bool) -> np.ndarray | None:
        dout = self.loss_fn.backward()
        if input_grad:
            for layer in reversed(self.layers):
                dout = layer.backward(dout)
            return dout
        lowest = self.lowest_param_layer
        for layer in reversed(self.layers[lowest + 1:]):
            dout = layer.backward(dout)
        first = self.layers[lowest]
        first.input_grad = False
        try:
            first.backward(dout)
        finally:
            first.input_grad = True
        return None

    def predict_proba(self, x: Any) -> np.ndarray:
        """Softmax probabilities (N, K) without touching the training caches' meaning (a plain forward)."""
        from .losses import softmax
        return softmax(self.forward(x))
