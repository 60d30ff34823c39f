"""Hostile files for every loader: each maker writes one file (or folder) and returns its path.

Shared by the in-process corpus test, the hypothesis tests and the memory-capped bomb test (which
imports this module in a subprocess). Every maker is cheap: a "bomb" declares a size far past the
limits but holds little (a zip member whose header says 4 GB, an .npy header of (2**31, 2**31)), or
compresses well (a .gz of zeros inflating to 256 MB).
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

GB4 = 0xF0000000                        # a member's declared size, ~3.75 GiB (below zip64's marker)


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """An .npy file's magic and header only, declaring `shape` (no data follows)."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode("latin1")
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def zip_of(members: dict[str, bytes], declare: dict[str, int] | None = None) -> bytes:
    """A zip (deflated) of `members`, with some members' uncompressed sizes rewritten to `declare`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    data = bytearray(buf.getvalue())
    for name, size in (declare or {}).items():
        # (record signature, offset of the uncompressed size, of the name's length, of the name)
        for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
            i = data.find(signature)
            while i >= 0:
                n = struct.unpack("<H", data[i + length_at:i + length_at + 2])[0]
                if bytes(data[i + name_at:i + name_at + n]) == name.encode():
                    data[i + size_at:i + size_at + 4] = struct.pack("<I", size)
                i = data.find(signature, i + 4)
    return bytes(data)


def idx_bytes(array: np.ndarray) -> bytes:
    return struct.pack(">I", (0x08 << 8) | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) \
        + array.astype(np.uint8).tobytes()


def gz_zeros_after(prefix: bytes, n_zeros: int) -> bytes:
    """gzip of `prefix` followed by `n_zeros` zero bytes, compressed in chunks (never held inflated)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        gz.write(prefix)
        chunk = b"\0" * (1 << 20)
        for _ in range(n_zeros >> 20):
            gz.write(chunk)
    return out.getvalue()


def deep_json(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


# -- a good file of each kind, to corrupt ---------------------------------------------------------

def good_session_bytes() -> bytes:
    import visualcnn as vc
    from visualcnn.io import save_session
    import tempfile
    s = vc.Session.from_preset("digits-small")
    s.run(2, records=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.vcnn"
        save_session(s, path)
        return path.read_bytes()


def good_npz_bytes() -> bytes:
    rng = np.random.default_rng(0)
    return zip_of({"images.npy": npy_bytes(rng.integers(0, 255, (20, 8, 8), dtype=np.uint8)),
                   "labels.npy": npy_bytes(np.arange(20) % 4)})


GOOD_SPEC = {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                                   {"type": "relu"}, {"type": "flatten"},
                                                   {"type": "dense", "out_features": 10}]}


def good_idx_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    return {"train-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (20, 6, 6))),
            "train-labels-idx1-ubyte": idx_bytes(np.arange(20) % 10),
            "t10k-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (10, 6, 6))),
            "t10k-labels-idx1-ubyte": idx_bytes(np.arange(10) % 10)}


# -- the loaders, each with the one error class it may raise ----------------------------------------

def open_session(path: Path):
    from visualcnn.io import load_session
    return load_session(path)


def open_data(path: Path):
    from visualcnn.data import load_dataset
    return load_dataset(path)


def open_spec(path: Path):
    from visualcnn.io import load_spec
    from visualcnn.network import Network
    return Network.from_spec(load_spec(path))


def open_preset(path: Path):
    from visualcnn.presets import load_preset
    return load_preset(path)


def open_picture(path: Path):
    from visualcnn.data.picture import check_picture
    return check_picture(path)


def loaders():
    """name -> (suffix, open(path), error classes allowed, a good file's bytes (or a folder's files))."""
    from visualcnn.errors import DataError, FileFormatError, SpecError
    return {
        "session": (".vcnn", open_session, (FileFormatError,), good_session_bytes),
        "npz": (".npz", open_data, (DataError,), good_npz_bytes),
        "npy": (".npy", open_data, (DataError,), lambda: npy_bytes(np.zeros((4, 8, 8), np.uint8))),
        "idx": ("", open_data, (DataError,), good_idx_files),
        "spec": (".json", open_spec, (FileFormatError, SpecError), lambda: json.dumps(GOOD_SPEC).encode()),
        "preset": (".json", open_preset_session, (FileFormatError, SpecError, DataError),
                   lambda: json.dumps({"spec": GOOD_SPEC}).encode()),
        "picture": (".png", open_picture, (DataError,), lambda: b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13)
                    + b"IHDR" + struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)),
    }


def write(tmp: Path, name: str, suffix: str, content) -> Path:
    """Write `content` (bytes, or a dict of files for a folder) as tmp/name+suffix; returns the path."""
    if isinstance(content, dict):
        folder = tmp / name
        folder.mkdir()
        for fname, data in content.items():
            (folder / fname).write_bytes(data)
        return folder
    path = tmp / f"{name}{suffix}"
    path.write_bytes(content)
    if suffix == ".npy":                            # an images .npy needs its labels beside it
        (tmp / f"{name}_labels.npy").write_bytes(npy_bytes(np.arange(4) % 2))
    return path


