"""ONNX import: models built with onnx.helper, run by ONNX's reference evaluator as the oracle, and hostile files."""

from __future__ import annotations

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.interop import ModelImportError, load_onnx

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

HAS_LP_NORM = "norm" in vc.LAYER_TYPES["lppool2d"].fields
RNG = np.random.default_rng(0)


class G:
    """A tiny builder: a chain of nodes from 'x' to the last output, with random float32 initializers."""

    def __init__(self, shape=(2, 8, 8), batch="N"):
        self.shape, self.batch = shape, batch
        self.nodes, self.inits, self.cur, self.n = [], [], "x", 0

    def w(self, *shape, value=None):
        self.n += 1
        name = f"w{self.n}"
        arr = RNG.normal(0, 0.5, shape).astype(np.float32) if value is None else np.asarray(value)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type, *extra_inputs, name=None, outputs=1, **attrs):
        self.n += 1
        out = [f"t{self.n}"] + [f"t{self.n}_extra{i}" for i in range(1, outputs)]
        self.nodes.append(helper.make_node(op_type, [self.cur, *extra_inputs], out, name=name or f"n{self.n}",
                                           **attrs))
        self.cur = out[0]
        return self

    def model(self, opset=17):
        graph = helper.make_graph(
            self.nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [self.batch, *self.shape])],
            [helper.make_tensor_value_info(self.cur, TensorProto.FLOAT, None)], initializer=self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])

    def save(self, path, opset=17):
        m = self.model(opset)
        onnx.save(m, str(path))
        return path


def _compare(path, shape, tol=1e-5):
    """Logits of the imported network against the reference evaluator on the same input."""
    x = np.random.default_rng(3).normal(size=(3, *shape)).astype(np.float32)
    (ref,) = ReferenceEvaluator(str(path)).run(None, {"x": x})
    model = load_onnx(path)
    ours = model.network().forward(x)
    assert np.max(np.abs(ours - ref)) <= tol * np.max(np.abs(ref))
    return model


def test_batchnorm_after_conv_is_folded_and_dropout_skipped_exactly(tmp_path):
    g = G()
    g.op("Conv", g.w(3, 2, 3, 3), g.w(3), pads=[1, 1, 1, 1])
    g.op("BatchNormalization", g.w(3, value=RNG.uniform(0.5, 2, 3).astype(np.float32)), g.w(3),
         g.w(3), g.w(3, value=RNG.uniform(0.2, 3, 3).astype(np.float32)), name="bn1", epsilon=1e-3)
    g.op("Relu").op("Dropout", g.w(value=np.float32(0.5)), name="drop").op("MaxPool", kernel_shape=[2, 2], strides=[2, 2])
    g.op("Flatten").op("Gemm", g.w(4, 48), g.w(4), transB=1)
    g.op("BatchNormalization", g.w(4, value=np.ones(4, np.float32) * 2), g.w(4), g.w(4),
         g.w(4, value=np.ones(4, np.float32)), name="bn2")
    model = _compare(g.save(tmp_path / "bn.onnx"), g.shape)
    assert [e["type"] for e in model.spec["layers"]] == ["conv2d", "relu", "maxpool2d", "flatten", "dense"]
    text = model.report.text()
    assert "BatchNormalization 'bn1' folded into layer 0 conv2d" in text
    assert "BatchNormalization 'bn2' folded into layer 4 dense" in text
    assert "Dropout 'drop'" in text and "skipped" in text


def test_matmul_add_reshape_and_final_softmax(tmp_path):
    g = G(shape=(1, 6, 6))
    g.op("Conv", g.w(2, 1, 3, 3), strides=[1, 1])                       # no bias: zeros
    g.op("Sigmoid").op("AveragePool", kernel_shape=[2, 2], strides=[2, 2])
    g.op("Reshape", g.w(2, value=np.array([-1, 8], np.int64)))
    g.op("MatMul", g.w(8, 5)).op("Add", g.w(5)).op("Tanh").op("Gemm", g.w(5, 3), g.w(1, 3), alpha=0.5, beta=2.0)
    g.op("Softmax", name="probs", axis=-1)
    path = g.save(tmp_path / "mm.onnx")
    x = np.random.default_rng(1).normal(size=(2, 1, 6, 6)).astype(np.float32)
    (probs,) = ReferenceEvaluator(str(path)).run(None, {"x": x})
    model = load_onnx(path)
    np.testing.assert_allclose(model.network().predict_proba(x), probs, rtol=1e-5, atol=1e-7)
    assert [e["type"] for e in model.spec["layers"]] == ["conv2d", "sigmoid", "avgpool2d", "flatten", "dense",
                                                          "tanh", "dense"]
    assert "Softmax 'probs' at the end folded into the loss" in model.report.text()


