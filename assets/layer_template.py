"""A template for your own layer: a scaled tanh, y = a_c · tanh(x), with one learnable scale per channel.

Copy this file, rename the class and its `type_name`, change the math, then load it
(GUI: Layers ▸ Load layer file…; command line: `visualcnn gradcheck --spec my.json --layer-file my_layer.py`).
Its type can then be used in a spec like any built-in: {"type": "scaled_tanh", "init_scale": 1.5}.

The contract (visualcnn/layers/base.py), in five parts:
1. `type_name` (the spec's "type"), `fields` (the spec's options) and `description` (menus);
   options arrive in `self.options`, already checked and with their defaults filled in.
2. `infer_output_shape(input_shape)`: the per-sample output shape, *before any data*
   (raise BuildError with a message for an input you cannot take).
3. `init_params(rng)`: a dict name -> initial array; `self.params` gets them and `self.grads`
   zeros of the same shapes (keys shared, so the optimizer needs to know nothing else).
4. `forward(x)`: x (N, *input_shape) -> y (N, *output_shape). Keep what backward needs
   (here y) and set `self.x`, `self.y` for the views.
5. `backward(dout)`: dout (N, *output_shape) -> dx (N, *input_shape), and fill `self.grads[k]`
   in place (same shape as `self.params[k]`). Never write into `dout` or the cached arrays.

Check it: `visualcnn.custom.check_layer(ScaledTanh, (3, 5, 5))` compares backward with central
differences (MATH.md §5); every tensor should come in under 1e-6.
"""

from __future__ import annotations

import numpy as np

from visualcnn.layers import BuildError, Field, Layer


class ScaledTanh(Layer):
    """y_{n,c,…} = a_c · tanh(x_{n,c,…});  ∂y/∂x = a_c · (1 − tanh²x),  ∂y/∂a_c = tanh x.

    x: (N, C, H, W) or (N, C) → y of the same shape; a: (C,), one scale per channel
    (per feature for a vector input).
    """

    type_name = "scaled_tanh"
    description = "Scaled tanh a·tanh(x), one learnable scale per channel (a template)"
    fields = {
        "init_scale": Field(float, default=1.0, minimum=0, help="initial value of every scale a_c"),
    }

    def infer_output_shape(self, input_shape):
        if len(input_shape) not in (1, 3):
            raise BuildError(f"needs a (C, H, W) or (D,) input, got {input_shape}")
        return input_shape

    def init_params(self, rng):
        C = self.input_shape[0]
        return {"a": np.full(C, float(self.options["init_scale"]))}

    def _per_channel(self, a: np.ndarray, ndim: int) -> np.ndarray:
        """a (C,) shaped to broadcast over (N, C, …)."""
        return a.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x):
        self.x = x
        self._t = np.tanh(x)                                  # kept for backward
        self.y = self._per_channel(self.params["a"], x.ndim) * self._t
        return self.y

    def backward(self, dout):
        t = self._t
        # ∂C/∂a_c = Σ over the batch and positions of dout · tanh x
        axes = (0,) + tuple(range(2, dout.ndim))
        self.grads["a"][...] = np.sum(dout * t, axis=axes)
        # ∂C/∂x = dout · a_c · (1 − tanh² x)
        return dout * self._per_channel(self.params["a"], dout.ndim) * (1.0 - t * t)
