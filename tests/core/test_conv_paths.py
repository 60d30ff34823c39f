"""The convolution's blocked im2col paths: every block size, both ∂x formulations, any thread, no kept columns.

Each pass of Conv2D builds its column matrix block by block in a per-thread scratch buffer
(visualcnn/layers/workspace.py), and ∂x of a stride-1 conv is either a full correlation of δ
with the flipped filters or a scatter of the columns' gradient. Every combination must match
the explicit-loop reference of test_reference.py.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from visualcnn.layers import conv as conv_module
from visualcnn.layers import workspace

from .test_reference import DTYPES, built, close, conv, randn, ref_conv_backward, ref_conv_forward

SHAPES = [  # C, F, H, W, k, stride, padding
    (3, 2, 7, 9, 3, 1, 0),       # F < C
    (2, 5, 8, 7, 3, 1, 1),       # F > C, padded
    (4, 4, 6, 5, 5, 1, 4),       # pad = k − 1: δ needs no padding for the full correlation
    (2, 3, 9, 8, 3, 2, 1),       # stride 2: always the scatter
    (3, 2, 10, 11, 2, 3, 1),     # stride 3, even kernel, floored rows
    (1, 1, 5, 5, 1, 1, 0),       # 1×1
]


@pytest.fixture(params=["one-row-blocks", "one-block", "one-block-when-blas-is-threaded", "rows-shared-by-threads"])
def block_bytes(request, monkeypatch):
    monkeypatch.setattr(workspace, "BLOCK_BYTES", 1 if request.param == "one-row-blocks" else 1 << 24)
    threaded = request.param.endswith("threaded") or request.param.endswith("threads")
    monkeypatch.setattr(workspace, "blas_threads", lambda: 2 if threaded else 1)
    if threaded:
        monkeypatch.setattr(workspace, "BLOCK_BYTES", 1)
    if request.param == "rows-shared-by-threads":          # every pass, however small, split between 2 threads
        monkeypatch.setattr(workspace, "SPLIT_BYTES", 0)
        monkeypatch.setattr(workspace.os, "cpu_count", lambda: 2)
    return request.param


@pytest.fixture(params=["full", "scatter"])
def dx_path(request, monkeypatch):
    monkeypatch.setattr(conv_module, "use_full_correlation", lambda F, C: request.param == "full")
    return request.param


def check_against_reference(layer, x, dout, dtype):
    W, b = layer.params["W"].astype(np.float64), layer.params["b"].astype(np.float64)
    s, pad = layer.options["stride"], layer.options["padding"]
    close(layer.forward(x), ref_conv_forward(x.astype(np.float64), W, b, s, pad), dtype)
    dx = layer.backward(dout)
    rdx, rdW, rdb = ref_conv_backward(x.astype(np.float64), W, b, s, pad, dout.astype(np.float64))
    close(dx, rdx, dtype)
    close(layer.grads["W"], rdW, dtype)
    close(layer.grads["b"], rdb, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("C, F, H, W, k, stride, padding", SHAPES)
def test_every_block_size_and_dx_path_matches_reference(block_bytes, dx_path, dtype, C, F, H, W, k, stride, padding):
    rng = np.random.default_rng(C + 10 * F + 100 * k)
    layer = built(conv(F, k, stride, padding), (C, H, W), dtype)
    layer.params["b"][...] = randn(rng, layer.params["b"].shape, dtype)
    x = randn(rng, (3, C, H, W), dtype)
    dout = randn(rng, (3, *layer.output_shape), dtype)
    check_against_reference(layer, x, dout, dtype)


def test_row_blocks_cover_every_row_once(monkeypatch):
    monkeypatch.setattr(workspace, "blas_threads", lambda: 1)
    monkeypatch.setattr(workspace, "BLOCK_BYTES", 1000)
    for rows in (1, 2, 7, 30):
        for per_row in (1, 300, 999, 1000, 5000):
            blocks = workspace.row_blocks(rows, per_row)
            covered = [i for a, b in blocks for i in range(a, b)]
            assert covered == list(range(rows)), (rows, per_row, blocks)
            assert max(b - a for a, b in blocks) - min(b - a for a, b in blocks) <= 1


def test_the_layer_keeps_no_column_matrix():
    """Only x, y, params and grads stay on the layer: memory no longer grows with K·H·W·N per conv layer."""
    layer = built(conv(8, 3, padding=1), (8, 16, 16), np.float32)
    x = np.random.default_rng(0).standard_normal((4, 8, 16, 16)).astype(np.float32)
    y = layer.forward(x)
    layer.backward(np.ones_like(y))
    kept = sum(v.nbytes for v in vars(layer).values() if isinstance(v, np.ndarray))
    assert kept <= x.nbytes + y.nbytes, f"the layer keeps {kept} bytes of arrays besides params and grads"


def test_scratch_is_per_thread():
    """Two threads convolving at once (a run and a gradient check) never share a block of columns."""
    results, errors = {}, []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            layer = built(conv(3, 3, padding=1), (2, 9, 8), np.float64, seed=seed)
            x, dout = rng.standard_normal((2, 2, 9, 8)), rng.standard_normal((2, 3, 9, 8))
            for _ in range(30):
                y = layer.forward(x)
                dx = layer.backward(dout)
            W, b = layer.params["W"], layer.params["b"]
            results[seed] = (np.allclose(y, ref_conv_forward(x, W, b, 1, 1), rtol=1e-12, atol=1e-12)
                             and np.allclose(dx, ref_conv_backward(x, W, b, 1, 1, dout)[0], rtol=1e-12, atol=1e-12))
        except Exception as e:          # surfaced below: a thread's exception would otherwise vanish
            errors.append(e)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == {1: True, 2: True, 3: True}


def test_blocks_follow_the_blas_threads():
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, user_api="blas"):
        assert workspace.blas_threads() == 1
        assert len(workspace.row_blocks(100, workspace.BLOCK_BYTES // 10)) == 10
    with threadpool_limits(2, user_api="blas"):
        if workspace.blas_threads() == 2:            # a BLAS built single-threaded stays at 1
            assert workspace.row_blocks(100, workspace.BLOCK_BYTES // 10) == [(0, 100)]


def test_shared_rows_run_on_two_threads_with_blas_on_one(monkeypatch):
    """A large pass while BLAS may use 2 threads: its blocks go to 2 threads at once, each with BLAS on 1,
    and BLAS gets its thread count back afterwards."""
    from threadpoolctl import threadpool_limits
    monkeypatch.setattr(workspace, "SPLIT_BYTES", 0)
    monkeypatch.setattr(workspace.os, "cpu_count", lambda: 2)
    seen = []

    def part(blocks):
        seen.append((threading.get_ident(), workspace.blas_threads(), tuple(blocks)))
        return sum(b - a for a, b in blocks)
    with threadpool_limits(2, user_api="blas"):
        if workspace.blas_threads() != 2:
            pytest.skip("a BLAS built single-threaded")
        blocks = workspace.row_blocks(7, 1, workers=workspace.workers_for(1))
        assert len(blocks) >= 2
        assert sum(workspace.share(part, blocks, 2)) == 7
        assert workspace.blas_threads() == 2
    assert len({ident for ident, _, _ in seen}) == 2 and all(n == 1 for _, n, _ in seen)
    assert sorted(b for _, _, part_blocks in seen for b in part_blocks) == blocks


def test_layers_run_with_blas_on_one_thread_and_the_budget_it_had(monkeypatch):
    """Network.forward/backward and a session's phases keep BLAS on one thread (a multi-threaded GEMM wakes
    OpenBLAS's threads, which then spin and slow the split passes that follow) while a pass may still
    split over the thread count BLAS had; BLAS gets it back afterwards."""
    import visualcnn as vc
    from threadpoolctl import threadpool_limits
    from visualcnn.layers import ReLU
    seen = []
    real_forward, real_backward = ReLU.forward, ReLU.backward

    def spy(real):
        def method(self, arg):
            seen.append((workspace.blas_threads(), workspace.thread_budget()))
            return real(self, arg)
        return method
    monkeypatch.setattr(ReLU, "forward", spy(real_forward))
    monkeypatch.setattr(ReLU, "backward", spy(real_backward))
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                                 {"type": "relu"}, {"type": "flatten"},
                                                 {"type": "dense", "out_features": 10}]}
    net = vc.Network.from_spec(spec, seed=0)
    x, labels = np.ones((2, 1, 8, 8)), np.array([0, 1])
    with threadpool_limits(2, user_api="blas"):
        if workspace.blas_threads() != 2:
            pytest.skip("a BLAS built single-threaded")
        net.loss(net.forward(x), labels)
        net.backward()
        from visualcnn.data import load_dataset
        session = vc.Session(net, vc.SGD(net, lr=0.1), load_dataset("digits", size=8), batch_size=2)
        session.run_iteration()
        assert workspace.blas_threads() == 2 and workspace.thread_budget() == 2
    assert seen == [(1, 2)] * 4


def test_scratch_grows_and_is_reused():
    a = workspace.scratch(10, np.float32)
    b = workspace.scratch(20, np.float64)
    assert a.size == 10 and b.size == 20 and b.dtype == np.float64
    big = workspace.scratch(workspace.BLOCK_BYTES, np.float32)          # 4× the default buffer
    assert big.size == workspace.BLOCK_BYTES
    assert np.shares_memory(workspace.scratch(5, np.float32), big)


def test_columns_rows_are_padded_apart_in_the_scratch_buffer():
    """The im2col columns' rows lie W_out·N + ROW_PAD elements apart (no power-of-two stride for BLAS to pack
    through: half speed with OpenBLAS's AVX-512 kernels), inside the thread's buffer, and hold the windows."""
    rng = np.random.default_rng(3)
    src = rng.standard_normal((2, 6, 6, 8)).astype(np.float32)          # (C, H, W, N): W_out·N = 4·8 = 32
    cols_slice, cols = conv_module._columns(src, 3, 1, 4, 4, (1, 3), bias_row=True)
    assert cols.shape == (2 * 9 + 1, 2 * 32) and cols_slice == slice(32, 96)
    assert cols.strides == ((64 + workspace.ROW_PAD) * 4, 4)
    assert np.shares_memory(cols, workspace.scratch(1, np.float32))
    c, p, q, i, j, n = 1, 2, 0, 1, 3, 5                                  # entry [c, p, q] × [i − 1, j, n]
    assert cols[c * 9 + p * 3 + q, (i - 1) * 32 + j * 8 + n] == src[c, i + p, j + q, n]
    assert np.all(cols[-1] == 1)


def test_dense_hands_back_the_layout_it_was_given():
    """Under a conv, dense's ∂x comes back batch-last like its input, so the layers below never mix layouts."""
    from visualcnn.layers import Dense, Flatten
    from visualcnn.layers.windows import batch_last

    rng = np.random.default_rng(5)
    flat, dense = built(Flatten(), (3, 4, 5), np.float64), built(Dense(out_features=7), (60,), np.float64)
    x = batch_last((6, 3, 4, 5), np.float64)
    x[...] = rng.standard_normal(x.shape)
    dense.forward(flat.forward(x))
    dout = rng.standard_normal((6, 7))
    dx = flat.backward(dense.backward(dout))
    assert np.moveaxis(dx, 0, -1).flags.c_contiguous
    np.testing.assert_allclose(dx, (dout @ dense.params["W"]).reshape(x.shape), rtol=1e-13, atol=1e-15)
    plain = rng.standard_normal((6, 60))                       # a batch-first input keeps a batch-first dx
    dense.forward(plain)
    assert dense.backward(dout).flags.c_contiguous
