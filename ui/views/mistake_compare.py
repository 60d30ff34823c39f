"""What a mistake does to learning: two twin sessions, same weights and same batches, one with the
study note's formulas and one correct, trained side by side off the GUI thread; both loss curves
in one plot.

    compare = CompareView()
    compare.start(session, ["softmax-diagonal"], iterations=200, batch_size=16)
    compare.finished → (correct losses, mistaken losses)

The twins are built on the GUI thread from the session's state at the start of its current
iteration (under the session's lock), then only the worker thread touches them: the session
itself is never stepped, so a comparison can run while the user keeps stepping.
"""

from __future__ import annotations

import html

import threading
import time
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from ui import style
from ui.threads import WorkerHost, end_worker, start_worker
from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

CORRECT_PEN = pg.mkPen((46, 139, 87), width=2)
MISTAKE_PEN = pg.mkPen((192, 57, 43), width=2)
#: below this plot height the legend is hidden (it would cover the curves); the result line keeps the colours
LEGEND_MIN_PLOT_HEIGHT = 200


def _coloured(text: str, pen: Any) -> str:
    """`text` (HTML) in the colour of a curve's pen, for the result line under the plot."""
    return f'<b style="color:{pen.color().name()}">{text}</b>'


def twin_session(session: Any, names: Sequence[str], batch_size: int) -> Any:
    """A Session with `session`'s spec, weights and velocities at the start of its current iteration,
    computing exactly the mistakes `names` (none: the built-in classes), with its own batch order
    (seeded by the session's seed: every twin of a session sees the same batches)."""
    from visualcnn.mistakes import optimizer_class, with_mistakes
    from visualcnn.session import Session

    with session.lock:
        state = session.checkpoint_state()
        net = with_mistakes(session.network, names)
        net.set_params(state["params"])
        opt = optimizer_class(names)(net, **session.optimizer.hyper())
        opt.set_state(state["velocity"])
        twin = Session(net, opt, session.dataset, batch_size=batch_size, seed=session.seed,
                       history_budget=8 * 2**20)
    return twin


class _CompareWorker(QtCore.QObject):
    """Trains the twins one iteration each in turn; reports the loss curves through signals only."""

    progress = QtCore.pyqtSignal(object, object, int)     # correct losses, mistaken losses, iterations total
    finished = QtCore.pyqtSignal(object, object, str)     # … and a note ("" or why a curve ended early)
    failed = QtCore.pyqtSignal(object)                    # the exception (a LayerFailure of a custom layer…)

    def __init__(self, correct: Any, mistaken: Any, iterations: int) -> None:
        super().__init__()
        self.twins, self.iterations = (correct, mistaken), iterations
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    @QtCore.pyqtSlot()
    def run(self) -> None:
        losses: tuple[list[float], list[float]] = ([], [])
        alive = [True, True]
        notes: list[str] = []
        last = 0.0
        try:
            for it in range(self.iterations):
                if self._stop.is_set():
                    notes.append(_("cancelled after {n} iterations").format(n=it))
                    break
                for k, twin in enumerate(self.twins):
                    if not alive[k]:
                        continue
                    result = twin.run(1, records=False)
                    if result.stopped_by == "breakpoint":        # NaN or inf: the curve ends here
                        alive[k] = False
                        losses[k].append(float("nan"))
                        why = result.breakpoint.message if result.breakpoint else _("a value became NaN or infinite")
                        notes.append((_("the correct run diverged at iteration {n}: {why}") if k == 0 else
                                      _("the mistaken run diverged at iteration {n}: {why}")).format(n=it, why=why))
                    else:
                        losses[k].append(float(twin.metrics[-1].loss))
                if not any(alive):
                    break
                now = time.monotonic()
                if now - last > 0.05:
                    last = now
                    self.progress.emit(list(losses[0]), list(losses[1]), self.iterations)
        except VisualCNNError as e:
            self.failed.emit(e)
            return
        except Exception as e:  # noqa: BLE001 - a user layer's failure is reported, never fatal
            self.failed.emit(e)
            return
        self.finished.emit(list(losses[0]), list(losses[1]), "; ".join(notes))