@pytest.mark.parametrize("op, kind", [("GlobalAveragePool", "avgpool2d"), ("GlobalMaxPool", "maxpool2d")])
def test_global_pooling_is_one_window_over_the_map(tmp_path, op, kind):
    g = G(shape=(3, 5, 5))
    g.op("Conv", g.w(4, 3, 2, 2), g.w(4)).op("Relu").op(op).op("Flatten").op("Gemm", g.w(2, 4), g.w(2), transB=1)
    model = _compare(g.save(tmp_path / "gap.onnx"), g.shape)
    assert model.spec["layers"][2] == {"type": kind, "kernel_size": 4, "stride": None}


def test_conv_then_constant_add_is_an_untied_bias(tmp_path):
    g = G(shape=(2, 5, 5))
    g.op("Conv", g.w(3, 2, 2, 2), g.w(3)).op("Add", g.w(1, 3, 4, 4)).op("Relu")
    g.op("Flatten").op("Gemm", g.w(2, 48), g.w(2), transB=1)
    model = _compare(g.save(tmp_path / "u.onnx"), g.shape)
    assert model.spec["layers"][0]["bias"] == "untied"
    assert model.params[0]["b"].shape == (3, 4, 4)


@pytest.mark.parametrize("p", [2, 3])
def test_lppool_is_the_sum_form(tmp_path, p):
    g = G(shape=(1, 6, 6))
    g.op("LpPool", kernel_shape=[2, 2], strides=[2, 2], p=p, name="lp").op("Flatten").op("Gemm", g.w(2, 9),
                                                                                          transB=1)
    path = g.save(tmp_path / "lp.onnx")
    if not HAS_LP_NORM:
        with pytest.raises(ModelImportError, match=r"node 'lp' \(LpPool\) computes the sum form"):
            load_onnx(path)
        pytest.skip("this core's lppool2d has no 'norm' option (sum form) yet: import refused, clearly")
    model = _compare(path, g.shape)
    assert model.spec["layers"][0] == {"type": "lppool2d", "kernel_size": 2, "stride": None, "p": p, "norm": "sum"}


def _torch_style_lppool(g, p, k=2):
    """PyTorch's LPPool2d as its exporters write it: Pow(p) → AveragePool → sign·relu(abs) → Mul(k²) → Pow(1/p)."""
    g.op("Pow", g.w(value=np.float32(p)), name="pow").op("AveragePool", kernel_shape=[k, k], strides=[k, k])
    t = g.cur
    g.nodes += [helper.make_node("Sign", [t], ["sg"]), helper.make_node("Abs", [t], ["ab"]),
                helper.make_node("Relu", ["ab"], ["re"]), helper.make_node("Mul", ["sg", "re"], ["sr"])]
    g.cur = "sr"
    g.op("Mul", g.w(value=np.float32(k * k))).op("Pow", g.w(value=np.float32(1.0 / p)))


def test_pytorch_lppool2d_pattern_maps_to_the_sum_form(tmp_path):
    g = G(shape=(1, 6, 6))
    _torch_style_lppool(g, 2)
    g.op("Flatten").op("Gemm", g.w(2, 9), transB=1)
    path = g.save(tmp_path / "tlp.onnx")
    if not HAS_LP_NORM:
        with pytest.raises(ModelImportError, match="sum form"):
            load_onnx(path)
        pytest.skip("this core's lppool2d has no 'norm' option (sum form) yet: import refused, clearly")
    model = _compare(path, g.shape)
    assert model.spec["layers"][0]["norm"] == "sum"


def test_pytorch_lppool2d_with_odd_p_on_signed_input_is_refused(tmp_path):
    g = G(shape=(1, 6, 6))
    _torch_style_lppool(g, 3)
    g.op("Flatten").op("Gemm", g.w(2, 9), transB=1)
    with pytest.raises(ModelImportError, match=r"node 'pow' \(Pow\) raises to the power p = 3 without taking \|x\|"):
        load_onnx(g.save(tmp_path / "odd.onnx"))


