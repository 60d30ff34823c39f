"""Dock panels that send commands to the session: hyper-parameters and run settings, breakpoints.

The panels know nothing of the Session: they emit what the user asked for and
show what the controller tells them (`show_hyper`, `show_error`). The controller
blocks their signals while it writes values back, so a refresh never echoes as an edit.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSlider,
    QSpinBox, QVBoxLayout, QWidget,
)

from visualcnn.i18n import N_, _

from .worker import SPEED_STEPS, WATCH, speed_label

#: the speed a new window's Run starts at: whole iterations at a pace where the curves climb within seconds
#: (the slower "watch the wave" speeds, 0.5–100 phases/s, are on the same slider)
DEFAULT_SPEED = WATCH
RUN_UNITS = ("iterations", "epochs")
#: how the run-length box shows each unit
RUN_UNIT_NAMES = {"iterations": N_("iterations"), "epochs": N_("epochs")}
#: Run trains on batches of this many images (stepping stays at the session's batch size, 1 by default):
#: with one image per iteration the first run would show a loss that hardly moves
DEFAULT_RUN_BATCH = 16
DEFAULT_RUN_LR = 0.02
DEFAULT_RUN_LENGTH = (3, "epochs")


def _speed_index(speed: float) -> int:
    """The slider position of the offered speed nearest `speed`."""
    if speed in SPEED_STEPS:
        return SPEED_STEPS.index(speed)
    import math
    paced = [i for i, v in enumerate(SPEED_STEPS) if 0 < v < math.inf]
    if not 0 < speed < math.inf:
        return SPEED_STEPS.index(WATCH) if speed < 0 else len(SPEED_STEPS) - 1
    return min(paced, key=lambda i: abs(math.log(SPEED_STEPS[i]) - math.log(speed)))


def _double(minimum: float, maximum: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(minimum, maximum)
    box.setDecimals(decimals)
    box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    box.setKeyboardTracking(False)      # apply on Enter / focus out, not on every keystroke
    box.setToolTip(tip)
    box.setAccelerated(True)
    return box


def error_label() -> QLabel:
    """A word-wrapped label for a user-facing error, hidden while empty."""
    label = QLabel()
    label.setWordWrap(True)
    label.setObjectName("errorLabel")
    label.setStyleSheet("QLabel#errorLabel { color: #d03030; font-weight: 600; }")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def show_error(label: QLabel, message: str) -> None:
    label.setText(message)
    label.setVisible(bool(message))


class HyperPanel(QWidget):
    """ε, α, λ, decay biases, batch size; the bounded run's length and speed; the reset seed."""

    hyperEdited = pyqtSignal(str, object)      # name ("lr", "momentum", "weight_decay", "decay_biases"), value
    batchSizeEdited = pyqtSignal(int)
    runHyperEdited = pyqtSignal(str, object)   # Run's own "batch_size" (int) or "lr" (float)
    speedChanged = pyqtSignal(float)           # phases per second; worker.FAST (inf) = as fast as possible

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lr = _double(1e-6, 1e6, 6, _("ε, the learning rate: Δw = −ε ∂C/∂w + …"))
        self.momentum = _double(0.0, 0.999, 3, _("α, the momentum: the fraction of the last update Δw carried over"))
        self.momentum.setSingleStep(0.05)
        self.weight_decay = _double(0.0, 1.0, 6, _("λ, the weight decay: Δw gets − ε λ w"))
        self.decay_biases = QCheckBox(_("decay biases too"))
        self.decay_biases.setToolTip(_("apply the weight decay λ to the biases as well as to the weights"))
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 4096)
        self.batch_size.setKeyboardTracking(False)
        self.batch_size.setToolTip(_("images per iteration now: when stepping (F10, F11), 1 is easiest to follow;\n"
                                     "during a run, the run's batch (Run). Takes effect with the next batch fetched."))
        self.run_batch = QSpinBox()
        self.run_batch.setRange(1, 4096)
        self.run_batch.setValue(DEFAULT_RUN_BATCH)
        self.run_batch.setKeyboardTracking(False)
        self.run_batch.setToolTip(_("images per iteration while Run (F5) trains; stepping goes back to its own "
                                    "batch size when the run ends"))
        self.run_lr = _double(1e-6, 1e6, 6, _("ε while Run (F5) trains: a batch of many images takes a larger step "
                                "than one image; stepping goes back to its own ε when the run ends"))
        self.run_lr.setValue(DEFAULT_RUN_LR)
        self.iterations = QSpinBox()
        self.iterations.setRange(1, 1_000_000)
        self.iterations.setValue(DEFAULT_RUN_LENGTH[0])
        self.iterations.setGroupSeparatorShown(True)
        self.iterations.setToolTip(_("how long Run (F5) goes before it stops by itself"))
        self.run_unit = QComboBox()
        for unit in RUN_UNITS:
            self.run_unit.addItem(_(RUN_UNIT_NAMES[unit]), unit)
        self.set_run_unit(DEFAULT_RUN_LENGTH[1])
        self.run_unit.setToolTip(_("iterations: batches; epochs: passes over the whole training set"))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(0, len(SPEED_STEPS) - 1)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.speed_slider.setValue(_speed_index(DEFAULT_SPEED))
        self.speed_slider.setToolTip(_("how fast Run goes: slow speeds show every phase (the wave of activations "
                                       "forward, the gradients back); the fastest trains at full speed and "
                                       "redraws about 30 times a second. Can be changed during a run."))
        self.speed_label = QLabel(speed_label(DEFAULT_SPEED))
        self.speed_label.setWordWrap(True)
        # every seed a session may carry (0 … limits.MAX_SEED = 2**32 - 1): past a QSpinBox's int32 range,
        # so whole numbers in a double spin box (exact up to 2**53); read it with seed_value()
        from visualcnn.limits import MAX_SEED
        self.seed = QDoubleSpinBox()
        self.seed.setDecimals(0)
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip(_("seed of the initial weights and batch order used by Reset weights"))
        self.error = error_label()

        hyper = QGroupBox(_("Hyper-parameters: SGD with momentum"))
        form = QFormLayout(hyper)
        form.addRow(_("ε  learning rate"), self.lr)
        form.addRow(_("α  momentum"), self.momentum)
        form.addRow(_("λ  weight decay"), self.weight_decay)
        form.addRow("", self.decay_biases)
        form.addRow(_("batch size"), self.batch_size)
        run = QGroupBox(_("Run and reset"))
        form2 = QFormLayout(run)
        length = QHBoxLayout()
        length.addWidget(self.iterations, 1)
        length.addWidget(self.run_unit)
        form2.addRow(_("run for"), length)
        form2.addRow(_("batch (Run)"), self.run_batch)
        form2.addRow(_("ε (Run)"), self.run_lr)
        form2.addRow(_("speed"), self.speed_slider)
        form2.addRow("", self.speed_label)
        form2.addRow(_("seed"), self.seed)
        layout = QVBoxLayout(self)
        layout.addWidget(hyper)
        layout.addWidget(run)
        layout.addWidget(self.error)
        layout.addStretch(1)

        self.lr.valueChanged.connect(lambda v: self.hyperEdited.emit("lr", float(v)))
        self.momentum.valueChanged.connect(lambda v: self.hyperEdited.emit("momentum", float(v)))
        self.weight_decay.valueChanged.connect(lambda v: self.hyperEdited.emit("weight_decay", float(v)))
        self.decay_biases.toggled.connect(lambda v: self.hyperEdited.emit("decay_biases", bool(v)))
        self.batch_size.valueChanged.connect(self.batchSizeEdited)
        self.run_batch.valueChanged.connect(lambda v: self.runHyperEdited.emit("batch_size", int(v)))
        self.run_lr.valueChanged.connect(lambda v: self.runHyperEdited.emit("lr", float(v)))
        self.speed_slider.valueChanged.connect(self._speed_moved)

    # -- run settings --------------------------------------------------------------------
    @property
    def speed(self) -> float:
        """Phases per second (FAST = as fast as possible)."""
        return SPEED_STEPS[self.speed_slider.value()]

    def set_speed(self, phases_per_second: float) -> None:
        """Move the slider to the offered speed nearest `phases_per_second`."""
        self.speed_slider.setValue(_speed_index(float(phases_per_second)))

    def _speed_moved(self, k: int) -> None:
        self.speed_label.setText(speed_label(SPEED_STEPS[k]))
        self.speedChanged.emit(SPEED_STEPS[k])

    def run_length(self) -> dict[str, int]:
        """{"n_iterations": N} or {"epochs": N}: what RunWorker.start takes."""
        key = "epochs" if self.run_unit_value() == "epochs" else "n_iterations"
        return {key: int(self.iterations.value())}

    def run_unit_value(self) -> str:
        """"iterations" or "epochs" (the box shows them in the current language)."""
        return self.run_unit.currentData() or RUN_UNITS[0]

    def set_run_unit(self, unit: str) -> None:
        index = self.run_unit.findData(unit)
        if index >= 0:
            self.run_unit.setCurrentIndex(index)

    def show_hyper(self, hyper: dict[str, Any], batch_size: int, seed: int) -> None:
        """Write the session's values into the boxes without echoing them back as edits."""
        for box, value in ((self.lr, hyper["lr"]), (self.momentum, hyper["momentum"]),
                           (self.weight_decay, hyper["weight_decay"])):
            with QSignalBlocker(box):
                box.setValue(float(value))
        with QSignalBlocker(self.decay_biases):
            self.decay_biases.setChecked(bool(hyper["decay_biases"]))
        with QSignalBlocker(self.batch_size):
            self.batch_size.setValue(int(batch_size))
        self.seed.setValue(float(int(seed)))

    def seed_value(self) -> int:
        return int(self.seed.value())

    def show_run_hyper(self, batch_size: int, lr: float) -> None:
        """Run's own batch size and ε (a preset's "train" settings), without echoing them as edits."""
        with QSignalBlocker(self.run_batch):
            self.run_batch.setValue(int(batch_size))
        with QSignalBlocker(self.run_lr):
            self.run_lr.setValue(float(lr))

    def show_error(self, message: str) -> None:
        show_error(self.error, message)


