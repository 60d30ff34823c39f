"""Bring a model in from the ecosystem and take one back out: ONNX import/export, PyTorch code export.

Qt-free. An imported model becomes an ordinary spec + parameters, so nothing downstream
(sessions, views, gradient checks, saving) knows where it came from.

    model = load_onnx("tinyvgg.onnx"); print(model.report.text()); net = model.network()
    to_onnx(net, "out.onnx"); to_pytorch(net, "out.py")     # out.py + out.npz, loadable without visualcnn
"""

from .onnx_export import ExportError, build_onnx, to_onnx
from .onnx_import import SUPPORTED, ImportedModel, load_onnx
from .onnx_read import ModelImportError
from .pytorch_export import pytorch_source, to_pytorch
from .report import ImportReport

__all__ = ["SUPPORTED", "ExportError", "ImportReport", "ImportedModel", "ModelImportError", "build_onnx",
           "load_onnx", "pytorch_source", "to_onnx", "to_pytorch"]
