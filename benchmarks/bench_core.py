"""One training step of the NumPy core side by side with PyTorch's CPU build (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_core.py [--batches 1,32,128] [--rounds 15] [--threads 2]

A step is forward, softmax cross-entropy (mean), backward and one SGD update
(momentum 0.9, weight decay 1e-4) of LeNet-5 shapes in float32. When torch is
importable, the identical torch model (our weights copied in, same layouts) is
timed in the same process, with the same thread count (torch.set_num_threads,
threadpoolctl for NumPy's BLAS), in alternating rounds; the table gives medians
and the median of the per-round ratios (core / torch: below 1 the core is faster),
which is what to trust on a shared, noisy machine. Two pairs are timed: "core" and
"torch" both compute ∂C/∂x down to the image (the app shows it), the torch input
requiring grad; "core −∂x" (Network.backward(input_grad=False)) and "torch −∂x" are
the usual training step, which stops at the first layer's parameter gradients.

Also printed: the float32 GEMM peak measured in the same run (1024³ np.matmul),
the conv layers' GFLOP/s (forward + both backward GEMMs over the whole step's
time, so a lower bound) as a % of it, the peak memory of one steady-state step
at the largest batch (tracemalloc), and a one-off float64 check that our logits,
loss and gradients match torch's. Without torch, only the core and the peak.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import visualcnn as vc  # noqa: E402
from visualcnn.layers.windows import output_size  # noqa: E402

try:
    import torch
except ImportError:      # the core runs on its own
    torch = None

try:
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None

LENET5 = {
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "conv2d", "out_channels": 6, "kernel_size": 5},
        {"type": "sigmoid"},
        {"type": "maxpool2d", "kernel_size": 2},
        {"type": "conv2d", "out_channels": 16, "kernel_size": 5},
        {"type": "sigmoid"},
        {"type": "maxpool2d", "kernel_size": 2},
        {"type": "flatten"},
        {"type": "dense", "out_features": 120},
        {"type": "sigmoid"},
        {"type": "dense", "out_features": 10},
    ],
    "loss": {"type": "softmax_cross_entropy", "reduction": "mean"},
}
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 1e-4


# -- the two implementations --------------------------------------------------
def batch(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *LENET5["input_shape"])).astype(np.float32)
    return x, rng.integers(0, 10, size=n)


def core_step(net: vc.Network, opt: vc.SGD, x: np.ndarray, labels: np.ndarray, input_grad: bool = True) -> None:
    logits = net.forward(x)
    net.loss(logits, labels)
    net.backward(input_grad=input_grad)
    opt.step()


def torch_model(net: vc.Network):
    """The same stack in torch, with `net`'s parameters copied in (same layouts: conv (F, C, KH, KW), dense (out, in))."""
    nn = torch.nn
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    mods = []
    for layer in net.layers:
        t, o = layer.type_name, layer.options
        if t == "conv2d":
            if o["bias"] != "tied":
                raise SystemExit("untied conv biases have no torch counterpart")
            m = nn.Conv2d(layer.input_shape[0], o["out_channels"], o["kernel_size"], o["stride"], o["padding"])
        elif t in ("maxpool2d", "avgpool2d"):
            m = (nn.MaxPool2d if t == "maxpool2d" else nn.AvgPool2d)(layer.kernel, layer.stride)
        elif t == "dense":
            m = nn.Linear(layer.params["W"].shape[1], o["out_features"])
        elif t == "flatten":
            m = nn.Flatten()
        else:
            m = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}[t]()
        m = m.to(dtype)             # before the copy: float64 weights must not pass through float32
        with torch.no_grad():
            for name, p in (("W", "weight"), ("b", "bias")):
                if name in layer.params:
                    getattr(m, p).copy_(torch.from_numpy(layer.params[name].copy()))
        mods.append(m)
    return nn.Sequential(*mods)


def torch_step(model, opt, x, labels) -> None:
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), labels)
    loss.backward()
    opt.step()


