"""The layer-stack editor: a list of layers with shapes and parameter counts, a property form, undo/redo.

Every edit is a new spec pushed on a QUndoStack; applying it validates at once
(through the core: `Network.from_spec` plus the controller's dataset checks).
A valid spec is announced with `specApplied` (the controller rebuilds the
session's network); an invalid one marks the offending row red, shows the core's
message under the list and reports `validityChanged(False, message)` so stepping
is disabled until the stack is fixed or the edit undone.

Modules: editor.py (the StackEditor widget: rows, edits, undo/redo, validation), form.py (the selected layer's
property form), layers.py (layer entries and the rows' shapes and parameter counts, Qt-free), tree.py (the
rows, reordered by drag and drop), undo.py (one edit as an undo command).
"""

from .editor import ERROR_BRUSH, StackEditor
from .form import CHOICE_LABELS, FIELD_LABELS, choice_label, field_help, field_label
from .layers import ADD_DEFAULTS, GENERIC_DEFAULTS, convert_layer, describe, layer_rows, new_layer

__all__ = ["ADD_DEFAULTS", "CHOICE_LABELS", "ERROR_BRUSH", "FIELD_LABELS", "GENERIC_DEFAULTS", "StackEditor",
           "choice_label", "convert_layer", "describe", "field_help", "field_label", "layer_rows", "new_layer"]
