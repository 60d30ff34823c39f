"""Data ▸ Download MNIST…: the window connects only when asked, says where first, and never freezes."""

import threading


import ui.actions.download as dl_action
from visualcnn.data import download as dl


def test_declining_connects_to_nothing(window, monkeypatch):
    asked, fetched = [], []
    monkeypatch.setattr(dl_action, "ask", lambda parent, text: asked.append(text) or False)
    monkeypatch.setattr(dl, "download_mnist", lambda **kw: fetched.append(kw))
    window.actions["download_mnist"].trigger()
    assert asked and not fetched
    # the question names the host it would connect to and the folder it would write
    assert dl.DEFAULT_MIRROR in asked[0] and str(dl.default_dest("mnist")) in asked[0]


def test_a_download_runs_off_the_gui_thread_and_switches_to_the_set(window, qtbot, monkeypatch, tmp_path):
    gate, threads, loaded = threading.Event(), [], []
    monkeypatch.setattr(dl_action, "ask", lambda parent, text: True)

    def fake_fetch(progress):
        threads.append(threading.current_thread())
        progress("train-images-idx3-ubyte.gz", 2**20, 2 * 2**20)
        assert gate.wait(10)                    # held until the test has seen the window answer
        return tmp_path / "mnist"
    monkeypatch.setattr(dl, "download_mnist", fake_fetch)
    monkeypatch.setattr(window, "load_dataset", lambda source, label: loaded.append(source) or True)
    window.actions["download_mnist"].trigger()
    qtbot.waitUntil(lambda: "downloading MNIST" in window.statusBar().currentMessage(), timeout=5000)
    assert threads and threads[0] is not threading.main_thread()
    assert window.downloader.busy
    window.actions["download_mnist"].trigger()      # a second one is refused while the first runs
    gate.set()
    qtbot.waitUntil(lambda: bool(loaded), timeout=5000)
    assert loaded == [{"name_or_path": str(tmp_path / "mnist")}]
    assert len(threads) == 1


def test_a_failed_download_is_a_message(window, qtbot, monkeypatch):
    monkeypatch.setattr(dl_action, "ask", lambda parent, text: True)

    def failing(progress):
        raise OSError("connection refused")
    monkeypatch.setattr(dl, "download_fashion_mnist", failing)
    shown = []
    monkeypatch.setattr(window, "show_message", lambda text: shown.append(text))
    window.actions["download_fashion-mnist"].trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown[0].startswith("Could not download Fashion-MNIST:")
