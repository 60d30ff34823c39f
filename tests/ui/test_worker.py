"""Run mode: the worker drives the Session from its own thread; the GUI thread only receives signals."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

import visualcnn as vc
from ui.worker import FAST, MAX_REDRAWS_PER_SECOND, RunWorker, speed_label


@pytest.fixture
def session():
    s = vc.Session.from_preset("digits-small")
    s.set_batch_size(8)
    return s


@pytest.fixture
def make_worker(qtbot):
    made = []

    def make(session, **kwargs):
        w = RunWorker(session, **kwargs)
        made.append(w)
        return w
    yield make
    for w in made:
        assert w.shutdown(5.0)


def test_run_grows_metrics_and_throttles_redraws(qtbot, session, make_worker):
    worker = make_worker(session, eval_every=20, eval_samples=100)
    redraw_times, progress = [], []
    worker.redraw.connect(lambda: redraw_times.append(time.perf_counter()))
    worker.progress.connect(lambda d, t, eta: progress.append((d, t, eta)))
    started = time.perf_counter()
    with qtbot.waitSignal(worker.finished, timeout=20000) as blocker:
        worker.start(n_iterations=400)
    run_seconds = time.perf_counter() - started
    summary = blocker.args[0]
    assert summary.stopped_by == "done" and summary.iterations == 400
    assert len(session.metrics) == 400 and session.iteration == 400
    assert all(np.isfinite(m.loss) for m in session.metrics)
    assert [p[0] for p in worker.test_points] == list(range(20, 401, 20))
    assert progress[-1][:2] == (400, 400)
    qtbot.wait(50)                                   # let queued signals land
    assert len(redraw_times) >= 2
    # at most 30 per second over the run (plus the forced one at the end); counted over the run's
    # duration, since queued signals may be delivered in a burst when the GUI thread was busy
    assert len(redraw_times) - 2 <= MAX_REDRAWS_PER_SECOND * run_seconds
    assert worker.state == "finished"


def test_epochs_and_eta(qtbot, session, make_worker):
    worker = make_worker(session, eval_every=0)
    assert worker.iterations_for(1) == math.ceil(1437 / 8)
    etas = []
    worker.progress.connect(lambda d, t, eta: etas.append(eta))
    with qtbot.waitSignal(worker.finished, timeout=20000):
        worker.start(epochs=1)
    assert session.iteration == 180
    assert any(math.isfinite(e) and e >= 0 for e in etas)


def test_pause_resume_and_step_policy(qtbot, session, make_worker):
    worker = make_worker(session, eval_every=0)
    worker.set_speed(200.0)                          # paced, ~17 iterations/s: slow enough to catch running
    states = []
    worker.stateChanged.connect(states.append)
    worker.start(n_iterations=10_000)
    qtbot.waitUntil(lambda: session.iteration >= 1, timeout=5000)
    # while running, GUI commands on the session are refused with a message
    ok, message = worker.checked(session.step)
    assert not ok and "pause" in message
    with qtbot.waitSignal(worker.stateChanged, timeout=5000, check_params_cb=lambda s: s == "paused"):
        worker.pause()
    frozen_at = (session.iteration, session.phase_index)
    time.sleep(0.1)
    assert (session.iteration, session.phase_index) == frozen_at      # the worker lets go while paused
    # paused: the GUI may step and step back
    ok, rec = worker.checked(session.step)
    assert ok and rec.index == frozen_at[1]
    session.step_back()
    assert (session.iteration, session.phase_index) == frozen_at
    with qtbot.waitSignal(worker.stateChanged, timeout=5000, check_params_cb=lambda s: s == "running"):
        worker.resume()
    qtbot.waitUntil(lambda: session.iteration > frozen_at[0] + 1, timeout=5000)
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.stop()
    assert blocker.args[0].stopped_by == "stop"
    assert states[:3] == ["running", "paused", "running"] and states[-1] == "finished"
    assert worker.refusal() is None


def test_paced_mode_emits_records(qtbot, session, make_worker):
    worker = make_worker(session, eval_every=0)
    worker.set_speed(20.0)
    records = []
    worker.recordReady.connect(records.append)
    with qtbot.waitSignal(worker.finished, timeout=10000):
        worker.start(n_iterations=1)                  # 12 phases at 20/s: ~0.6 s
    assert [r.index for r in records] == list(range(session.n_phases))
    assert all(isinstance(r, vc.StepRecord) for r in records)


def test_stop_fast_mode_between_phases(qtbot, session, make_worker):
    worker = make_worker(session, eval_every=0)
    worker.start(n_iterations=1_000_000)
    qtbot.waitUntil(lambda: session.iteration > 50, timeout=5000)
    t0 = time.perf_counter()
    with qtbot.waitSignal(worker.finished, timeout=2000) as blocker:
        worker.stop()
    assert time.perf_counter() - t0 < 2.0
    assert blocker.args[0].stopped_by == "stop"
    # the session is consistent afterwards: it steps on from where it stopped
    session.step()


def test_breakpoint_pauses_at_tripping_phase(qtbot, make_worker):
    session = vc.Session.from_preset("digits-small", lr=1e6)
    session.set_batch_size(8)
    session.breakpoints.nonfinite = True
    worker = make_worker(session, eval_every=0)
    hits = []
    worker.breakpointHit.connect(hits.append)
    with qtbot.waitSignal(worker.stateChanged, timeout=10000, check_params_cb=lambda s: s == "paused"):
        worker.start(n_iterations=1000)
    qtbot.waitUntil(lambda: bool(hits), timeout=2000)
    hit = hits[0]
    assert hit.kind == "nonfinite"
    # the session sits right after the phase that tripped, with that phase's record current
    rec = session.last_record
    assert (rec.iteration, rec.phase, rec.layer) == (hit.iteration, hit.phase, hit.layer)
    assert session.iteration < 1000
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.stop()
    assert blocker.args[0].stopped_by == "breakpoint" and blocker.args[0].breakpoint is hit


def test_shutdown_during_run_is_prompt(qtbot, session):
    worker = RunWorker(session, eval_every=0)
    worker.start(n_iterations=1_000_000)
    qtbot.waitUntil(lambda: session.iteration > 10, timeout=5000)
    t0 = time.perf_counter()
    assert worker.shutdown(timeout=3.0)
    assert time.perf_counter() - t0 < 2.0
    assert worker._thread.isFinished()
    assert not worker._thread.isRunning()
    assert worker.shutdown()                          # twice is harmless
    with pytest.raises(RuntimeError):
        worker.start(n_iterations=1)


def test_shutdown_while_paused(qtbot, session):
    worker = RunWorker(session, eval_every=0)
    worker.start(n_iterations=1_000_000)
    with qtbot.waitSignal(worker.stateChanged, timeout=5000, check_params_cb=lambda s: s == "paused"):
        worker.pause()
    t0 = time.perf_counter()
    assert worker.shutdown(timeout=3.0)
    assert time.perf_counter() - t0 < 2.0


def test_submit_runs_on_worker_between_phases(qtbot, session, make_worker):
    worker = make_worker(session, eval_every=0)
    worker.start(n_iterations=1_000_000)
    qtbot.waitUntil(lambda: session.iteration > 5, timeout=5000)
    threads = []

    def change(s):
        threads.append(threading.current_thread())
        s.set_hyper(lr=0.001)
        return s.optimizer.hyper()["lr"]
    with qtbot.waitSignal(worker.jobDone, timeout=5000) as blocker:
        worker.submit(change, tag="lr")
    assert blocker.args == ["lr", 0.001]
    assert threads[0] is not threading.main_thread()
    assert worker.state == "running"
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.stop()
    # idle: jobs still run (on the worker thread)
    with qtbot.waitSignal(worker.jobDone, timeout=5000) as blocker:
        worker.submit(lambda s: s.iteration, tag="it")
    assert blocker.args[1] == session.iteration


def test_start_validation_and_speed(qtbot, session, make_worker):
    worker = make_worker(session)
    with pytest.raises(ValueError):
        worker.start()
    with pytest.raises(ValueError):
        worker.start(n_iterations=3, epochs=1)
    with pytest.raises(ValueError):
        worker.set_speed(0)
    assert speed_label(1.0) == "1 phase/s" and speed_label(FAST) == "as fast as possible"


def test_metrics_view_follows_a_run(qtbot, session, make_worker):
    from ui.views.metrics import MetricsView

    view = MetricsView()
    qtbot.addWidget(view)
    worker = make_worker(session, eval_every=50, eval_samples=100)
    worker.redraw.connect(lambda: view.update_from(session.metrics, worker.test_points, force=False))
    worker.progress.connect(view.set_progress)
    with qtbot.waitSignal(worker.finished, timeout=20000):
        worker.start(n_iterations=300)
    # the last (deferred) update lands, and every curve has every iteration
    # (the last test point comes after the last metrics: a draw of the metrics alone may land first)
    qtbot.waitUntil(lambda: view.loss_smooth.xData is not None and len(view.loss_smooth.xData) == 300
                    and len(view.loss_test.xData) == 6, timeout=2000)
    grads = view._layer_series["grad_norms"]
    assert sorted(grads) == [0, 4] and len(grads[0]["raw"].x) == 300
    assert view.progress_bar.value() == 300 and view.eta_label.text() == "done"
    # stepping back across an iteration shrinks the list: the view starts over instead of appending
    session.step_back()
    assert view.update_from(session.metrics, worker.test_points) == 299
    assert len(view.loss_smooth.xData) == 299


def test_redraws_keep_to_thirty_a_second_whatever_the_iteration_time(monkeypatch, session, make_worker):
    """The cap is 30 a second: with 20 ms iterations the worker asked only every other one (every 40 ms, 25/s)
    because it waited a full 1/30 s after each redraw instead of keeping to a 1/30 s grid."""
    import ui.worker as worker_mod
    worker = make_worker(session, eval_every=0)
    clock = [100.0]
    monkeypatch.setattr(worker_mod.time, "perf_counter", lambda: clock[0])
    for iteration_ms in (20.0, 12.0, 45.0):
        worker._last_redraw = 0.0
        asked = 0
        for _k in range(int(2000 / iteration_ms)):           # two seconds of iterations
            clock[0] += iteration_ms / 1000
            asked += worker._maybe_redraw()
        per_second = asked / 2.0
        assert per_second <= MAX_REDRAWS_PER_SECOND + 1, iteration_ms
        assert per_second >= min(MAX_REDRAWS_PER_SECOND, 1000 / iteration_ms) - 1, (iteration_ms, per_second)
