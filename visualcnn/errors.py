"""The core's user-facing errors: each names the thing, the value received and what would be valid."""

from __future__ import annotations


class VisualCNNError(ValueError):
    """Base of every error the core raises for bad user input (a ValueError)."""


class SpecError(VisualCNNError):
    """An invalid layer-stack spec: names the layer index and type, the incoming shape and what would be valid.

    `layer_index` is the offending layer (None when the problem is not one layer's),
    so an editor can mark that row.
    """

    def __init__(self, message: str, layer_index: int | None = None) -> None:
        super().__init__(message)
        self.layer_index = layer_index

    def __reduce__(self):
        return (type(self), (str(self), self.layer_index))


class ShapeError(VisualCNNError):
    """An array of the wrong shape or dtype was handed to the network."""


class DataError(VisualCNNError):
    """A data file or array that cannot be used: names the file and the problem."""


class FileFormatError(VisualCNNError):
    """A saved spec or session file that is corrupt, truncated or foreign."""


class SessionError(VisualCNNError):
    """A Session command that cannot be carried out now (e.g. step back at the start of history)."""
