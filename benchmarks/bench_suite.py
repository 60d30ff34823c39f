"""The performance suite: the core vs PyTorch CPU on the networks people teach with (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_suite.py [--threads 1,2] [--rounds 7] [--only tinyvgg,net64]
                                               [--no-memory] [--no-scaling] [--no-layers]

Networks (float32, softmax cross-entropy, mean; a training step is forward + loss + backward down to
the first layer's parameter gradients (no image gradient, as a framework's usual step) + SGD with
momentum 0.9 and weight decay 1e-4):
  lenet5     1×28×28, LeNet-5 shapes with sigmoid units                          batch 1, 32, 128
  tinyvgg    3×64×64, CNN Explainer's TinyVGG: (conv 10 3×3, relu) ×2, maxpool, ×2   batch 16, 64
  net64      3×64×64, conv 32 3×3, relu, maxpool, conv 64 3×3, relu, maxpool, dense   batch 16
  sixconv    3×32×32, six convs of 16 channels 3×3 padded, relu after each, dense      batch 32, 128
Inference (forward only): sixconv and tinyvgg at batch 1 and 256.

Every figure comes from alternating rounds in one process at the same thread count for both (threadpoolctl
for NumPy's BLAS, torch.set_num_threads); the ratio is the median of the per-round ratios core / torch
(below 1 the core is faster). At 1 thread the clock is the process's CPU time, which other processes
on a shared machine cannot inflate by taking the core away; with more threads it is wall time, with the CPU
time of all threads beside it. The header names the CPU, OpenBLAS's kernels (OPENBLAS_CORETYPE picks them:
run once with it set and once unset to see both) and torch's. Also printed:
  - memory: the rise of the peak RSS over three training steps in a fresh process (one per network,
    batch and implementation, so the two are measured alike; after one warm-up step at batch 1 that
    loads the libraries' kernels), core vs torch;
  - conv layers: each conv layer of the suite timed alone (forward + ∂W + ∂x), its GFLOP/s as a % of
    a 1024³ float32 np.matmul measured in the same run, and torch's for the same layer;
  - scaling: net64 at batch 16 over image sizes 32²..128², and tinyvgg over batch 4..64: time per
    sample per pixel, so linear cost shows as a flat column; then the slope of a least-squares line
    (ns per added pixel and sample; ms per added sample) and each series' largest distance from it.
A float64 check that the core's gradients match torch's runs first on every network.
Without torch, only the core's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import visualcnn as vc  # noqa: E402
from bench_core import LENET5, LR, MOMENTUM, WEIGHT_DECAY, core_step, torch_model, torch_step  # noqa: E402

try:
    import torch
except ImportError:      # the core runs on its own
    torch = None

from threadpoolctl import threadpool_limits  # noqa: E402


def _spec(input_shape, layers):
    return {"input_shape": list(input_shape), "layers": layers,
            "loss": {"type": "softmax_cross_entropy", "reduction": "mean"}}


def conv(f, k=3, padding=0):
    return {"type": "conv2d", "out_channels": f, "kernel_size": k, "padding": padding}


RELU, POOL, FLAT, DENSE10 = {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, \
    {"type": "dense", "out_features": 10}


def tinyvgg(size=64):
    return _spec((3, size, size), [conv(10), RELU, conv(10), RELU, POOL, conv(10), RELU, conv(10), RELU, POOL,
                                   FLAT, DENSE10])


def net64(size=64):
    return _spec((3, size, size), [conv(32), RELU, POOL, conv(64), RELU, POOL, FLAT, DENSE10])


def sixconv(size=32):
    return _spec((3, size, size), [x for _ in range(6) for x in (conv(16, padding=1), RELU)] + [FLAT, DENSE10])


NETWORKS = {"lenet5": (lambda: LENET5, (1, 32, 128)), "tinyvgg": (tinyvgg, (16, 64)),
            "net64": (net64, (16,)), "sixconv": (sixconv, (32, 128))}
INFERENCE = {"sixconv": (1, 256), "tinyvgg": (1, 256)}


def data(spec, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *spec["input_shape"])).astype(np.float32), rng.integers(0, 10, size=n)


def make_pair(spec, n, train=True):
    """{"core": fn, "torch": fn} running one training step (or one forward pass) of `spec` at batch n."""
    net = vc.Network.from_spec(spec, dtype=np.float32, seed=0)
    x, labels = data(spec, n)
    if train:
        opt = vc.SGD(net, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        fns = {"core": lambda: core_step(net, opt, x, labels, input_grad=False)}
    else:
        fns = {"core": lambda: net.forward(x)}
    if torch is not None:
        model = torch_model(net)
        tx, tl = torch.from_numpy(x.copy()), torch.from_numpy(labels)
        if train:
            topt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
            fns["torch"] = lambda: torch_step(model, topt, tx, tl)
        else:
            def infer():
                with torch.inference_mode():
                    model(tx)
            fns["torch"] = infer
    return fns, net


#: the clock of every timing: the process's CPU time at 1 thread (what the step costs, unaffected by other
#: processes taking the core away on a shared machine), wall time with more threads (the parallel speed-up)
CLOCK = {"fn": time.process_time}


def per_step(fn, reps, clock=None):
    clock = clock or CLOCK["fn"]
    t0 = clock()
    for _ in range(reps):
        fn()
    return (clock() - t0) / reps


def per_step_both(fn, reps):
    """(wall seconds, process CPU seconds) per call: with 2 threads, the speed and what it costs in all."""
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - w0) / reps, (time.process_time() - c0) / reps


def reps_for(fn, budget=0.05):
    """How many calls make one round last about `budget` seconds."""
    return max(1, int(budget / max(per_step(fn, 3), 1e-6)))


def gemm_peak(rounds, n=1024):
    """float32 GFLOP/s of an n×n @ n×n np.matmul (median of `rounds`)."""
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    c = np.empty((n, n), np.float32)
    np.matmul(a, b, out=c)
    times = [per_step(lambda: np.matmul(a, b, out=c), 3) for _ in range(max(3, rounds))]
    return 2 * n ** 3 / statistics.median(times) / 1e9


def alternate(fns, rounds, budget=0.05, cpu=None):
    """Median seconds per call of each fn (CLOCK) and the median per-round ratio core / torch.

    cpu: a dict that receives the same for the process's CPU time ({"med": ..., "ratio": ...}), measured
    in the same calls (with more than one thread: what the step costs on all cores together).
    """
    for fn in fns.values():
        for _ in range(3):
            fn()
    reps = {k: reps_for(fn, budget) for k, fn in fns.items()}
    times = {k: [] for k in fns}
    cpu_times = {k: [] for k in fns}
    order = list(fns)
    for r in range(rounds):
        for k in order[r % len(order):] + order[:r % len(order)]:
            wall, used = per_step_both(fns[k], reps[k])
            times[k].append(used if CLOCK["fn"] is time.process_time else wall)
            cpu_times[k].append(used)

    def summary(t):
        med = {k: statistics.median(v) for k, v in t.items()}
        ratio = statistics.median(c / u for c, u in zip(t["core"], t["torch"])) if "torch" in t else None
        return med, ratio
    if cpu is not None:
        cpu["med"], cpu["ratio"] = summary(cpu_times)
    return summary(times)


def load() -> str:
    return "load %.2f" % os.getloadavg()[0]


# -- correctness ---------------------------------------------------------------------------------
def check_float64(spec, n=3):
    """Max relative difference of logits, every parameter gradient and ∂C/∂x vs torch, in float64."""
    net = vc.Network.from_spec(spec, dtype=np.float64, seed=0)
    model = torch_model(net)
    x, labels = data(spec, n, seed=3)
    x = x.astype(np.float64)
    logits = net.forward(x)
    net.loss(logits, labels)
    dx = net.backward()
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tlogits = model(tx)
    torch.nn.functional.cross_entropy(tlogits, torch.from_numpy(labels)).backward()

    def rel(a, b):
        b = b.detach().numpy()
        return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))

    errs = [rel(logits, tlogits), rel(dx, tx.grad)]
    for layer, m in zip(net.layers, model):
        for name, p in (("W", "weight"), ("b", "bias")):
            if name in layer.grads:
                errs.append(rel(layer.grads[name], getattr(m, p).grad))
    return max(errs)


# -- memory: one fresh process per measurement ------------------------------------------------------
def memory_child(name, n, impl, threads):
    """In a fresh process: the rise of the peak RSS (MiB) over three training steps."""
    with threadpool_limits(limits=threads, user_api="blas"):
        if torch is not None:
            torch.set_num_threads(threads)
        make_pair(NETWORKS[name][0](), 1)[0][impl]()      # warm up the library (allocator, oneDNN kernels)
        fns, _ = make_pair(NETWORKS[name][0](), n)
        fn = fns[impl]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(3):
            fn()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rise_mib": (after - before) / 1024}))


def memory_rise(name, n, impl, threads=1):
    out = subprocess.run([sys.executable, __file__, "--memory-child", f"{name},{n},{impl},{threads}"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["rise_mib"]


# -- conv layers alone ---------------------------------------------------------------------------
def conv_layers(names):
    """(label, layer spec, input shape, batch) of every distinct conv layer of the suite's networks."""
    seen = {}
    for name in names:
        make, batches = NETWORKS[name]
        net = vc.Network.from_spec(make(), dtype=np.float32, seed=0)
        for i, layer in enumerate(net.layers):
            if layer.type_name == "conv2d":
                key = (layer.input_shape, layer.output_shape, layer.options["padding"], max(batches))
                seen.setdefault(key, (f"{name}[{i}]", layer.to_spec(), layer.input_shape, max(batches)))
    return list(seen.values())