# -- refusals: one clear line naming the node, its op and what is supported -------------------------------

def _conv_head(g):
    return g.op("Conv", g.w(2, g.shape[0], 3, 3), g.w(2))


REFUSED = [
    (lambda g: _conv_head(g).op("LeakyRelu", name="lrelu"), r"node 'lrelu' \(LeakyRelu\) is not supported; "
                                                             r"supported: Conv, Relu"),
    (lambda g: g.op("Conv", g.w(4, 1, 3, 3), group=2, name="gc"), r"node 'gc' \(Conv\) has group 2"),
    (lambda g: g.op("Conv", g.w(2, 2, 3, 3), pads=[1, 0, 1, 0], name="ap"), r"'ap' \(Conv\) has pads \[1, 0, 1, 0\]"),
    (lambda g: g.op("Conv", g.w(2, 2, 3, 2), name="rect"), r"'rect' \(Conv\) has kernel_shape \[3, 2\]"),
    (lambda g: g.op("MaxPool", kernel_shape=[2, 2], pads=[1, 1, 1, 1], name="mp"), r"'mp' \(MaxPool\) has pads"),
    (lambda g: g.op("MaxPool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1, name="cm"),
     r"'cm' \(MaxPool\) has ceil_mode 1"),
    (lambda g: g.op("Relu").op("BatchNormalization", g.w(2), g.w(2), g.w(2), g.w(2), name="bn"),
     r"'bn' \(BatchNormalization\) does not directly follow a Conv or Gemm"),
    (lambda g: _conv_head(g).op("Softmax", name="sm").op("Relu"), r"'sm' \(Softmax\) is not the last node"),
    (lambda g: g.op("Reshape", g.w(3, value=np.array([0, 2, -1], np.int64)), name="rs"),
     r"'rs' \(Reshape\) reshapes to \[0, 2, -1\]"),
    (lambda g: _conv_head(g).op("Relu", name="last"),
     r"not a classifier visualcnn can run: layer 1 relu: the last layer must output class scores"),
    (lambda g: setattr(g, "shape", (2, 8, 6)) or g.op("GlobalAveragePool", name="gap"),
     r"'gap' \(GlobalAveragePool\) pools a 2×8×6 input; supported: square maps"),
    (lambda g: g.op("Abs", name="abs"), r"'abs' \(Abs\) is supported only as part of Lp pooling"),
    # found by fuzzing: an attribute of the wrong kind, a float target shape
    (lambda g: g.op("MaxPool", kernel_shape=2, name="ki"),
     r"'ki' \(MaxPool\) has a malformed kernel_shape attribute \('2'\); expected a list of integers"),
    (lambda g: g.op("Conv", g.w(2, 2, 3, 3), group=helper.make_tensor("t", TensorProto.FLOAT, [1], [1.0]), name="gt"),
     r"'gt' \(Conv\) has a malformed group attribute \('<TENSOR attribute>'\); expected an integer"),
    (lambda g: g.op("Reshape", g.w(2, value=np.array([np.nan, 128], np.float32)), name="rf"),
     r"'rf' \(Reshape\) has a float32 target shape; expected int64"),
]


@pytest.mark.parametrize("build, message", REFUSED)
def test_unsupported_graphs_get_one_clear_error(tmp_path, build, message):
    g = G()
    build(g)
    with pytest.raises(ModelImportError, match=message) as info:
        load_onnx(g.save(tmp_path / "bad.onnx"))
    assert str(info.value).startswith(str(tmp_path / "bad.onnx"))
    assert "\n" not in str(info.value)


def test_a_branching_graph_is_refused_naming_the_tensor(tmp_path):
    g = G()
    _conv_head(g)
    t = g.cur
    g.nodes += [helper.make_node("Relu", [t], ["a"], name="left"), helper.make_node("Tanh", [t], ["b"], name="right"),
                helper.make_node("Add", ["a", "b"], ["c"], name="join")]
    g.cur = "c"
    with pytest.raises(ModelImportError, match=rf"tensor '{t}' feeds 2 nodes \('left' \(Relu\), 'right' \(Tanh\)\)"):
        load_onnx(g.save(tmp_path / "branch.onnx"))


def test_a_cyclic_graph_is_refused_not_walked_forever(tmp_path):
    g = G()
    g.nodes += [helper.make_node("Relu", ["x"], ["a"], name="r"), helper.make_node("Tanh", ["a"], ["c"], name="t"),
                helper.make_node("Sigmoid", ["c"], ["a"], name="s")]
    g.cur = "z"
    with pytest.raises(ModelImportError, match=r"node 't' \(Tanh\) is reached a second time: the graph has a cycle"):
        load_onnx(g.save(tmp_path / "cycle.onnx"))


def test_dynamic_image_size_is_refused(tmp_path):
    g = G(shape=(1, "H", 8))
    g.op("Flatten")
    with pytest.raises(ModelImportError, match="axis 2 has no fixed size"):
        load_onnx(g.save(tmp_path / "dyn.onnx"))


# -- hostile files --------------------------------------------------------------------------------------

def _small_model(tmp_path):
    g = G(shape=(1, 4, 4))
    g.op("Flatten").op("Gemm", g.w(3, 16), g.w(3), transB=1)
    return g.model()


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"\x00\x01garbage that is not protobuf \xff\xfe" * 10, "not an ONNX model"),
    (b'{"input_shape": [1, 8, 8]}', "not an ONNX model"),
])
def test_foreign_or_corrupt_files_get_one_line(tmp_path, content, message):
    path = tmp_path / "m.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelImportError, match=message) as info:
        load_onnx(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_truncated_file_gets_one_line(tmp_path):
    data = _small_model(tmp_path).SerializeToString()
    path = tmp_path / "t.onnx"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ModelImportError, match="t.onnx") as info:
        load_onnx(path)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ModelImportError, match="no such file"):
        load_onnx(tmp_path / "absent.onnx")


