"""Stop in run mode against a layer that never returns (issue 12 §6): the run ends, the session goes on."""

from __future__ import annotations

import threading

import pytest

from ui.worker import RunWorker
from visualcnn import custom
from visualcnn.layers import Layer
from visualcnn.presets import build_session

ARMED = threading.Event()


class LoopsWhenArmed(Layer):
    type_name = "test_loops_when_armed"

    def forward(self, x):
        while ARMED.is_set():
            pass
        return x

    def backward(self, dout):
        return dout


@pytest.fixture
def session():
    custom.register_layer(LoopsWhenArmed)
    ARMED.clear()
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                                  {"type": "test_loops_when_armed"}, {"type": "flatten"},
                                                  {"type": "dense", "out_features": 10}]}
    yield build_session({"spec": spec, "dataset": {"name_or_path": "digits"}, "optimizer": {"lr": 0.1},
                         "batch_size": 2, "train": {}, "dtype": "float32", "seed": 0})
    ARMED.clear()
    custom.unregister_all()


def test_stop_ends_a_run_stuck_in_a_layer(qtbot, session):
    worker = RunWorker(session, eval_every=0)
    try:
        progressed = []
        worker.progress.connect(lambda done, total, eta: progressed.append(done))
        worker.start(n_iterations=10**6)
        qtbot.waitUntil(lambda: session.iteration >= 5, timeout=10000)
        ARMED.set()                                 # from now on the layer never returns
        qtbot.wait(300)
        with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
            worker.stop()                           # Stop: before, the run never ended
        assert blocker.args[0].stopped_by == "stop"
        assert session.phase_index == 0             # the interrupted iteration starts over, consistent
        ARMED.clear()
        before = session.iteration
        session.run_iteration()
        assert session.iteration == before + 1
    finally:
        ARMED.clear()
        assert worker.shutdown(5.0)