def conv_pair(layer_spec, input_shape, n):
    net = vc.Network.from_spec(_spec(input_shape, [layer_spec, FLAT, DENSE10]), dtype=np.float32, seed=0)
    layer = net.layers[0]
    rng = np.random.default_rng(0)
    x = vc.layers.windows.batch_last((n, *input_shape), np.float32)
    x[...] = rng.standard_normal(x.shape)
    dout = vc.layers.windows.batch_last((n, *layer.output_shape), np.float32)
    dout[...] = rng.standard_normal(dout.shape)

    def core():
        layer.forward(x)
        layer.backward(dout)
    fns = {"core": core}
    if torch is not None:
        m = torch_model(net)[0]
        tx = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_(True)
        tdout = torch.from_numpy(np.ascontiguousarray(dout))

        def tstep():
            m.zero_grad(set_to_none=True)
            tx.grad = None
            m(tx).backward(tdout)
        fns["torch"] = tstep
    F, Ho, Wo = layer.output_shape
    k = layer.options["kernel_size"]
    flops = 3 * 2 * n * F * Ho * Wo * input_shape[0] * k * k
    return fns, flops


# -- the report ----------------------------------------------------------------------------------
def table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(str(h).rjust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |")
    sys.stdout.flush()


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}"


def run_threads(threads, args, names):
    if torch is not None:
        torch.set_num_threads(threads)
    CLOCK["fn"] = time.process_time if threads == 1 else time.perf_counter
    with threadpool_limits(limits=threads, user_api="blas"):
        peak = gemm_peak(args.rounds)
        clock = "CPU time" if threads == 1 else "wall time"
        print(f"\n## {threads} thread(s), {clock}: float32 GEMM peak (1024³ np.matmul) {peak:.1f} GFLOP/s, "
              f"{load()}\n")
        rows = []
        for name in names:
            make, batches = NETWORKS[name]
            passes = [(n, True) for n in batches] + [(n, False) for n in INFERENCE.get(name, ())]
            for n, train in passes:
                fns, _ = make_pair(make(), n, train=train)
                cpu = {}
                med, ratio = alternate(fns, args.rounds, cpu=cpu)
                row = [name, n, "train" if train else "infer", f"{med['core'] * 1e3:.2f}",
                       f"{med['torch'] * 1e3:.2f}" if "torch" in med else "-", fmt_ratio(ratio)]
                if threads > 1:       # CPU time of both threads: what the speed-up costs
                    row += [f"{cpu['med']['core'] * 1e3:.2f}",
                            f"{cpu['med']['torch'] * 1e3:.2f}" if "torch" in cpu["med"] else "-",
                            fmt_ratio(cpu["ratio"])]
                rows.append(row + [load()])
        header = ["network", "batch", "pass", "core ms", "torch ms", "core/torch"]
        if threads > 1:
            header += ["core CPU ms", "torch CPU ms", "CPU core/torch"]
        table(header + ["load"], rows)
        if not args.no_layers:
            rows = []
            for label, lspec, shape, n in conv_layers(names):
                fns, flops = conv_pair(lspec, shape, n)
                med, ratio = alternate(fns, args.rounds)
                g = {k: flops / v / 1e9 for k, v in med.items()}
                rows.append([label, "×".join(map(str, shape)) + f"→{lspec['out_channels']}", n,
                             f"{med['core'] * 1e3:.2f}", f"{g['core']:.1f}", f"{100 * g['core'] / peak:.0f} %",
                             f"{100 * g['torch'] / peak:.0f} %" if "torch" in g else "-", fmt_ratio(ratio), load()])
            print()
            table(["conv layer", "C×H×W→F", "batch", "core ms (fwd+bwd)", "core GFLOP/s", "core % GEMM",
                   "torch % GEMM", "core/torch", "load"], rows)
        if not args.no_scaling and threads == 1:
            scaling(args)