def test_external_data_beside_the_model_is_read(tmp_path):
    """torch.onnx.export's default: the weights in "model.onnx.data" beside the model."""
    m = _small_model(tmp_path)
    weights = numpy_helper.to_array(m.graph.initializer[0])
    (tmp_path / "ext.onnx.data").write_bytes(b"header.." + weights.tobytes() + b"trailer")
    path = _external(m, tmp_path, "ext.onnx.data", offset=8, length=weights.nbytes)
    model = load_onnx(path)
    assert np.array_equal(model.params[-1]["W"], weights)


def _external(m, tmp_path, location, offset=None, length=None):
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = w.external_data.add()
            entry.key, entry.value = key, str(value)
    path = tmp_path / "ext.onnx"
    path.write_bytes(m.SerializeToString())
    return path


@pytest.mark.parametrize("location", ["/etc/passwd", "../outside.bin", "sub/../../outside.bin"])
def test_external_data_outside_the_models_folder_is_refused(tmp_path, location):
    (tmp_path.parent / "outside.bin").write_bytes(b"\0" * 4096)
    path = _external(_small_model(tmp_path), tmp_path, location)
    with pytest.raises(ModelImportError, match="reads external data only from a file in the model's own folder"):
        load_onnx(path)


def test_external_data_missing_or_short_is_refused(tmp_path):
    path = _external(_small_model(tmp_path), tmp_path, "w.bin")
    with pytest.raises(ModelImportError, match="which is not beside the model"):
        load_onnx(path)
    (tmp_path / "w.bin").write_bytes(b"\0" * 100)                   # 3×16 float32 need 192 bytes
    with pytest.raises(ModelImportError, match=r"declares 192 bytes at offset 0 with length 192 in 'w.bin', "
                                               r"which holds 100 bytes"):
        load_onnx(path)
    path = _external(_small_model(tmp_path), tmp_path, "w.bin", offset=0, length=64)
    with pytest.raises(ModelImportError, match="length 64"):
        load_onnx(path)


def test_a_tensor_declaring_more_than_its_bytes_is_refused_before_allocating(tmp_path):
    m = _small_model(tmp_path)
    w = m.graph.initializer[0]
    del w.dims[:]
    w.dims.extend([100_000, 100_000])              # 10^10 elements declared, 192 bytes held
    path = tmp_path / "lie.onnx"
    path.write_bytes(m.SerializeToString())
    with pytest.raises(ModelImportError, match="element count of tensor .w2. is 10,000,000,000, over the limit"):
        load_onnx(path)
    w.ClearField("dims")
    w.dims.extend([3, 17])
    path.write_bytes(m.SerializeToString())
    with pytest.raises(ModelImportError, match=r"declares shape \(3, 17\) \(204 bytes\) but holds 192 bytes"):
        load_onnx(path)


