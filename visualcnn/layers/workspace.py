"""Scratch memory for im2col: one small buffer per thread, shared by every conv layer.

Convolution copies its windows into a column matrix and multiplies it by the filters
(im2col + GEMM). Done for a whole layer at once, that matrix is K = C·KH·KW times the
input's size (9× for a 3×3 kernel) and, kept per layer, grew with depth × batch × pixels.
Instead each pass works through the output in blocks of rows: the columns of one block are
copied into this scratch buffer and used at once, while they are still in cache. The buffer
is reused by every layer and every pass of the thread that runs them (a session's worker
and a gradient check in another thread each get their own), and it never holds results:
nothing outside a single pass ever sees it.

With BLAS allowed more than one thread, a large pass shares its blocks out among that many
threads (`share`), each copying its own columns into its own buffer and running its own GEMMs
with BLAS pinned to one thread: the copies run in parallel too, and the threads meet once per
pass instead of inside every GEMM.

Every other array a pass makes (outputs, gradients, temporaries) is fresh, and the records the
window keeps hold on to them. What makes fresh arrays cheap is the C allocator: by default glibc
hands an array above its mmap threshold (128 KiB at first, raised as large blocks are freed) its
own mmap and unmaps it on free, and trims the heap's free top beyond twice that, so the next step
pays a page fault per 4 KiB to get the same memory back: 17–22 % of a training step in a process
that runs one of the benchmark suite's networks (measured). `keep_freed_memory` raises both
thresholds so that freed blocks are reused from the heap (peaks are unchanged). It changes the whole
process's allocator, so the programs call it at their start (`visualcnn`, the window, the benchmarks);
importing the core as a library leaves a host program's allocator as it is.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

import numpy as np

#: bytes of one block of columns: large enough for a GEMM to run at speed, small enough to stay in cache
BLOCK_BYTES = 1 << 22

_local = threading.local()
_blas = None

#: arrays up to this size come from the heap, not from a mmap of their own (glibc's largest allowed value)
MMAP_THRESHOLD = 32 << 20
#: freed memory at the heap's top kept for reuse, up to this much, instead of being returned to the system
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3          # mallopt's parameter numbers (malloc.h)


def keep_freed_memory() -> bool:
    """Let glibc's malloc reuse freed arrays instead of returning them to the system (see the module doc).

    Process-wide and idempotent; does nothing (returns False) off glibc Linux, when the user chose
    these thresholds in the environment (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_), or with
    VISUALCNN_MALLOC=default (glibc's own behaviour: freed memory goes back to the system at once).
    """
    global _malloc_tuned
    if not sys.platform.startswith("linux") or os.environ.get("VISUALCNN_MALLOC") == "default" or any(
            k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):        # musl and others: no mallopt, nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    _malloc_tuned = _malloc_tuned or tuned
    return tuned


_malloc_tuned = False


def malloc_tuned() -> bool:
    """Whether `keep_freed_memory` has tuned this process's allocator."""
    return _malloc_tuned


def scratch(size: int, dtype: np.dtype) -> np.ndarray:
    """A 1-D work array of `size` elements of `dtype`, valid until the next call in the same thread."""
    dtype = np.dtype(dtype)
    nbytes = size * dtype.itemsize
    buf = getattr(_local, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, BLOCK_BYTES), dtype=np.uint8)
        _local.buf = buf
    return buf[:nbytes].view(dtype)


#: elements added to each row of a scratch matrix (64 bytes of float32): see `scratch_matrix`
ROW_PAD = 16


def scratch_matrix(rows: int, cols: int, dtype: np.dtype) -> np.ndarray:
    """A (rows, cols) work matrix in this thread's scratch buffer, its rows ROW_PAD elements apart more than
    `cols` (valid until the next call in the same thread).

    A GEMM operand whose rows lie a power of two of bytes apart (im2col columns: W_out·N per output row,
    often 32·128 or 64·16) maps every row to the same cache sets while BLAS packs it: with OpenBLAS's
    AVX-512 kernels the conv layers' GEMMs ran at half speed (3.7 → 7.4 ms for a 16-channel layer's
    forward at batch 128), with the AVX2 kernels unchanged. The padding costs nothing else: the matrix is a
    strided view that BLAS takes as it is (its leading dimension).
    """
    ld = cols + ROW_PAD
    return scratch(rows * ld, dtype).reshape(rows, ld)[:, :cols]


def _blas_libs() -> list:
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController
        _blas = ThreadpoolController().select(user_api="blas").lib_controllers
    return _blas


def blas_threads() -> int:
    """How many threads NumPy's BLAS runs on now (threadpoolctl; a query costs about 2 µs)."""
    return max((lib.num_threads for lib in _blas_libs()), default=1)