def linear_fit(xs, ys):
    """(slope, intercept, largest relative distance of a point from the line) of a least-squares line."""
    slope, intercept = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    off = max(abs(y - (slope * x + intercept)) / y for x, y in zip(xs, ys))
    return slope, intercept, off


def scaling(args):
    """Goal 3: cost linear in pixels (net64 at batch 16, 32²..128²) and in batch (TinyVGG, batch 4..64)."""
    rows, series = [], {"pixels": {}, "batch": {}}
    for size in (32, 64, 96, 128):
        fns, _ = make_pair(net64(size), 16)
        med, ratio = alternate(fns, args.rounds)
        per = {k: v / 16 / (size * size) * 1e9 for k, v in med.items()}       # ns per sample per pixel
        for k, v in med.items():
            series["pixels"].setdefault(k, []).append((size * size, v / 16))
        rows.append(["net64", f"{size}²", 16, f"{med['core'] * 1e3:.2f}", f"{per['core']:.1f}",
                     f"{per['torch']:.1f}" if "torch" in per else "-", fmt_ratio(ratio), load()])
    for n in (4, 16, 64):
        fns, _ = make_pair(tinyvgg(), n)
        med, ratio = alternate(fns, args.rounds)
        per = {k: v / n / (64 * 64) * 1e9 for k, v in med.items()}
        for k, v in med.items():
            series["batch"].setdefault(k, []).append((n, v))
        rows.append(["tinyvgg", "64²", n, f"{med['core'] * 1e3:.2f}", f"{per['core']:.1f}",
                     f"{per['torch']:.1f}" if "torch" in per else "-", fmt_ratio(ratio), load()])
    print("\nscaling (1 thread): time per sample per pixel; linear cost is a flat column\n")
    table(["network", "image", "batch", "core ms", "core ns/sample/px", "torch ns/sample/px", "core/torch",
           "load"], rows)
    slopes = []
    for what, unit, scale, label in (("pixels", "ns per pixel per sample", 1e9, "net64 b16, 32²..128²"),
                                     ("batch", "ms per sample", 1e3, "tinyvgg 64², batch 4..64")):
        for impl, pts in series[what].items():
            slope, intercept, off = linear_fit(*zip(*pts))
            slopes.append([label, impl, f"{slope * scale:.2f} {unit}", f"{intercept * 1e3:.2f} ms",
                           f"{100 * off:.1f} %"])
    print("\nslopes of a least-squares line (per-sample time vs pixels; step time vs batch); linear cost: "
          "every point near the line\n")
    table(["series", "impl", "slope", "intercept", "largest distance from the line"], slopes)


