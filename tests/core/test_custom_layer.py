"""Your own layer (visualcnn.custom): loading, checking, registering, and failing safely inside a Session."""

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from visualcnn import custom
from visualcnn.cli import main
from visualcnn.data import load_dataset
from visualcnn.gradcheck import gradcheck
from visualcnn.layers import LAYER_TYPES
from visualcnn.gradcheck import gradcheck_layer
from visualcnn.network import Network
from visualcnn.presets import build_session, check_config
from visualcnn.session import LayerFailure
from visualcnn.spec import normalize_spec

TEMPLATE = Path(__file__).resolve().parents[2] / "assets" / "layer_template.py"
HEADER = "import numpy as np\nfrom visualcnn.layers import Field, Layer\n\n"


@pytest.fixture(autouse=True)
def clean_registry():
    before = dict(LAYER_TYPES)
    yield
    custom.unregister_all()
    assert LAYER_TYPES == before


def write(tmp_path, name, body, header=HEADER):
    path = tmp_path / name
    path.write_text(header + textwrap.dedent(body), encoding="utf-8")
    return path


def spec_with(kind, input_shape=(1, 8, 8)):
    return {"input_shape": list(input_shape), "layers": [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": kind},
        {"type": "flatten"}, {"type": "dense", "out_features": 10}],
        "loss": {"type": "softmax_cross_entropy", "reduction": "sum"}}


# -- the template ----------------------------------------------------------------------------------

def test_template_loads_registers_and_passes_the_check():
    (cls,) = custom.load_layer_file(TEMPLATE)
    assert cls.type_name == "scaled_tanh" and LAYER_TYPES["scaled_tanh"] is cls
    assert custom.CUSTOM_TYPES == {"scaled_tanh": cls}
    for shape in ((3, 5, 4), (6,)):
        report = custom.check_layer(cls, shape, {"init_scale": 1.5})
        assert report.passed, report.table()
        assert {r.name for r in report.results} == {"a", "input"}
    # usable in a spec and in a whole network's check
    net = Network.from_spec(spec_with("scaled_tanh"), dtype=np.float64)
    rng = np.random.default_rng(0)
    report = gradcheck(net, rng.normal(size=(2, 1, 8, 8)), [3, 7])
    assert report.passed, report.table()
    assert normalize_spec(spec_with("scaled_tanh"))["layers"][1] == {"type": "scaled_tanh", "init_scale": 1.0}


def test_reloading_a_file_replaces_its_classes():
    (first,) = custom.load_layer_file(TEMPLATE)
    (second,) = custom.load_layer_file(TEMPLATE)
    assert first is not second and LAYER_TYPES["scaled_tanh"] is second
    custom.unregister_layer("scaled_tanh")
    assert "scaled_tanh" not in LAYER_TYPES


def test_a_wrong_backward_is_flagged_on_exactly_its_input(tmp_path):
    path = write(tmp_path, "cube.py", """
        class ScaledCube(Layer):
            '''y = a·x³ with a slip: dx uses 2x² instead of 3x² (the gradient of a is right).'''
            type_name = "scaled_cube"

            def init_params(self, rng):
                return {"a": np.ones(1)}

            def forward(self, x):
                self.x = x
                self.y = self.params["a"][0] * x ** 3
                return self.y

            def backward(self, dout):
                self.grads["a"][...] = np.sum(dout * self.x ** 3)
                return dout * self.params["a"][0] * 2 * self.x ** 2
        """)
    (cls,) = custom.load_layer_file(path)
    report = custom.check_layer(cls, (2, 3, 3))
    assert {(r.layer, r.name) for r in report.failures} == {(0, "input")}
    # in a network: its input and everything below fail, the layers above pass
    net = Network.from_spec(spec_with("scaled_cube"), dtype=np.float64)
    rng = np.random.default_rng(1)
    report = gradcheck(net, rng.normal(size=(2, 1, 8, 8)) * 0.5, [1, 2])
    assert {(r.layer, r.name) for r in report.failures} == {(1, "input"), (0, "input"), (0, "W"), (0, "b")}


# -- errors while loading ----------------------------------------------------------------------------

@pytest.mark.parametrize("body,needle", [
    ("class Broken(Layer)\n    pass\n", "syntax error on line 4"),
    ("import no_such_module_here\n", "ModuleNotFoundError"),
    ("x = 1 / 0\n", "ZeroDivisionError"),
    ("raise SystemExit(3)\n", "SystemExit"),
])
def test_a_broken_file_is_a_custom_layer_error(tmp_path, body, needle):
    path = write(tmp_path, "broken.py", body)
    with pytest.raises(custom.CustomLayerError) as e:
        custom.load_layer_file(path)
    assert str(path) in str(e.value) and needle in str(e.value)
    assert e.value.path == path.resolve()
    assert "broken.py" in e.value.traceback_text
    assert "custom.py" not in e.value.traceback_text      # the user's frames, not ours


