"""The metrics view's figures without a widget: the smoothed curves, the CSV table, the ETA text, what a
MetricsLog kept, and the log axes' labels (ui/views/metrics.py draws them)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg

from visualcnn.i18n import _, ngettext

SMOOTHING = 0.9          # exponential moving average of the per-iteration train figures (debiased)


def _ema(values: np.ndarray, state: tuple[float, int], alpha: float = SMOOTHING) -> tuple[np.ndarray, tuple[float, int]]:
    """Debiased EMA of `values` continuing from `state` = (running average, count); NaNs are skipped."""
    avg, n = state
    out = []
    append, isfinite, nan, beta = out.append, math.isfinite, math.nan, 1 - alpha
    for v in np.asarray(values, dtype=float).tolist():      # plain floats: ~5× faster than numpy scalars
        if isfinite(v):
            avg = alpha * avg + beta * v
            n += 1
        append(avg / (1 - alpha ** n) if n else nan)
    return np.array(out, dtype=float), (avg, n)


def metrics_table(metrics: Sequence[Any], test_points: Sequence[tuple[int, float, float]] = ()
                  ) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of the metrics, one row per iteration; test columns filled where evaluated."""
    layers = sorted({i for m in metrics for i in (*m.grad_norms, *m.update_ratios)})
    header = ["iteration", "train_loss", "train_accuracy", "train_loss_smoothed", "test_loss", "test_accuracy"]
    header += [f"grad_norm_layer{i}" for i in layers] + [f"update_ratio_layer{i}" for i in layers]
    smoothed, _state = _ema(np.array([m.loss for m in metrics], dtype=float), (0.0, 0))
    # a test point evaluated at iteration k was measured after k updates, i.e. after metrics row k-1
    tests = {it: (loss, acc) for it, loss, acc in test_points}
    rows = []
    for m, sm in zip(metrics, smoothed):
        t_loss, t_acc = tests.get(m.iteration + 1, ("", ""))
        rows.append([m.iteration, m.loss, m.accuracy, float(sm), t_loss, t_acc]
                    + [m.grad_norms.get(i, "") for i in layers] + [m.update_ratios.get(i, "") for i in layers])
    return header, rows


def metrics_csv(metrics: Sequence[Any], test_points: Sequence[tuple[int, float, float]] = (),
                warning: str = "") -> str:
    """The metrics as CSV text; a `warning` (the math is deliberately wrong) goes first, as a # line."""
    header, rows = metrics_table(metrics, test_points)
    buf = io.StringIO()
    if warning:
        buf.write(f"# {warning}\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_metrics_csv(path: str | Path, metrics: Sequence[Any],
                      test_points: Sequence[tuple[int, float, float]] = (), warning: str = "") -> Path:
    """Write the metrics as CSV atomically (a failure never leaves half a file)."""
    from visualcnn.io import atomic_write
    text = metrics_csv(metrics, test_points, warning)
    return atomic_write(path, lambda f: f.write(text), binary=False)


def format_eta(seconds: float) -> str:
    if not math.isfinite(seconds):
        return _("ETA —")
    seconds = int(round(seconds))
    if seconds >= 3600:
        return _("ETA {h} h {min} min").format(h=seconds // 3600, min=f"{seconds % 3600 // 60:02d}")
    if seconds >= 60:
        return _("ETA {min} min {s} s").format(min=seconds // 60, s=f"{seconds % 60:02d}")
    return _("ETA {s} s").format(s=seconds)


def progress_text(done: int, total: int) -> str:
    """'300 / 1,000 iterations' (the progress bar's words)."""
    return ngettext("{done} / {total} iteration", "{done} / {total} iterations", total).format(
        done=f"{done:,}", total=f"{total:,}")


def _kept(metrics: Any) -> tuple[list[Any], int]:
    """(what a MetricsLog kept: its summary points then its recent iterations, how many iterations that covers).

    Read while a run may append on another thread: summary, recent and length are taken again until no
    append came between them (each is consistent on its own; together only if the length did not move)."""
    for _attempt in range(5):
        n = len(metrics)
        recent, summary = metrics.recent, metrics.summary
        if len(metrics) == n:
            break
    first = recent[0].iteration if recent else math.inf
    return [m for m in summary if m.iteration < first] + recent, n


def _version(test_points: Sequence[Any]) -> int:
    """What changes whenever the test points do (a bounded HeldOutPoints replaces its last point in place)."""
    return getattr(test_points, "version", len(test_points))


class _LogAxis(pg.AxisItem):
    """A log axis labelled only at 1, 2 and 5 × 10^k (pyqtgraph labels every minor tick, which crowds)."""

    def logTickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            value = 10 ** float(v)
            mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
            out.append(_short(value) if round(mantissa, 3) in (1.0, 2.0, 5.0) else "")
        return out


def _short(v: float) -> str:
    """0.001 → '1e-3', 20 → '20', 0.05 → '0.05'."""
    if 1e-2 <= v < 1e4:
        return f"{v:g}"
    exp = math.floor(math.log10(v) + 1e-9)
    m = v / 10 ** exp
    return f"{m:g}e{exp}".replace("-", "−")