def corruptions(good):
    """name -> bytes (or folder dict): the classic ways a file is broken, from a good one."""
    if isinstance(good, dict):
        first = sorted(good)[0]
        return {"zero-bytes": {**good, first: b""},
                "truncated": {**good, first: good[first][:len(good[first]) // 2]},
                "random": {**good, first: np.random.default_rng(1).bytes(300)},
                "bad-gzip": {**{k: v for k, v in good.items() if k != first}, first + ".gz": b"\x1f\x8b" + b"\0" * 40}}
    return {"zero-bytes": b"",
            "truncated": good[:len(good) // 2],
            "random": np.random.default_rng(1).bytes(4096),
            "random-behind-zip-header": b"PK\x03\x04" + np.random.default_rng(2).bytes(4096),
            "one-byte-flipped": good[:len(good) // 3] + bytes([good[len(good) // 3] ^ 0xFF]) + good[len(good) // 3 + 1:],
            "deep-json": deep_json().encode(),
            "pickle": b"\x80\x04\x95" + np.random.default_rng(3).bytes(64)}


# -- bombs: run under a memory cap (see test_memory_caps.py) -----------------------------------------

def bombs() -> dict[str, tuple[str, object, str]]:
    """name -> (loader name, content, the limit its refusal must name)."""
    meta = json.loads(str(np.load(io.BytesIO(good_session_bytes()))["__meta__"]))
    session_members = {"__meta__.npy": npy_bytes(np.array(json.dumps(meta))),
                       "param/0/W.npy": npy_bytes(np.zeros((2, 1, 3, 3), np.float32))}
    idx = good_idx_files()
    return {
        "vcnn-member-declares-4GB": ("session", zip_of(session_members, {"param/0/W.npy": GB4}), "MAX_ARRAY_BYTES"),
        "vcnn-npy-header-2**31x2**31": ("session", zip_of({**session_members,
                                                           "param/0/W.npy": npy_header((2**31, 2**31))}),
                                        "MAX_ARRAY_BYTES"),
        "npz-member-declares-4GB": ("npz", zip_of({"images.npy": npy_bytes(np.zeros((4, 8, 8), np.uint8)),
                                                   "labels.npy": npy_bytes(np.zeros(4, np.int64))},
                                                  {"images.npy": GB4}), "MAX_ARRAY_BYTES"),
        "npz-label-1e8": ("npz", zip_of({"images.npy": npy_bytes(np.zeros((2, 8, 8), np.uint8)),
                                         "labels.npy": npy_bytes(np.array([0, 10**8]))}), "MAX_CLASSES"),
        "npy-header-2**31x2**31": ("npy", npy_header((2**31, 2**31), "|u1"), "MAX_ARRAY_BYTES"),
        "idx-dims-2**31x2**31x4": ("idx", {**idx, "train-images-idx3-ubyte":
                                           struct.pack(">I", 0x0803) + struct.pack(">3I", 2**31, 2**31, 4)},
                                   "MAX_IDX_VALUES"),
        "idx-gz-bomb-256MB": ("idx", {**{k: v for k, v in idx.items() if k != "train-labels-idx1-ubyte"},
                                      "train-labels-idx1-ubyte.gz":
                                      gz_zeros_after(struct.pack(">II", 0x0801, 20) + bytes(range(10)) * 2,
                                                     256 << 20)},
                              "unexpected bytes"),
        "spec-dense-1e9": ("spec", json.dumps({**GOOD_SPEC, "layers": [{"type": "flatten"},
                                                                        {"type": "dense", "out_features": 10**9}]}
                                              ).encode(), "MAX_LAYER_UNITS"),
        "spec-input-shape-huge": ("spec", json.dumps({**GOOD_SPEC, "input_shape": [1, 100000, 100000]}).encode(),
                                  "MAX_LAYER_UNITS"),
        "preset-bars-n-1e9": ("preset", json.dumps({"spec": GOOD_SPEC, "dataset": {"name": "bars", "n": 10**9,
                                                                                  "size": 8}}).encode(),
                              "MAX_SYNTHETIC_PIXELS"),
        "picture-8000x8000": ("picture", b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
                              + struct.pack(">IIBBBBB", 8000, 8000, 8, 0, 0, 0, 0), "MAX_IMAGE_PIXELS"),
    }


def open_preset_session(path: Path):
    """A preset is only dangerous once its session is built (its data set generated)."""
    from visualcnn.presets import build_session, load_preset
    return build_session(load_preset(path))


def run_bombs(tmp: Path) -> list[dict]:
    """Open every bomb (in this process: call it under a memory cap); one outcome per bomb."""
    out = []
    table = loaders()
    for name, (loader, content, limit) in bombs().items():
        suffix, open_, errors, _ = table[loader]
        path = write(tmp, name, suffix, content)
        try:
            open_(path)
            outcome, message = "loaded", ""
        except errors as e:
            outcome, message = "refused", str(e)
        except MemoryError as e:
            outcome, message = "MemoryError", str(e)
        except BaseException as e:  # noqa: BLE001 - reported, not raised: the test says which
            outcome, message = type(e).__name__, str(e)
        out.append({"bomb": name, "limit": limit, "outcome": outcome, "message": message[:300]})
    return out
