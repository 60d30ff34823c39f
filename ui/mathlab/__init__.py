"""The math lab in the window: the gradient check, the study note's mistakes, your own layer, and the
errors a layer's code makes.

    lab = install_mathlab(window)        # once, after the MainWindow (and its controller) exist

adds
- a "Gradient check" dock: "Check layer i" (the inspector's layer) / "Check the whole network" on the
  current batch, off the GUI thread; clicking a cell shows its chain rule in the inspector's Numbers tab;
- a Mistakes menu (one checkable action per mistake, "Turn all off", "Explain…") and a "Mistakes" dock
  (the note's formula beside the correct one, and "Compare with the correct math": two loss curves);
- Layer ▸ Load layer file… / New layer from template…;
- an "Errors" dock listing LayerFailures, CustomLayerErrors, failed checks and NaN breakpoints,
  with the phase, the layer and the traceback.

Who owns what: MathLab keeps `wanted`, the mistakes the user switched on, and makes the session
compute exactly them — after a toggle (apply_to_session) and after every rebuild of the network
(Session.rebuild builds the plain classes; the session's network_rebuilt event re-applies them).
It only talks to the Session between runs: a toggle or a check while the Run worker owns the
session pauses it first, or is refused with a message.
"""

from .checks import CHECK_JITTER, CHECK_SEED, unit_for_entry
from .lab import MathLab, install_mathlab
from .layer_files import template_path

__all__ = ["CHECK_JITTER", "CHECK_SEED", "MathLab", "install_mathlab", "template_path", "unit_for_entry"]
