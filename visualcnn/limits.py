"""Every size limit in one place: files, archive members, data sets, specs, stack depth, images, seeds, ONNX.

A loader checks what a file *declares* (a zip member's size, an .npy header's shape, an IDX
header's dimensions, a spec's sizes) against these before it allocates or inflates anything,
and refuses with one line naming the file, the field and the limit — `refusal()` words that
line, so a message and its test name the same constant. The limits are generous for a
teaching tool (MNIST, LeNet-5, a few hundred layers) and small enough that a hostile file of
a few bytes cannot make the process take gigabytes.
"""

from __future__ import annotations

from visualcnn.i18n import _

# -- files -------------------------------------------------------------------------------------
#: a JSON spec or preset file, read whole
MAX_JSON_FILE_BYTES = 16 * 2**20
#: how deeply a JSON document (spec, preset, session description) may nest
MAX_JSON_DEPTH = 64
#: one array inside a session (.vcnn) or .npz file, uncompressed
MAX_ARRAY_BYTES = 1 * 2**30
#: all arrays of one archive together, uncompressed
MAX_ARCHIVE_BYTES = 2 * 2**30
#: members of one archive (a session has two per parameter tensor)
MAX_ARCHIVE_MEMBERS = 10_000
#: the JSON description inside a session file
MAX_META_BYTES = 64 * 2**20

# -- data sets ---------------------------------------------------------------------------------
#: values in one decoded IDX file (MNIST's training images are 47 million)
MAX_IDX_VALUES = 2**27
#: pixels of a whole data set (images × channels × height × width; as float32, 512 MiB)
MAX_DATASET_PIXELS = 2**27
#: classes of a data set (labels are class indices 0 … MAX_CLASSES − 1)
MAX_CLASSES = 1000
#: pixels a synthetic set (bars, shapes) may draw: n × size × size
MAX_SYNTHETIC_PIXELS = 2**24
#: side of a synthetic set's images
MAX_SYNTHETIC_SIZE = 512

# -- specs -------------------------------------------------------------------------------------
#: layers in one stack (training is linear in depth; past this the window is unusable anyway)
MAX_LAYERS = 1000
#: values one sample's activation may have at any layer (input included)
MAX_LAYER_UNITS = 2**22
#: parameters of the whole network
MAX_PARAMS = 2**26
#: images in one batch
MAX_BATCH_SIZE = 4096

# -- numbers -----------------------------------------------------------------------------------
#: seeds are 0 … MAX_SEED (NumPy's 32-bit seed range)
MAX_SEED = 2**32 - 1
#: a session's iteration count (exact as a float, so JSON keeps it)
MAX_ITERATION = 2**53

# -- pictures ----------------------------------------------------------------------------------
#: pixels of a picture opened as the network's input (4096 × 4096); 8000 × 8000 is refused
MAX_IMAGE_PIXELS = 4096 * 4096
#: bytes of a picture file
MAX_IMAGE_FILE_BYTES = 64 * 2**20

# -- ONNX models -------------------------------------------------------------------------------
#: the largest ONNX model read, its external data included (a small CNN's is kilobytes to a few megabytes)
MAX_ONNX_BYTES = 256 * 2**20
#: nodes of one ONNX graph (a sequential small CNN has tens)
MAX_ONNX_NODES = 4096
#: elements one ONNX tensor may declare (checked against its bytes before it is decoded)
MAX_ONNX_TENSOR_ELEMENTS = 64 * 2**20

# -- long runs ---------------------------------------------------------------------------------
#: per-iteration metrics kept at full resolution; older ones are summarised (see visualcnn.metrics)
MAX_METRICS_KEPT = 2048


def describe_bytes(n: int) -> str:
    """'1 GiB', '64 MiB', '512 bytes': a limit as a person reads it."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return _("{n} bytes").format(n=n)


def refusal(where: str, field: str, value: object, limit_name: str, limit: object, unit: str = "") -> str:
    """The one line a refusal says: '<where>: <field> is <value>, over the limit of <limit> (limits.NAME)'."""
    shown = describe_bytes(limit) if unit == "bytes" and isinstance(limit, int) else f"{limit:,}" \
        if isinstance(limit, int) else str(limit)
    got = describe_bytes(value) if unit == "bytes" and isinstance(value, int) else f"{value:,}" \
        if isinstance(value, int) else str(value)
    return _("{where}: {field} is {got}, over the limit of {shown} (visualcnn.limits.{limit_name})").format(
               where=where, field=field, got=got, shown=shown, limit_name=limit_name)


def check(value: int, limit_name: str, where: str, field: str, error: type[Exception], unit: str = "") -> int:
    """`value` if it is within the limit named `limit_name` (a constant of this module), else raise `error`."""
    limit = globals()[limit_name]
    if value > limit:
        raise error(refusal(where, field, value, limit_name, limit, unit))
    return value
