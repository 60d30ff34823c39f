"""Hostile ONNX files, mutated at random (fixed seeds, bounded in time): a network or one clear error, never a crash."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.interop import build_onnx, load_onnx

onnx = pytest.importorskip("onnx")
from onnx import helper  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECONDS = 4.0                         # per test: enough for hundreds of files
OPS = ["Conv", "Relu", "Add", "Mul", "Pow", "Abs", "Flatten", "Reshape", "Gemm", "MatMul", "Softmax", "MaxPool",
       "AveragePool", "LpPool", "BatchNormalization", "Dropout", "Identity", "Sign", "Loop", "If", "Sigmoid"]


def _bases():
    spec = {"input_shape": [2, 9, 9], "layers": [
        {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1, "bias": "untied"}, {"type": "relu"},
        {"type": "lppool2d", "kernel_size": 2, "p": 3}, {"type": "conv2d", "out_channels": 2, "kernel_size": 2},
        {"type": "tanh"}, {"type": "maxpool2d", "kernel_size": 2, "stride": 1}, {"type": "dense", "out_features": 3}]}
    return [onnx.load(str(FIXTURES / "tinyvgg_torch.onnx")), onnx.load(str(FIXTURES / "lppool_torch.onnx")),
            build_onnx(vc.Network.from_spec(spec))]


def _mutate(m, rng):
    g = m.graph
    for _ in range(rng.integers(1, 4)):
        n = g.node[int(rng.integers(0, len(g.node)))]
        k = rng.integers(0, 8)
        if k == 0:
            n.op_type = OPS[rng.integers(0, len(OPS))]
        elif k == 1 and len(n.input):
            del n.input[int(rng.integers(0, len(n.input)))]
        elif k == 2:
            n.input.append(["", g.initializer[0].name, n.output[0]][rng.integers(0, 3)])
        elif k == 3 and len(n.attribute):
            n.attribute[int(rng.integers(0, len(n.attribute)))].type = int(rng.integers(1, 13))
        elif k == 4 and len(g.initializer):
            t = g.initializer[int(rng.integers(0, len(g.initializer)))]
            if len(t.dims):
                t.dims[int(rng.integers(0, len(t.dims)))] = int(rng.integers(-2, 40))
        elif k == 5:
            name = ["kernel_shape", "strides", "pads", "axis", "p", "group", "epsilon", "shape"][rng.integers(0, 8)]
            n.attribute.append(helper.make_attribute(name, [int(v) for v in rng.integers(-2, 5, rng.integers(1, 5))]))
        elif k == 6 and len(g.node) > 1:
            del g.node[int(rng.integers(0, len(g.node)))]
        elif k == 7 and len(g.initializer):
            g.initializer[int(rng.integers(0, len(g.initializer)))].data_type = int(rng.integers(0, 17))
    return m.SerializeToString()


def _flip_bytes(data, rng):
    b = bytearray(data)
    for _ in range(rng.integers(1, 6)):
        pos = int(rng.integers(0, len(b)))
        kind = rng.integers(0, 3)
        if kind == 0:
            b[pos] = int(rng.integers(0, 256))
        elif kind == 1:
            del b[pos:pos + int(rng.integers(1, 50))]
        else:
            b[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 20))).astype(np.uint8).tobytes()
    return bytes(b)


@pytest.mark.parametrize("how", ["structure", "bytes"])
def test_mutated_models_open_or_fail_with_one_line(tmp_path, how):
    rng = np.random.default_rng(13)
    bases = _bases()
    path = tmp_path / "fuzz.onnx"
    start, tried, opened = time.monotonic(), 0, 0
    while time.monotonic() - start < SECONDS:
        base = bases[tried % len(bases)]
        if how == "structure":
            m = onnx.ModelProto()
            m.CopyFrom(base)
            data = _mutate(m, rng)
        else:
            data = _flip_bytes(base.SerializeToString(), rng)
        path.write_bytes(data)
        tried += 1
        try:
            net = load_onnx(path).network()
        except vc.VisualCNNError as e:
            assert "\n" not in str(e) and str(path) in str(e), str(e)
            continue
        opened += 1
        assert net.n_classes >= 2
    assert tried >= 50, f"only {tried} files in {SECONDS} s"