class BreakpointsPanel(QWidget):
    """The watches checked after every phase: NaN/Inf, gradient norm, dead units."""

    changed = pyqtSignal(dict)      # {"nonfinite": bool, "grad_norm": float | None, "dead_fraction": float | None}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.nonfinite = QCheckBox(_("NaN or Inf appears"))
        self.nonfinite.setToolTip(_("stops at the first phase whose output, gradient or new weights hold NaN/Inf"))
        self.grad_on = QCheckBox(_("a gradient's norm >"))
        # up to a million: a wider range would widen the box for digits no threshold needs, and push the
        # (wider) Japanese labels beside it into a sideways scroll bar at 1280×800
        self.grad_norm = _double(0.001, 1e6, 3, _("threshold on ‖∂C/∂x‖ and on every ‖∂C/∂W‖ of a backward phase"))
        self.grad_norm.setValue(10.0)
        self.dead_on = QCheckBox(_("dead/saturated units >"))
        self.dead_fraction = QSpinBox()
        self.dead_fraction.setRange(1, 100)
        self.dead_fraction.setSuffix(" %")
        self.dead_fraction.setValue(90)
        self.dead_fraction.setToolTip(_("fraction of an activation layer's units that are dead (ReLU ≤ 0) "
                                        "or saturated (sigmoid/tanh near ±1) for the whole batch"))
        self.grad_on.setToolTip(self.grad_norm.toolTip())
        self.dead_on.setToolTip(self.dead_fraction.toolTip())
        group = QGroupBox(_("Stop (run or step) when…"))
        grid = QFormLayout(group)
        grid.addRow(self.nonfinite)
        grid.addRow(self.grad_on, self.grad_norm)
        grid.addRow(self.dead_on, self.dead_fraction)
        layout = QVBoxLayout(self)
        layout.addWidget(group)
        note = QLabel(_("Checked after every phase. A tripped watch stops the run and selects its layer."))
        note.setWordWrap(True)
        note.setEnabled(False)
        layout.addWidget(note)
        layout.addStretch(1)
        for w in (self.nonfinite, self.grad_on, self.dead_on):
            w.toggled.connect(self._emit)
        self.grad_norm.valueChanged.connect(self._emit)
        self.dead_fraction.valueChanged.connect(self._emit)
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        self.grad_norm.setEnabled(self.grad_on.isChecked())
        self.dead_fraction.setEnabled(self.dead_on.isChecked())

    def values(self) -> dict[str, Any]:
        return {"nonfinite": self.nonfinite.isChecked(),
                "grad_norm": float(self.grad_norm.value()) if self.grad_on.isChecked() else None,
                "dead_fraction": self.dead_fraction.value() / 100 if self.dead_on.isChecked() else None}

    def _emit(self, *_: Any) -> None:
        self._sync_enabled()
        self.changed.emit(self.values())

    def show_breakpoints(self, bp: dict[str, Any]) -> None:
        with QSignalBlocker(self):
            for w in (self.nonfinite, self.grad_on, self.dead_on, self.grad_norm, self.dead_fraction):
                w.blockSignals(True)
            self.nonfinite.setChecked(bool(bp["nonfinite"]))
            self.grad_on.setChecked(bp["grad_norm"] is not None)
            if bp["grad_norm"] is not None:
                self.grad_norm.setValue(float(bp["grad_norm"]))
            self.dead_on.setChecked(bp["dead_fraction"] is not None)
            if bp["dead_fraction"] is not None:
                self.dead_fraction.setValue(round(100 * float(bp["dead_fraction"])))
            for w in (self.nonfinite, self.grad_on, self.dead_on, self.grad_norm, self.dead_fraction):
                w.blockSignals(False)
        self._sync_enabled()