def test_a_broken_file_leaves_the_registry_untouched(tmp_path):
    path = write(tmp_path, "half.py", """
        class Good(Layer):
            type_name = "good"
            def forward(self, x): return x
            def backward(self, dout): return dout

        class Bad(Layer):
            type_name = "bad"
            def forward(self, x): return x
        """)
    with pytest.raises(custom.CustomLayerError, match="Bad does not define backward"):
        custom.load_layer_file(path)
    assert "good" not in LAYER_TYPES and "bad" not in LAYER_TYPES


@pytest.mark.parametrize("body,needle", [
    ("class Mine(Layer):\n    type_name = 'relu'\n    def forward(self, x): return x\n"
     "    def backward(self, dout): return dout\n", "'relu' is a built-in layer"),
    ("class Mine(Layer):\n    type_name = 'mine'\n", "does not define forward and backward"),
    ("class Mine(Layer):\n    type_name = 'two words'\n    def forward(self, x): return x\n"
     "    def backward(self, dout): return dout\n", "type_name must be a name"),
    ("class Mine(Layer):\n    type_name = 'mine'\n    fields = {'k': 3}\n    def forward(self, x): return x\n"
     "    def backward(self, dout): return dout\n", "fields must be a dict"),
    ("VALUE = 3\n", "defines no layer"),
])
def test_a_bad_class_is_named(tmp_path, body, needle):
    with pytest.raises(custom.CustomLayerError, match=needle):
        custom.load_layer_file(write(tmp_path, "mine.py", body))


def test_two_files_cannot_define_the_same_type(tmp_path):
    body = ("class Mine(Layer):\n    type_name = 'mine'\n    def forward(self, x): return x\n"
            "    def backward(self, dout): return dout\n")
    custom.load_layer_file(write(tmp_path, "a.py", body))
    with pytest.raises(custom.CustomLayerError, match="already defined by .*a.py"):
        custom.load_layer_file(write(tmp_path, "b.py", body))


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(custom.CustomLayerError, match="no such file"):
        custom.load_layer_file(tmp_path / "nope.py")
    (tmp_path / "layer.txt").write_text("x = 1")
    with pytest.raises(custom.CustomLayerError, match="ending in .py"):
        custom.load_layer_file(tmp_path / "layer.txt")
    with pytest.raises(custom.CustomLayerError, match="not a custom layer type"):
        custom.unregister_layer("relu")


# -- failures inside a session -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits8():
    return load_dataset({"name_or_path": "digits", "size": 8})


def session_for(kind, digits8):
    return build_session(check_config({"spec": spec_with(kind)}, "test"), dataset=digits8, batch_size=4)


def test_a_layer_raising_in_forward_is_a_layer_failure(tmp_path, digits8):
    path = write(tmp_path, "boom.py", """
        class Boom(Layer):
            type_name = "boom"
            def forward(self, x):
                raise RuntimeError("boom: the user's bug")
            def backward(self, dout):
                return dout
        """)
    custom.load_layer_file(path)
    s = session_for("boom", digits8)
    s.step()                                                # forward through the conv
    with pytest.raises(LayerFailure) as e:
        s.step()
    assert (e.value.phase, e.value.layer) == ("forward", 1)
    assert "boom: the user's bug" in str(e.value) and "layer 1 boom" in str(e.value)
    assert str(path) in e.value.traceback_text and "raise RuntimeError" in e.value.traceback_text
    # still usable: the cursor did not move, step back works, and a fixed spec runs
    assert s.phase_index == 1
    s.step_back()
    assert s.phase_index == 0
    s.rebuild(spec=spec_with("tanh"))
    records = s.run_iteration()
    assert len(records) == s.n_phases and np.isfinite(records[-1].updates[3]["W"].value).all()


def test_a_layer_returning_the_wrong_shape_is_a_layer_failure(tmp_path, digits8):
    custom.load_layer_file(write(tmp_path, "shrink.py", """
        class Shrink(Layer):
            type_name = "shrink"
            def forward(self, x):
                return x[:, :1]
            def backward(self, dout):
                return dout
        """))
    s = session_for("shrink", digits8)
    s.step()
    with pytest.raises(LayerFailure, match=r"layer 1 shrink: forward returned \(4, 1, 6, 6\)") as e:
        s.step()
    assert e.value.phase == "forward" and e.value.layer == 1


def test_cli_gradcheck_with_a_layer_file(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(spec_with("scaled_tanh")), encoding="utf-8")
    assert main(["gradcheck", "--spec", str(spec), "--layer-file", str(TEMPLATE), "--max-entries", "16"]) == 0
    out = capsys.readouterr().out
    assert "scaled_tanh" in out and "all passed" in out
    # without the file, the type is unknown: a clean error, exit 2
    custom.unregister_all()
    assert main(["gradcheck", "--spec", str(spec)]) == 2
    assert "unknown type 'scaled_tanh'" in capsys.readouterr().err


def test_cli_reports_a_broken_layer_file(tmp_path, capsys):
    bad = write(tmp_path, "bad.py", "x = 1 / 0\n")
    assert main(["gradcheck", "--preset", "seed-note", "--layer-file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.py" in err and "ZeroDivisionError" in err