def memory(names):
    rows = []
    for name in names:
        for n in NETWORKS[name][1]:
            core = memory_rise(name, n, "core")
            tch = memory_rise(name, n, "torch") if torch is not None else None
            rows.append([name, n, f"{core:.0f}", "-" if tch is None else f"{tch:.0f}",
                         "-" if not tch else f"{core / tch:.2f}", load()])
    print("\npeak RSS rise over three training steps, fresh process each (1 thread)\n")
    table(["network", "batch", "core MiB", "torch MiB", "core/torch", "load"], rows)


def environment() -> str:
    """What decides the GEMM speed of each side: the CPU, OpenBLAS's kernels (OPENBLAS_CORETYPE), torch's."""
    from threadpoolctl import threadpool_info
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?") if Path("/proc/cpuinfo").exists() else "?"
    blas = ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')} kernels"
                     for i in threadpool_info() if i["user_api"] == "blas")
    tcap = torch.backends.cpu.get_cpu_capability() if torch is not None else "-"
    return (f"CPU {cpu}; NumPy's BLAS: {blas} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}); "
            f"torch CPU capability {tcap}; core's malloc tuning {'on' if vc.layers.workspace.malloc_tuned() else 'off'} "
            f"(process-wide: torch runs in the same process)")


def main(argv=None):
    from visualcnn.layers.workspace import keep_freed_memory
    keep_freed_memory()             # as visualcnn and the window do at their start
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds per figure")
    ap.add_argument("--only", default=",".join(NETWORKS), help="comma-separated networks")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--no-layers", action="store_true")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        name, n, impl, threads = args.memory_child.split(",")
        memory_child(name, int(n), impl, int(threads))
        return
    names = args.only.split(",")
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
          f"{os.cpu_count()} CPUs, {args.rounds} rounds, {load()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(environment())
    if "OPENBLAS_CORETYPE" in os.environ:
        print("OPENBLAS_CORETYPE is set, so OpenBLAS runs the kernels it names rather than the ones it would pick "
              "for this CPU (torch picks its own); to compare with the CPU's own kernels, run this command with "
              "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`")
    if torch is not None:
        for name in names:
            err = check_float64(NETWORKS[name][0]())
            print(f"float64 check vs torch, {name}: max relative difference {err:.1e}")
            if err > 1e-12:
                raise SystemExit(f"MISMATCH with torch on {name}: {err:.1e}")
    if not args.no_memory:
        memory(names)
    for threads in (int(t) for t in args.threads.split(",")):
        run_threads(threads, args, names)


if __name__ == "__main__":
    main()
