"""visualcnn: step through the forward and backward pass of a small CNN and see every gradient.

The core (this package) is plain NumPy and never imports Qt; the GUI lives in `ui`.
"""

from .errors import DataError, FileFormatError, SessionError, ShapeError, SpecError, VisualCNNError
from .gradcheck import GradCheckReport, gradcheck
from .layers import LAYER_TYPES, Layer
from .losses import SoftmaxCrossEntropy, log_softmax, softmax
from .network import Network
from .optim import SGD, HyperParameterError
from .records import ParamUpdate, StepRecord
from .session import LayerFailure, RunResult, Session
from .watches import BreakpointHit, Breakpoints

__version__ = "0.1.0"

__all__ = [
    "BreakpointHit", "Breakpoints", "LayerFailure", "ParamUpdate", "RunResult", "Session", "StepRecord",
    "LAYER_TYPES", "SGD", "DataError", "FileFormatError", "GradCheckReport", "HyperParameterError",
    "Layer", "Network", "SessionError", "ShapeError", "SoftmaxCrossEntropy", "SpecError",
    "VisualCNNError", "gradcheck", "log_softmax", "softmax",
]
