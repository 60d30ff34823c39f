"""visualcnn.data.download against a local HTTP server on 127.0.0.1 (never any outside address)."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from visualcnn.data import MNIST_CHECKSUMS, download_mnist, load_dataset
from visualcnn.errors import DataError


def idx_gz(array: np.ndarray) -> bytes:
    header = struct.pack(">I", (0x08 << 8) | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output clean
        pass


@pytest.fixture
def served(tmp_path):
    """A directory served over HTTP on 127.0.0.1 (an ephemeral port); yields (directory, base_url)."""
    root = tmp_path / "served"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/mnist"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def publish(root: Path) -> dict[str, str]:
    """Write four small valid MNIST files under root/mnist; return their MD5 table."""
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte.gz": idx_gz(rng.integers(0, 256, (20, 6, 6))),
        "train-labels-idx1-ubyte.gz": idx_gz(np.arange(20) % 10),
        "t10k-images-idx3-ubyte.gz": idx_gz(rng.integers(0, 256, (10, 6, 6))),
        "t10k-labels-idx1-ubyte.gz": idx_gz(np.arange(10) % 10),
    }
    (root / "mnist").mkdir(exist_ok=True)
    for name, data in files.items():
        (root / "mnist" / name).write_bytes(data)
    assert set(files) == set(MNIST_CHECKSUMS)
    return {name: hashlib.md5(data).hexdigest() for name, data in files.items()}


def test_download_verifies_and_loads(served, tmp_path):
    root, base_url = served
    checksums = publish(root)
    dest = tmp_path / "cache" / "mnist"
    calls = []
    out = download_mnist(dest, base_url=base_url, checksums=checksums, timeout=5,
                         progress=lambda name, done, total: calls.append((name, done, total)))
    assert out == dest
    assert sorted(p.name for p in dest.iterdir()) == sorted(checksums)
    for name in checksums:
        size = (root / "mnist" / name).stat().st_size
        assert (name, size, size) in calls                     # reported complete, with the total known
    ds = load_dataset(dest)
    assert ds.input_shape == (1, 6, 6) and (len(ds.x_train), len(ds.x_test)) == (20, 10)

    # A second call finds every file verified and downloads nothing.
    (root / "mnist" / "train-images-idx3-ubyte.gz").unlink()
    download_mnist(dest, base_url=base_url, checksums=checksums, timeout=5)


def test_sha256_checksums_work_too(served, tmp_path):
    root, base_url = served
    publish(root)
    sha = {name: hashlib.sha256((root / "mnist" / name).read_bytes()).hexdigest() for name in MNIST_CHECKSUMS}
    download_mnist(tmp_path / "d", base_url=base_url + "/", checksums=sha, timeout=5)
    assert len(list((tmp_path / "d").iterdir())) == 4


def test_corrupt_download_leaves_nothing(served, tmp_path):
    root, base_url = served
    checksums = publish(root)
    name = "train-images-idx3-ubyte.gz"
    good = checksums[name]
    (root / "mnist" / name).write_bytes(b"corrupted" * 100)
    dest = tmp_path / "cache"
    with pytest.raises(DataError) as info:
        download_mnist(dest, base_url=base_url, checksums=checksums, timeout=5)
    message = str(info.value)
    assert name in message and good in message and hashlib.md5(b"corrupted" * 100).hexdigest() in message
    assert list(dest.iterdir()) == []                          # no half file, no temporary file


def test_missing_file_on_server_is_a_data_error(served, tmp_path):
    root, base_url = served
    checksums = publish(root)
    (root / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    dest = tmp_path / "cache"
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: download from .* failed: HTTP 404"):
        download_mnist(dest, base_url=base_url, checksums=checksums, timeout=5)
    # The three verified files stay (a retry resumes); nothing half-written does.
    assert sorted(p.name for p in dest.iterdir()) == sorted(set(checksums) - {"t10k-labels-idx1-ubyte.gz"})


def test_cancel_from_progress_leaves_nothing(served, tmp_path):
    root, base_url = served
    checksums = publish(root)

    def cancel(name, done, total):
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_mnist(tmp_path / "c", base_url=base_url, checksums=checksums, progress=cancel, timeout=5)
    assert list((tmp_path / "c").iterdir()) == []


def test_official_checksums_are_md5_hex():
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in MNIST_CHECKSUMS.values())