def test_an_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    from visualcnn import limits
    path = tmp_path / "big.onnx"
    path.write_bytes(_small_model(tmp_path).SerializeToString())
    monkeypatch.setattr(limits, "MAX_ONNX_BYTES", 100)
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read a file over the limit"))
    with pytest.raises(ModelImportError, match=r"big.onnx: the file's size is \d+ bytes, over the limit of 100 bytes "
                                               r"\(visualcnn.limits.MAX_ONNX_BYTES\)"):
        load_onnx(path)


def test_the_onnx_limits_live_with_the_others_and_keep_their_old_names():
    from visualcnn import limits
    from visualcnn.interop.onnx_read import MAX_MODEL_BYTES, MAX_NODES, MAX_TENSOR_ELEMENTS
    assert (MAX_MODEL_BYTES, MAX_NODES, MAX_TENSOR_ELEMENTS) == (
        limits.MAX_ONNX_BYTES, limits.MAX_ONNX_NODES, limits.MAX_ONNX_TENSOR_ELEMENTS)


@pytest.mark.parametrize("limit, message", [
    ("MAX_ONNX_NODES", r"small.onnx: the number of nodes is \d+, over the limit of 1 "
                       r"\(visualcnn.limits.MAX_ONNX_NODES\)"),
    ("MAX_ONNX_TENSOR_ELEMENTS", r"the element count of tensor '\w+' is \d+, over the limit of 1 "
                                 r"\(visualcnn.limits.MAX_ONNX_TENSOR_ELEMENTS\)"),
])
def test_a_graph_over_an_onnx_limit_is_refused_naming_it(tmp_path, monkeypatch, limit, message):
    from visualcnn import limits
    path = tmp_path / "small.onnx"
    path.write_bytes(_small_model(tmp_path).SerializeToString())
    monkeypatch.setattr(limits, limit, 1)
    with pytest.raises(ModelImportError, match=message):
        load_onnx(path)


def test_integer_input_is_refused(tmp_path):
    m = _small_model(tmp_path)
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.INT64
    path = tmp_path / "int.onnx"
    path.write_bytes(m.SerializeToString())
    with pytest.raises(ModelImportError, match="input 'x' has element type 7"):
        load_onnx(path)


def test_reshape_to_a_fixed_batch_is_a_flatten_when_the_input_fixes_that_batch(tmp_path):
    """torch.onnx.export without dynamic shapes writes the example's batch size into the Reshape."""
    g = G(shape=(2, 3, 3), batch=2)
    g.op("Reshape", g.w(2, value=np.array([2, 18], np.int64))).op("Gemm", g.w(3, 18), transB=1)
    assert [e["type"] for e in load_onnx(g.save(tmp_path / "b2.onnx")).spec["layers"]] == ["flatten", "dense"]
    g = G(shape=(2, 3, 3), batch=4)
    g.op("Reshape", g.w(2, value=np.array([2, 18], np.int64)), name="rs").op("Gemm", g.w(3, 18), transB=1)
    with pytest.raises(ModelImportError, match=r"'rs' \(Reshape\) reshapes to \[2, 18\]"):
        load_onnx(g.save(tmp_path / "b4.onnx"))


def test_strings_that_are_not_utf8_are_read_as_text(tmp_path):
    """Found by fuzzing: protobuf hands over bytes for a proto2 string that is not valid UTF-8."""
    data = _small_model(tmp_path)
    data.producer_name = "maker"
    raw = data.SerializeToString()
    path = tmp_path / "p.onnx"
    path.write_bytes(raw.replace(b"maker", b"ma\xffer"))
    assert load_onnx(path).report.lines()[0].startswith("opened p.onnx (made by ma\ufffder")
    path.write_bytes(raw.replace(b"Flatten", b"Flat\xffen"))
    with pytest.raises(ModelImportError, match="\\(Flat\ufffden\\) is not supported; supported: Conv"):
        load_onnx(path)
    path.write_bytes(raw.replace(b"Flatten", b"Flat\nen"))
    with pytest.raises(ModelImportError, match=r"\(Flat\\nen\) is not supported") as info:
        load_onnx(path)
    assert "\n" not in str(info.value)