def row_blocks(rows: int, bytes_per_row: int, workers: int = 1) -> list[tuple[int, int]]:
    """[(start, stop), ...] covering `rows` rows in blocks of about BLOCK_BYTES (at least one row each).

    workers > 1: the blocks are shared out among that many threads (`share`), so there are at least
    `workers` of them when there are that many rows. With workers = 1 and BLAS on more than one
    thread, one block for all rows: it parallelises one large GEMM well, while every small one
    makes its threads meet (and spin, on a busy machine: 3× slower measured at load 9 on 2 cores).
    """
    if workers <= 1 and (rows * bytes_per_row <= BLOCK_BYTES or blas_threads() > 1):
        return [(0, rows)]
    per = max(1, BLOCK_BYTES // max(bytes_per_row, 1))
    n_blocks = min(rows, max(-(-rows // per), workers))
    edges = [rows * i // n_blocks for i in range(n_blocks + 1)]      # even blocks: no small leftover block
    return list(zip(edges[:-1], edges[1:]))


#: a pass splits its blocks among threads only above this many bytes of columns (a hand-off costs ~50 µs)
SPLIT_BYTES = 1 << 21
_pool = None
_pinned = {"depth": 0, "saved": None}
_pin_lock = threading.Lock()


def thread_budget() -> int:
    """Threads the core may run a pass on: BLAS's thread count, or inside `one_blas_thread`, the count it had."""
    with _pin_lock:
        saved = _pinned["saved"] if _pinned["depth"] else None
    return max(saved, default=1) if saved is not None else blas_threads()


def workers_for(nbytes: int) -> int:
    """Threads a pass over `nbytes` of columns runs on: the thread budget (at most one per CPU), 1 for a small pass."""
    return min(thread_budget(), os.cpu_count() or 1) if nbytes > SPLIT_BYTES else 1


def share(fn, blocks: list, workers: int) -> list:
    """[fn(part) for each of `workers` parts of `blocks`], the parts run at once, one per thread.

    Part w holds blocks w, w + workers, … (fixed: the same split gives the same sums every time).
    The calling thread runs part 0. While the parts run, BLAS is pinned to one thread (each part is
    one thread's work: its own im2col copies into its own scratch buffer, then its own GEMMs), so a
    pass costs one hand-off instead of a meeting of BLAS's threads inside every small GEMM, and the
    copies run in parallel too. Each part writes only its own rows, or returns its own sum.
    """
    parts = [blocks[w::workers] for w in range(workers)] if workers > 1 else [blocks]
    parts = [p for p in parts if p]
    if len(parts) == 1:
        return [fn(parts[0])]
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor
        _pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="conv")
    with one_blas_thread():
        futures = [_pool.submit(fn, p) for p in parts[1:]]
        try:
            first = fn(parts[0])
        finally:
            rest = [f.result() for f in futures]
    return [first, *rest]


def split_map(fn, *arrays: np.ndarray, block_bytes: int | None = None) -> None:
    """fn(*parts) for parts of `arrays` (one shape) cut along the first one's outermost axis in memory, the
    parts on `thread_budget()` threads at once when it is large (above SPLIT_BYTES), else fn(*arrays).

    For element-wise work (activations, pooling) whose parts are independent: each part writes only its
    own slice of an output among `arrays`. Cutting the outermost axis in memory (C of a batch-last
    (N, C, H, W) array, N of a C-ordered one) keeps every part one contiguous block. block_bytes: also
    cut into parts of about that many bytes of the first array (at least one index of the axis each), for
    work that passes over its data several times (pooling: once per kernel offset) while it is in cache;
    each thread takes one contiguous run of them.
    """
    a = arrays[0]
    if a.nbytes <= SPLIT_BYTES and (block_bytes is None or a.nbytes <= block_bytes) or a.ndim == 0:
        fn(*arrays)                 # the usual case, and the cheapest test first: a small array, one call
        return
    workers = workers_for(a.nbytes)
    if workers <= 1 and (block_bytes is None or a.nbytes <= block_bytes):
        fn(*arrays)
        return
    axis = max(range(a.ndim), key=lambda i: abs(a.strides[i]))
    n = a.shape[axis]
    m = min(n, max(workers, -(-a.nbytes // block_bytes) if block_bytes else 1))      # parts, none empty
    edges = [n * i // m for i in range(m + 1)]
    parts = [(slice(None),) * axis + (slice(e0, e1),) for e0, e1 in zip(edges[:-1], edges[1:])]
    workers = min(workers, m)
    runs = [parts[m * w // workers:m * (w + 1) // workers] for w in range(workers)]

    def run(own_runs):
        for own in own_runs:
            for index in own:
                fn(*(arr[index] for arr in arrays))
    share(run, runs, workers)


class one_blas_thread:
    """BLAS on one thread inside (nested and concurrent uses count; the last one out restores it).

    The layers' passes run inside it (Network.forward and backward, a session's step, run and replay): the core
    runs every GEMM on one BLAS thread and spreads a large pass over `thread_budget()` threads itself
    (`share`). A multi-threaded BLAS call in between (a dense layer's GEMM) wakes OpenBLAS's own
    threads, which then spin for about 0.1 s of CPU before they sleep: on 2 cores that took the
    second core from the split passes that followed and made them as slow as one thread (a
    16-channel conv's forward at batch 128, 2 threads: 3.3 ms, 6.5 ms after one 2-thread GEMM).
    """

    def __enter__(self):
        # a thread's nested uses only count (a phase inside a run: no lock, no BLAS call); its outermost one
        # counts in the process-wide depth, under the lock
        nested = getattr(_local, "pins", 0)
        _local.pins = nested + 1
        if nested:
            return
        with _pin_lock:
            if _pinned["depth"] == 0:
                _pinned["saved"] = [lib.num_threads for lib in _blas_libs()]
                for lib, n in zip(_blas_libs(), _pinned["saved"]):
                    if n != 1:                  # (a library on one thread already is left alone)
                        lib.set_num_threads(1)
            _pinned["depth"] += 1

    def __exit__(self, *exc):
        _local.pins -= 1
        if _local.pins:
            return
        with _pin_lock:
            _pinned["depth"] -= 1
            if _pinned["depth"] == 0:
                for lib, n in zip(_blas_libs(), _pinned["saved"]):
                    if n != 1:
                        lib.set_num_threads(n)
