"""InputControl: step on a chosen or drawn image instead of the dataset's batches."""

from __future__ import annotations

from typing import Any

import numpy as np

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import N_, _

#: the data set's splits, as a pinned image's source names them
SPLIT_NAMES = {"train": N_("training"), "test": N_("test")}


class InputControl:
    """Mixin of Controller: pinned inputs from the dataset browser and the drawing pad."""

    def pin_input(self, x: np.ndarray, labels: Any, source: str) -> bool:
        """Step on the images x (N, C, H, W) from now on instead of the dataset's batches; `source` in words."""
        if self.refuse():
            return False
        try:
            self.session.pin_input(x, labels)
        except VisualCNNError as e:
            self._error(_("Cannot use {source} as the input: {error}").format(source=source, error=e))
            return False
        self.pin_source = source
        self.clear_alert()
        self.refresh(force=True)
        return True

    def unpin_input(self) -> bool:
        """Back to the dataset's batches (the current iteration starts again)."""
        if self.refuse():
            return False
        self.session.pin_input(None)
        self.pin_source = ""
        self.refresh(force=True)
        return True

    def _browser_chose(self, x: np.ndarray, labels: np.ndarray) -> None:
        b = self.window.browser
        row = b.view.currentIndex().row()
        index = int(b.model.rows[row]) if 0 <= row < len(b.model.rows) else None
        name = self.session.dataset.class_names[int(labels[0])]
        split = _(SPLIT_NAMES.get(b.split, b.split))
        if index is not None:
            source = _("{split} image #{index} (label {label})").format(split=split, index=index, label=name)
        else:
            source = _("{split} image (label {label})").format(split=split, label=name)
        self.pin_input(x, labels, source)

    def try_input(self, x: np.ndarray) -> bool:
        """The drawing pad's image x (C, H, W): pin it and run the forward phases and the loss, so the
        pipeline, the probabilities and the inspector show what the network makes of it. Until its label
        is chosen it runs forward only: the network's answer, scored neither right nor wrong."""
        if self.running:
            self.window.statusBar().showMessage(_("Training is running: pause it (F5) to try your own image."), 5000)
            return False
        label = self.window.pad_labels.label()
        if label is None:
            source = _("your image (no label yet: forward only — choose what it shows to compute the loss)")
        else:
            source = _("your image (labelled {label})").format(label=self.session.dataset.class_names[label])
        if not self.pin_input(np.asarray(x)[None], [0 if label is None else label], source):
            return False
        s = self.session

        def forward() -> None:
            for _k in range(len(s.network.layers) + (label is not None)):
                s.step()
                if s.last_hit is not None:
                    break
        return self._guarded(forward)        # a user layer that never returns cannot freeze the window here either

    def request_predictions(self, split: str) -> None:
        """Predicted labels of a split for the browser's "misclassified only", computed on the worker thread."""
        from ..views.dataset_browser import predict_labels
        self.worker.submit(lambda s: predict_labels(s, split), tag=("predictions", split, self.session.dataset))

    def _forget_predictions(self) -> None:
        """The weights changed: the browser's predictions are stale (asked for again if it shows them)."""
        b = self.window.browser
        for split in list(b.model.predictions):
            b.set_predictions(split, None)