# -- measuring ------------------------------------------------------------------
def per_step(fn, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def reps_for(fn, budget: float = 0.05) -> int:
    """How many steps make one round last about `budget` seconds."""
    return max(1, int(budget / max(per_step(fn, 3), 1e-6)))


def gemm_peak(rounds: int, n: int = 1024) -> float:
    """float32 GFLOP/s of an n×n @ n×n np.matmul (median of `rounds`)."""
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    c = np.empty((n, n), np.float32)
    np.matmul(a, b, out=c)
    times = [per_step(lambda: np.matmul(a, b, out=c), 3) for _ in range(max(3, rounds // 2))]
    return 2 * n ** 3 / statistics.median(times) / 1e9


def conv_flops(net: vc.Network, n: int) -> int:
    """FLOPs of every conv layer in one step: the forward GEMM, ∂W and ∂x (3 × 2·N·F·H_out·W_out·C·K²)."""
    total = 0
    for layer in net.layers:
        if layer.type_name == "conv2d":
            F, H_out, W_out = layer.output_shape
            k = layer.options["kernel_size"]
            total += 3 * 2 * n * F * H_out * W_out * layer.input_shape[0] * k * k
    return total


def peak_memory(n: int) -> tuple[float, float]:
    """tracemalloc peak (MiB) of the first step of a fresh network, and of a later (steady-state) step."""
    net = vc.Network.from_spec(LENET5, dtype=np.float32, seed=0)
    opt = vc.SGD(net, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    x, labels = batch(n)
    peaks = []
    for _ in range(3):
        tracemalloc.start()
        core_step(net, opt, x, labels)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2 ** 20)
        tracemalloc.stop()
    return peaks[0], peaks[-1]


def check_against_torch(n: int = 5) -> float:
    """Max relative difference (float64) of logits, loss, parameter and input gradients vs torch."""
    net = vc.Network.from_spec(LENET5, dtype=np.float64, seed=0)
    model = torch_model(net)
    x, labels = batch(n, seed=3)
    x = x.astype(np.float64)
    logits = net.forward(x)
    loss = net.loss(logits, labels)
    dx = net.backward()
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tlogits = model(tx)
    tloss = torch.nn.functional.cross_entropy(tlogits, torch.from_numpy(labels))
    tloss.backward()

    def rel(a, b):
        b = b.detach().numpy()
        return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))

    errors = {"logits": rel(logits, tlogits), "loss": rel(np.array(loss), tloss), "dx": rel(dx, tx.grad)}
    tlayers = iter(model)
    for i, layer in enumerate(net.layers):
        m = next(tlayers)
        for name, p in (("W", "weight"), ("b", "bias")):
            if name in layer.grads:
                errors[f"{i}.{name}"] = rel(layer.grads[name], getattr(m, p).grad)
    worst = max(errors, key=errors.get)
    print(f"float64 check vs torch (batch {n}): max relative difference {errors[worst]:.1e} ({worst})")
    if errors[worst] > 1e-10:
        raise SystemExit(f"MISMATCH with torch: {errors}")
    return errors[worst]


def main(argv: list[str] | None = None) -> None:
    from visualcnn.layers.workspace import keep_freed_memory
    keep_freed_memory()             # as visualcnn and the window do at their start
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", default="1,32,128", help="comma-separated batch sizes")
    ap.add_argument("--rounds", type=int, default=15, help="alternating rounds per batch size")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for BLAS and torch")
    args = ap.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]

    if threadpool_limits is not None:
        threadpool_limits(limits=args.threads, user_api="blas")
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
          f"{args.threads} thread(s), {args.rounds} rounds, {os.cpu_count()} CPUs")
    if torch is not None:
        check_against_torch()

    peak = gemm_peak(args.rounds)
    print(f"float32 GEMM peak (1024³ np.matmul): {peak:.1f} GFLOP/s")
    cols = ["batch", "core ms", "torch ms", "ratio", "core −∂x ms", "torch −∂x ms", "ratio −∂x",
            "conv GFLOP/s", "% peak"]
    widths = [max(len(c), 6) for c in cols]
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for n in batches:
        net = vc.Network.from_spec(LENET5, dtype=np.float32, seed=0)
        opt = vc.SGD(net, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        x, labels = batch(n)
        fns = {"core": lambda: core_step(net, opt, x, labels),
               "core −∂x": lambda: core_step(net, opt, x, labels, input_grad=False)}
        if torch is not None:
            for key, input_grad in (("torch", True), ("torch −∂x", False)):
                model = torch_model(net)
                topt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
                tx = torch.from_numpy(x.copy()).requires_grad_(input_grad)
                tl = torch.from_numpy(labels)
                fns[key] = lambda model=model, topt=topt, tx=tx, tl=tl: torch_step(model, topt, tx, tl)
        for fn in fns.values():      # warm up: caches, buffers, allocator, oneDNN primitives
            for _ in range(5):
                fn()
        reps = {k: reps_for(fn) for k, fn in fns.items()}
        times: dict[str, list[float]] = {k: [] for k in fns}
        order = list(fns)
        for r in range(args.rounds):
            for k in order[r % len(order):] + order[:r % len(order)]:      # rotate who goes first
                times[k].append(per_step(fns[k], reps[k]))
        core_ms = statistics.median(times["core"]) * 1e3
        gflops = conv_flops(net, n) / (core_ms / 1e3) / 1e9
        row = [f"{n}", f"{core_ms:.3f}"]
        for core_key, key in (("core", "torch"), ("core −∂x", "torch −∂x")):
            if core_key != "core":
                row.append(f"{statistics.median(times[core_key]) * 1e3:.3f}")
            if key in times:
                ratio = statistics.median(c / t for c, t in zip(times[core_key], times[key]))
                row += [f"{statistics.median(times[key]) * 1e3:.3f}", f"{ratio:.2f}"]
            else:
                row += ["-", "-"]
        row += [f"{gflops:.1f}", f"{100 * gflops / peak:.1f}%"]
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))

    first, steady = peak_memory(max(batches))
    print(f"peak memory of one step at batch {max(batches)} (tracemalloc): "
          f"{first:.1f} MiB first step, {steady:.1f} MiB steady state; "
          f"process max RSS {_max_rss_mib():.0f} MiB")


def _max_rss_mib() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
