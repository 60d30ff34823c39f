"""Runaway user code (issue 12 §6, the Qt-free part): a layer that loops, sleeps or calls sys.exit().

A stuck call can be stopped (a loop) or abandoned (blocked in C) and the session rescued; SystemExit
from layer code is a LayerFailure, never the end of the process.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

from visualcnn import custom
from visualcnn.errors import SpecError
from visualcnn.layers import Layer
from visualcnn.network import Network
from visualcnn.presets import build_session
from visualcnn.runaway import AbandonableCall, LayerStopped, rescued_session
from visualcnn.session import LayerFailure

RELEASE = threading.Event()             # lets the "forever" sleeper end when the test is over
ARMED = threading.Event()               # the sleeper sleeps only once armed


class Looping(Layer):
    type_name = "test_looping"

    def forward(self, x):
        while True:
            try:
                pass
            except Exception:           # a layer that swallows exceptions cannot swallow a stop
                pass

    def backward(self, dout):
        return dout


class Sleeping(Layer):
    type_name = "test_sleeping"

    def forward(self, x):
        if ARMED.is_set():
            RELEASE.wait(3600)          # blocked in C: no Python instruction to interrupt
        return x

    def backward(self, dout):
        return dout


class Exiting(Layer):
    type_name = "test_exiting"

    def forward(self, x):
        sys.exit(3)

    def backward(self, dout):
        return dout


class ExitingBuild(Layer):
    type_name = "test_exiting_build"

    def build(self, input_shape, rng, dtype):
        raise SystemExit("no")

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout


@pytest.fixture(autouse=True)
def registered():
    for cls in (Looping, Sleeping, Exiting, ExitingBuild):
        custom.register_layer(cls)
    RELEASE.clear()
    ARMED.clear()
    yield
    RELEASE.set()
    custom.unregister_all()


def session_with(kind: str):
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                                  {"type": kind}, {"type": "flatten"},
                                                  {"type": "dense", "out_features": 10}]}
    return build_session({"spec": spec, "dataset": {"name_or_path": "digits"}, "optimizer": {"lr": 0.1},
                          "batch_size": 2, "train": {}, "dtype": "float32", "seed": 0})


def test_a_looping_layer_is_stopped_and_the_session_stays_usable():
    s = session_with("test_looping")
    s.step()                                        # forward through layer 0
    call = AbandonableCall(s.step)
    assert not call.wait(0.3)                       # still running: the window shows "still running… Stop"
    assert call.stop(grace=2.0)
    with pytest.raises(LayerStopped):
        call.result()
    assert s.phase_index == 1 and s.lock.acquire(timeout=1)     # not advanced; the lock was released
    s.lock.release()
    s.rebuild(spec={**s.network.to_spec(), "layers": [e for e in s.network.to_spec()["layers"]
                                                       if e["type"] != "test_looping"]})
    s.run_iteration()                               # and it goes on


def test_a_sleeping_layer_is_abandoned_and_the_session_rescued():
    s = session_with("test_sleeping")
    s.run(2, records=False)
    before = [{k: v.copy() for k, v in d.items()} for d in s.history.current.params]
    s.step()                                        # forward through layer 0; layer 1 sleeps next
    ARMED.set()
    call = AbandonableCall(s.step)
    assert not call.wait(0.5)                       # now parked in the sleep
    assert not call.stop(grace=0.3)                 # blocked in C: cannot be interrupted
    call.abandon()
    rescued = rescued_session(s)                    # while the abandoned thread still holds s.lock
    assert rescued.network is not s.network and rescued.lock is not s.lock
    assert rescued.iteration == s.iteration == 2 and rescued.phase_index == 0
    for a, b in zip(before, rescued.network.get_params()):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert any("abandoned" in line for line in rescued.log)
    spec = rescued.network.to_spec()
    rescued.rebuild(spec={**spec, "layers": [e for e in spec["layers"] if e["type"] != "test_sleeping"]})
    ARMED.clear()
    rescued.run_iteration()
    RELEASE.set()
    assert call.wait(5)


def test_sys_exit_in_a_layer_is_a_layer_failure():
    s = session_with("test_exiting")
    s.step()
    with pytest.raises(LayerFailure, match=r"layer 1 test_exiting: forward raised SystemExit: 3"):
        s.step()
    with pytest.raises(LayerFailure, match="SystemExit"):
        s.run(1, records=False)


def test_sys_exit_in_a_layer_build_is_a_spec_error():
    with pytest.raises(SpecError, match=r"layer 1 test_exiting_build: build raised SystemExit: no") as e:
        session_with("test_exiting_build")
    assert e.value.layer_index == 1


def test_a_build_that_raises_type_error_is_a_spec_error_naming_the_layer():
    class Bad(Layer):
        type_name = "test_bad_build"

        def init_params(self, rng):
            return {"W": np.zeros((2, "x"))}

        def forward(self, x):
            return x

        def backward(self, dout):
            return dout
    custom.register_layer(Bad)
    with pytest.raises(SpecError, match=r"layer 0 test_bad_build: build raised TypeError") as e:
        Network.from_spec({"input_shape": [4], "layers": [{"type": "test_bad_build"},
                                                          {"type": "dense", "out_features": 2}]})
    assert e.value.layer_index == 0


def test_a_build_that_over_allocates_is_a_spec_error_naming_the_layer(monkeypatch):
    class Greedy(Layer):
        type_name = "test_greedy"

        def init_params(self, rng):
            return {"W": np.zeros(self.options.get("n", 2**62), dtype=np.uint8)}

        def forward(self, x):
            return x

        def backward(self, dout):
            return dout
    custom.register_layer(Greedy)
    spec = {"input_shape": [4], "layers": [{"type": "test_greedy"}, {"type": "dense", "out_features": 2}]}
    with pytest.raises(SpecError, match=r"layer 0 test_greedy: build") as e:
        Network.from_spec(spec)                     # numpy cannot allocate 2**62 bytes: MemoryError, named
    assert e.value.layer_index == 0
    from visualcnn import limits
    monkeypatch.setattr(limits, "MAX_PARAMS", 1000)
    Greedy.init_params = lambda self, rng: {"W": np.zeros(5000)}
    with pytest.raises(SpecError, match=r"layer 0 test_greedy: the parameter count up to this layer is 5,000, "
                                        r"over the limit of 1,000 \(visualcnn.limits.MAX_PARAMS\)"):
        Network.from_spec(spec)
