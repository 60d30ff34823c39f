"""Reading an ONNX file as hostile input: sizes checked before anything is allocated, one clear line per problem.

An ONNX file is a protobuf message; a corrupt one, a foreign file, or a tensor whose declared shape
does not match its bytes is one `ModelImportError` naming the file and the problem. Nothing here
opens any file but the one given and, for tensors stored outside it (torch.onnx.export's default
"model.onnx.data"), plain files in its own folder, bounded in size; nothing touches the network.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import limits
from ..errors import FileFormatError
# the limits live with every other one in visualcnn.limits; these names stay importable from here
from ..limits import MAX_ONNX_BYTES as MAX_MODEL_BYTES  # noqa: F401
from ..limits import MAX_ONNX_NODES as MAX_NODES  # noqa: F401
from ..limits import MAX_ONNX_TENSOR_ELEMENTS as MAX_TENSOR_ELEMENTS  # noqa: F401
from visualcnn.i18n import _

# TensorProto.DataType codes -> (numpy dtype, the repeated field that holds them when not raw)
_DTYPES: dict[int, tuple[np.dtype, str]] = {
    1: (np.dtype("<f4"), "float_data"),
    11: (np.dtype("<f8"), "double_data"),
    10: (np.dtype("<f2"), "int32_data"),       # float16 bits, one per int32
    6: (np.dtype("<i4"), "int32_data"),
    7: (np.dtype("<i8"), "int64_data"),
}
_EXTERNAL = 1                                   # TensorProto.DataLocation.EXTERNAL


class ModelImportError(FileFormatError):
    """An ONNX file visualcnn cannot open: names the file, the node (name and op) and what is supported."""


def read_model(path: str | Path) -> Any:
    """The ModelProto in `path`, parsed without following external data, or a ModelImportError."""
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if not path.exists():
        raise ModelImportError(_("{path}: no such file").format(path=path))
    if not path.is_file():
        raise ModelImportError(_("{path}: not a file").format(path=path))
    size = limits.check(path.stat().st_size, "MAX_ONNX_BYTES", str(path), _("the file's size"), ModelImportError,
                        "bytes")
    if size == 0:
        raise ModelImportError(_("{path}: empty file, not an ONNX model").format(path=path))
    data = path.read_bytes()
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise ModelImportError(_("{path}: not an ONNX model, or a corrupt or truncated one ({error})").format(
                                   path=path, error=e)) from None
    if not model.HasField("graph") or not model.graph.node:
        raise ModelImportError(_("{path}: not an ONNX model (no graph with nodes inside)").format(path=path))
    limits.check(len(model.graph.node), "MAX_ONNX_NODES", str(path), _("the number of nodes"), ModelImportError)
    return model


class ExternalData:
    """Reads tensors stored beside the model (torch.onnx.export's default "model.onnx.data"), bounded.

    Only plain files in the model's own folder are read (no absolute paths, no "..", no links out of
    it); each tensor's offset and length are checked against the file and its declared shape, and
    all of them together may not pass visualcnn.limits.MAX_ONNX_BYTES.
    """

    def __init__(self, folder: Path, where: str) -> None:
        self.folder, self.where = folder.resolve(), where
        self.total = 0

    def read(self, tensor: Any, nbytes: int) -> bytes:
        name = tensor.name or "(unnamed)"
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        target = (self.folder / location).resolve()
        if (not location or Path(location).is_absolute() or ".." in Path(location).parts
                or target.parent != self.folder):
            raise ModelImportError(_("{where}: tensor {name!r} points to external data {location!r}; "
                                     "visualcnn reads external data only from a file in the model's "
                                     "own folder").format(where=self.where, name=name, location=location))
        if not target.is_file():
            raise ModelImportError(_("{where}: tensor {name!r} is stored in {location!r}, which is not "
                                     "beside the model; keep the .onnx file and its data file together").format(
                                       where=self.where, name=name, location=location))
        try:
            offset = int(info.get("offset", 0))
            length = int(info.get("length", nbytes))
        except ValueError:
            raise ModelImportError(_("{where}: tensor {name!r} has a malformed external offset or "
                                     "length ({offset!r}, {length!r})").format(
                                       where=self.where, name=name, offset=info.get('offset'),
                                       length=info.get('length'))) from None
        size = target.stat().st_size
        if length != nbytes or offset < 0 or offset + length > size:
            raise ModelImportError(_("{where}: tensor {name!r} declares {nbytes} bytes at offset "
                                     "{offset} with length {length} in {location!r}, which holds "
                                     "{size} bytes").format(
                                       where=self.where, name=name, nbytes=nbytes, offset=offset, length=length,
                                       location=location, size=size))
        self.total += length
        limits.check(self.total, "MAX_ONNX_BYTES", self.where, _("the external data's size"), ModelImportError,
                     "bytes")
        with open(target, "rb") as f:
            f.seek(offset)
            return f.read(length)


def tensor_to_array(tensor: Any, where: str, external: ExternalData | None = None) -> np.ndarray:
    """A TensorProto as a new NumPy array, its declared size checked against its bytes before allocating."""
    name = tensor.name or "(unnamed)"
    is_external = tensor.data_location == _EXTERNAL or bool(tensor.external_data)
    if is_external and external is None:
        raise ModelImportError(_("{where}: tensor {name!r} is stored in an external file; visualcnn "
                                 "opens self-contained ONNX files only here").format(where=where, name=name))
    if tensor.data_type not in _DTYPES:
        raise ModelImportError(_("{where}: tensor {name!r} has element type {data_type}; supported: "
                                 "float32, float64, float16, int32, int64").format(
                                   where=where, name=name, data_type=tensor.data_type))
    dims = [int(d) for d in tensor.dims]
    if any(d < 0 for d in dims):
        raise ModelImportError(_("{where}: tensor {name!r} has a negative dimension {dims}").format(
                                   where=where, name=name, dims=dims))
    n = math.prod(dims)
    limits.check(n, "MAX_ONNX_TENSOR_ELEMENTS", where, _("the element count of tensor {name!r}").format(name=name),
                 ModelImportError)
    dtype, field = _DTYPES[tensor.data_type]
    if is_external or tensor.raw_data:
        raw = external.read(tensor, n * dtype.itemsize) if is_external else tensor.raw_data
        if len(raw) != n * dtype.itemsize:
            raise ModelImportError(_("{where}: tensor {name!r} declares shape {dims} ({value} bytes) "
                                     "but holds {n_raw} bytes").format(
                                       where=where, name=name, dims=tuple(dims), value=n * dtype.itemsize,
                                       n_raw=len(raw)))
        flat = np.frombuffer(raw, dtype=dtype)
    else:
        values = getattr(tensor, field)
        if len(values) != n:
            raise ModelImportError(_("{where}: tensor {name!r} declares shape {dims} ({n} values) but "
                                     "holds {n_values}").format(
                                       where=where, name=name, dims=tuple(dims), n=n, n_values=len(values)))
        if tensor.data_type == 10:
            flat = np.asarray(values, dtype=np.uint16).view(np.float16)
        else:
            flat = np.asarray(values, dtype=dtype)
    return flat.astype(dtype.newbyteorder("="), copy=True).reshape(dims)


def constants(model: Any, where: str, folder: Path | None = None) -> dict[str, np.ndarray]:
    """Every constant tensor of the graph by name: the initializers and the outputs of Constant nodes.

    folder: where external tensor data may be read from (the model's folder); None refuses it.
    """
    external = ExternalData(folder, where) if folder is not None else None
    out = {t.name: tensor_to_array(t, where, external) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Constant":
            continue
        attrs = {a.name: a for a in node.attribute}
        if "value" in attrs:
            out[node.output[0]] = tensor_to_array(attrs["value"].t, where, external)
        elif "value_float" in attrs:
            out[node.output[0]] = np.asarray(attrs["value_float"].f, dtype=np.float32)
        elif "value_floats" in attrs:
            out[node.output[0]] = np.asarray(attrs["value_floats"].floats, dtype=np.float32)
        elif "value_int" in attrs:
            out[node.output[0]] = np.asarray(attrs["value_int"].i, dtype=np.int64)
        elif "value_ints" in attrs:
            out[node.output[0]] = np.asarray(attrs["value_ints"].ints, dtype=np.int64)
        else:
            raise ModelImportError(_("{where}: Constant node {node!r} holds a kind of value visualcnn "
                                     "does not read ({kinds})").format(
                                       where=where, node=node.name or node.output[0],
                                       kinds=', '.join(attrs) or _('none')))
    return out


def graph_input(model: Any, consts: dict[str, np.ndarray], where: str) -> tuple[str, tuple[int, ...], int | None]:
    """(name, per-sample shape, fixed batch size or None) of the graph's one data input:
    (N, C, H, W) -> (C, H, W), (N, D) -> (D,)."""
    inputs = [i for i in model.graph.input if i.name not in consts]
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs) or _("none")
        raise ModelImportError(_("{where}: the graph has {n_inputs} data inputs ({names}); visualcnn "
                                 "opens models with one image input").format(
                                   where=where, n_inputs=len(inputs), names=names))
    inp = inputs[0]
    ttype = inp.type.tensor_type
    if ttype.elem_type not in (1, 11):
        raise ModelImportError(_("{where}: input {name!r} has element type {elem_type}; supported: "
                                 "float32 (1), float64 (11)").format(
                                   where=where, name=inp.name, elem_type=ttype.elem_type))
    dims = list(ttype.shape.dim)
    if len(dims) not in (2, 4):
        raise ModelImportError(_("{where}: input {name!r} has {n_dims} axes; supported: (N, C, H, W) "
                                 "images or (N, D) vectors").format(where=where, name=inp.name, n_dims=len(dims)))
    shape = []
    for axis, d in enumerate(dims[1:], start=1):
        if not d.HasField("dim_value") or d.dim_value <= 0:
            raise ModelImportError(_("{where}: input {name!r} axis {axis} has no fixed size ({value}); "
                                     "export the model with a fixed image size").format(
                                       where=where, name=inp.name, axis=axis, value=d.dim_param or _('unknown')))
        shape.append(int(d.dim_value))
    batch = int(dims[0].dim_value) if dims[0].HasField("dim_value") else None
    return inp.name, tuple(shape), batch


def text(value: Any) -> str:
    """A string field as one line of text: protobuf hands over bytes when a (proto2) string is not valid
    UTF-8, and a hostile file may put line breaks or control characters in any name (shown escaped)."""
    value = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


def node_name(node: Any) -> str:
    """How an error names a node: its name, else its first output, else its op."""
    return text(node.name or (node.output[0] if node.output else node.op_type))


def attributes(node: Any) -> dict[str, Any]:
    """A node's attributes as plain Python values (ints, floats, strings, lists of them)."""
    import onnx

    out: dict[str, Any] = {}
    for a in node.attribute:
        if a.type == onnx.AttributeProto.INT:
            out[a.name] = int(a.i)
        elif a.type == onnx.AttributeProto.FLOAT:
            out[a.name] = float(a.f)
        elif a.type == onnx.AttributeProto.STRING:
            out[a.name] = a.s.decode("utf-8", "replace")
        elif a.type == onnx.AttributeProto.INTS:
            out[a.name] = [int(v) for v in a.ints]
        elif a.type == onnx.AttributeProto.FLOATS:
            out[a.name] = [float(v) for v in a.floats]
        else:                                   # tensors, graphs, …: no supported op reads them
            out[a.name] = f"<{onnx.AttributeProto.AttributeType.Name(a.type)} attribute>"
    return out