class CompareView(WorkerHost, QtWidgets.QWidget):
    """Iterations and batch size, Compare / Cancel, a progress bar, and the two loss curves in one plot."""

    finished = QtCore.pyqtSignal(object, object)          # correct, mistaken loss lists
    failed = QtCore.pyqtSignal(object)                    # the exception

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._thread: QtCore.QThread | None = None
        self._worker: _CompareWorker | None = None
        self.losses: tuple[list[float], list[float]] = ([], [])
        self.label_mistaken = _("with the mistakes")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(style.SPACING)
        row = QtWidgets.QHBoxLayout()
        self.compare_button = QtWidgets.QPushButton(_("Compare with the correct math"))
        self.compare_button.setToolTip(_("train two twins from the current weights on the same batches — one "
                                         "with the ticked mistakes, one correct — and plot both loss curves"))
        row.addWidget(self.compare_button)
        lay.addLayout(row)
        row = QtWidgets.QHBoxLayout()                     # a second row: the dock stays narrow
        row.addWidget(QtWidgets.QLabel(_("iterations")))
        self.iterations = QtWidgets.QSpinBox()
        self.iterations.setRange(1, 100000)
        self.iterations.setValue(200)
        row.addWidget(self.iterations)
        row.addWidget(QtWidgets.QLabel(_("batch")))
        self.batch = QtWidgets.QSpinBox()
        self.batch.setRange(1, 4096)
        self.batch.setValue(16)
        self.batch.setToolTip(_("images per iteration for both twins"))
        row.addWidget(self.batch)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat(_("%v / %m iterations"))
        self.progress.hide()
        row.addWidget(self.progress, 1)
        self.cancel_button = QtWidgets.QPushButton(_("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        row.addWidget(self.cancel_button)
        row.addStretch(0)
        lay.addLayout(row)
        self.note = QtWidgets.QLabel(_("Tick a mistake, then compare: both twins start from the current weights "
                                       "and see the same batches."))
        self.note.setWordWrap(True)
        self.note.setTextFormat(QtCore.Qt.TextFormat.RichText)
        lay.addWidget(self.note)
        self.plot = pg.PlotWidget()
        self.plot.setBackground(style.background_color(self))
        self.plot.setMinimumHeight(150)         # a short bottom dock at 1600×1000 shows it without scrolling
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", _("iteration"))
        self.plot.setLogMode(y=True)          # a mistake's loss can be 10⁵ times the correct one: both stay visible
        # what the curves are, as a title: a rotated axis label longer than a short dock's plot ran over the ticks
        self.plot.setTitle(_("training loss (log scale)"), size=f"{style.FONT_SMALL_PT}pt", color=style.text_color(self))
        # no "(x1e+15)" multiplier on a log axis: the ticks are the losses themselves
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-10, 10), brush=pg.mkBrush(255, 255, 255, 220),
                                          pen=pg.mkPen(160, 160, 160), labelTextColor=style.text_color(self),
                                          labelTextSize=f"{style.FONT_PT}pt")
        self.correct_curve = self.plot.plot([], [], pen=CORRECT_PEN, name=_("correct"), connect="finite")
        self.mistake_curve = self.plot.plot([], [], pen=MISTAKE_PEN, name=self.label_mistaken, connect="finite")
        lay.addWidget(self.plot, 1)
        self.plot.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.plot and event.type() == QtCore.QEvent.Type.Resize:
            # in a short plot the legend would cover the curves: the result line names them in their colours
            self.legend.setVisible(self.plot.height() >= LEGEND_MIN_PLOT_HEIGHT)
        return False

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self, session: Any, names: Sequence[str], iterations: int | None = None,
              batch_size: int | None = None) -> None:
        """Build the twins now and train them off the GUI thread."""
        self.cancel(wait=True)
        if iterations is not None:
            self.iterations.setValue(int(iterations))
        if batch_size is not None:
            self.batch.setValue(int(batch_size))
        names = list(names)
        correct = twin_session(session, [], self.batch.value())
        mistaken = twin_session(session, names, self.batch.value())
        self.label_mistaken = (_("with {mistakes}").format(mistakes=" + ".join(names)) if names else
                               _("with no mistake (same math)"))
        self._set_names()
        self.losses = ([], [])
        self._draw()
        worker = _CompareWorker(correct, mistaken, self.iterations.value())
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._worker = worker
        self.progress.setRange(0, self.iterations.value())
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.compare_button.setEnabled(False)
        self.note.setText(_("Training both twins for {n} iterations of {batch} images…").format(
            n=self.iterations.value(), batch=self.batch.value()))
        self._thread = start_worker(self, worker)


    def _set_names(self) -> None:
        self.legend.clear()
        self.legend.addItem(self.correct_curve, _("correct"))
        self.legend.addItem(self.mistake_curve, self.label_mistaken)

    def _draw(self) -> None:
        for curve, values in zip((self.correct_curve, self.mistake_curve), self.losses):
            y = np.asarray(values, dtype=float)
            curve.setData(np.arange(1, y.size + 1), y, connect="finite")

    def _end(self) -> None:
        end_worker(self._thread)
        self._worker = self._thread = None
        self.progress.hide()
        self.cancel_button.hide()
        self.compare_button.setEnabled(True)

    def _on_progress(self, correct: list, mistaken: list, total: int) -> None:
        self.losses = (correct, mistaken)
        self.progress.setValue(max(len(correct), len(mistaken)))
        self._draw()

    def _on_finished(self, correct: list, mistaken: list, note: str) -> None:
        self._end()
        self.losses = (correct, mistaken)
        self._draw()
        same = len(correct) == len(mistaken) and np.allclose(correct, mistaken, equal_nan=True)
        if not correct:
            text = _("No iteration ran.")
        else:
            text = _("After {n} iterations: correct loss {correct}, {label}: {mistaken}.").format(
                n=len(correct), correct=_coloured(f"{correct[-1]:.3g}", CORRECT_PEN),
                label=_coloured(html.escape(self.label_mistaken), MISTAKE_PEN),
                mistaken=_coloured(f"{mistaken[-1]:.3g}", MISTAKE_PEN))
            if same:
                text += " " + _("The curves coincide: this mistake does not change training here (e.g. the "
                                "convolution is the first layer, or the network has no layer it touches).")
        if note:
            text += f" ({html.escape(note)})"
        self.note.setText(text)
        self.finished.emit(correct, mistaken)

    def _on_failed(self, exc: BaseException) -> None:
        self._end()
        self.note.setText(_("The comparison stopped: {why} — see the Errors panel.").format(why=html.escape(str(exc))))
        self.failed.emit(exc)
