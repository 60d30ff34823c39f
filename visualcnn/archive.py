"""Read .npy files and .npz archives without trusting what they declare.

`np.load` believes a file: a 4 MB zip inflates to whatever its members say, an .npy header of
shape (2**31, 2**31) is allocated before the data is found missing. Here every declared size —
the archive's member count, each member's uncompressed size, each array header's shape — is
checked against `visualcnn.limits` and against the bytes actually present *before* anything is
inflated or allocated. Never unpickles (object arrays are refused). Every problem is one
`error(...)` (the caller's error class) naming the file, the member and the limit.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from . import limits
from .reading import opened
from visualcnn.i18n import N_, _

#: dtype kinds a data or session file may hold: bool, integers, floats, and strings (class names)
ALLOWED_KINDS = "biufUS"
PICKLE_REFUSAL = N_("contains pickled objects; only plain numeric arrays are accepted")


def _header(fp: IO[bytes], where: str, error: type[Exception]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of the .npy stream at fp, checked but not allocated."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            shape, fortran, dtype = fmt._read_array_header(fp, version)   # 3.0: no public reader
    except Exception as e:  # noqa: BLE001 - numpy parses the header text with ast/tokenize: any failure means
        # the header is broken (ValueError, SyntaxError, tokenize.TokenError, MemoryError from a nesting bomb…)
        raise error(_("{where}: not a valid .npy array header ({type_name}: {error})").format(
                        where=where, type_name=type(e).__name__, error=str(e)[:200])) from None
    if dtype.hasobject:
        # "x.npy: contains …", "x.npz: array 'labels' contains …"
        sep = "" if where.endswith("'") else ":"
        raise error(f"{where}{sep} {_(PICKLE_REFUSAL)}")
    if dtype.kind not in ALLOWED_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise error(_("{where}: arrays of dtype {dtype} are not accepted; expected bool, integers, "
                      "floats or strings").format(where=where, dtype=dtype))
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise error(_("{where}: the header's shape {shape!r} is not a shape").format(where=where, shape=shape))
    return tuple(shape), bool(fortran), dtype


def _read_into(fp: IO[bytes], out: np.ndarray) -> int:
    """Fill `out`'s bytes from fp; returns how many bytes were read (less at end of file)."""
    view = memoryview(out.reshape(-1).view(np.uint8)) if out.size else memoryview(b"")
    done = 0
    while done < len(view):
        n = fp.readinto(view[done:])
        if not n:
            break
        done += n
    return done


def read_array(fp: IO[bytes], where: str, error: type[Exception], available: int | None = None) -> np.ndarray:
    """One .npy array from the stream `fp`, its header checked first.

    available: bytes the stream holds after its start (a zip member's declared size, a file's size);
    a header that promises more data than that is refused before allocating.
    """
    start = fp.tell() if available is not None else 0
    shape, fortran, dtype = _header(fp, where, error)
    nbytes = math.prod(shape) * dtype.itemsize          # Python ints: never overflows
    limits.check(nbytes, "MAX_ARRAY_BYTES", where, _("the array declared as {dtype} {shape}").format(
                                                       dtype=dtype, shape=shape), error, "bytes")
    if available is not None:
        left = available - (fp.tell() - start)
        if nbytes > left:
            raise error(_("{where}: truncated: its header declares {dtype} {shape} = {nbytes:,} bytes, "
                          "but only {max:,} bytes follow").format(
                            where=where, dtype=dtype, shape=shape, nbytes=nbytes, max=max(left, 0)))
    out = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    try:
        got = _read_into(fp, out)
        extra = fp.read(1)              # reading to the end also makes zipfile check the member's CRC
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as e:
        raise error(_("{where}: corrupt data ({type_name}: {error})").format(
                        where=where, type_name=type(e).__name__, error=e)) from None
    if got < nbytes:
        raise error(_("{where}: truncated: its header declares {nbytes:,} bytes of data, the file has "
                      "{got:,}").format(where=where, nbytes=nbytes, got=got))
    if extra:
        raise error(_("{where}: unexpected bytes after the {nbytes:,} bytes its header declares").format(
                        where=where, nbytes=nbytes))
    return out


def load_npy(path: str | Path, error: type[Exception], name: str | None = None) -> np.ndarray:
    """The array in an .npy file, checked against its size and the limits before allocating."""
    path = Path(path)
    with opened(path, error, name or path.name) as (fp, size):
        return read_array(fp, name or path.name, error, available=size)


def load_npz(path: str | Path, error: type[Exception], name: str | None = None,
             member_limits: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Every array of an .npz archive by key, each member's declared sizes checked before inflating.

    member_limits: key -> name of a tighter limit in visualcnn.limits for that member's size.
    """
    path = Path(path)
    where = name or path.name
    member_limits = member_limits or {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            limits.check(len(infos), "MAX_ARCHIVE_MEMBERS", where, _("the number of arrays"), error)
            total = 0
            for info in infos:
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                limit = member_limits.get(key, "MAX_ARRAY_BYTES")
                # a little room for the .npy header on top of the array itself
                limits.check(max(info.file_size - 4096, 0), limit, where,
                             _("member {filename!r} (uncompressed)").format(filename=info.filename), error, "bytes")
                total += info.file_size
            limits.check(total, "MAX_ARCHIVE_BYTES", where, _("the archive's uncompressed size"), error, "bytes")
            arrays: dict[str, np.ndarray] = {}
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise error(_("{where}: member {filename!r} is not a .npy array; not a NumPy .npz "
                                  "archive").format(where=where, filename=info.filename))
                key = info.filename[:-4]
                with zf.open(info) as fp:
                    member = _("{where}: array {key!r}").format(where=where, key=key)
                    arrays[key] = read_array(fp, member, error, available=info.file_size)
            return arrays
    except FileNotFoundError:
        raise error(_("{where}: no such file").format(where=where)) from None
    except IsADirectoryError:
        raise error(_("{where}: a folder, not a file").format(where=where)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError,
            zlib.error, ValueError, OSError) as e:
        if isinstance(e, error):
            raise
        raise error(_("{where}: corrupt or truncated archive ({type_name}: {error})").format(
                        where=where, type_name=type(e).__name__, error=e)) from None


__all__ = ["ALLOWED_KINDS", "PICKLE_REFUSAL", "load_npy", "load_npz", "read_array"]
