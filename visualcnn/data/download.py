"""Fetch MNIST / Fashion-MNIST once into the user's cache, verified and written atomically.

Each file is streamed to a temporary file in the destination directory, its
checksum checked, and only then renamed into place (os.replace), so an
interrupted or corrupt download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from visualcnn.errors import DataError

from .paths import cache_dir
from visualcnn.i18n import _

# The official files' MD5s, as published by torchvision's MNIST and FashionMNIST classes.
MNIST_CHECKSUMS: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MNIST_CHECKSUMS: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
# yann.lecun.com now often refuses downloads; this is torchvision's working mirror.
DEFAULT_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FASHION_MNIST_MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

_CHUNK = 1 << 16
# progress(file_name, bytes_done, bytes_total); bytes_total is None when the server does not say.
Progress = Callable[[str, int, "int | None"], None]


def default_dest(name: str) -> Path:
    """Where a downloaded set lives by default: <user cache>/visualcnn/<name>."""
    return cache_dir() / name


def _hasher(checksum: str):
    """MD5 for a 32-hex-digit checksum, SHA-256 for 64: the table decides, not the caller."""
    if len(checksum) == 32:
        return hashlib.md5(usedforsecurity=False)
    if len(checksum) == 64:
        return hashlib.sha256()
    raise DataError(_("checksum {checksum!r}: expected 32 hex digits (MD5) or 64 (SHA-256)").format(
                        checksum=checksum))


def file_checksum(path: Path, checksum_like: str) -> str:
    """Hex digest of a file, with the algorithm that matches `checksum_like`'s length."""
    digest = _hasher(checksum_like)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, name: str, dest: Path, expected: str, progress: Progress | None, timeout: float) -> None:
    """Stream `url` into dest/name via a temporary file; keep it only if its checksum matches."""
    fd, tmp_name = tempfile.mkstemp(dir=dest, prefix=f".{name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = _hasher(expected)
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    done = 0
                    if progress:
                        progress(name, 0, total)
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(name, done, total)
            except urllib.error.HTTPError as exc:
                raise DataError(_("{name}: download from {url} failed: HTTP {code} {reason}; try "
                                  "another mirror (base_url=...)").format(
                                    name=name, url=url, code=exc.code, reason=exc.reason)) from None
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DataError(_("{name}: could not download {url} ({reason}); check the connection "
                                  "or try another mirror (base_url=...)").format(
                                    name=name, url=url, reason=reason)) from None
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != expected.lower():
            raise DataError(_("{name}: checksum mismatch: expected {expected}, got {got} ({done} bytes "
                              "from {url}); the file was discarded").format(
                                name=name, expected=expected.lower(), got=got, done=done, url=url))
        os.replace(tmp, dest / name)
    finally:
        # Whatever happened (bad checksum, network error, a progress callback that raised to
        # cancel), the temporary file must not outlive this call.
        tmp.unlink(missing_ok=True)


def download_files(checksums: Mapping[str, str], dest_dir: str | Path, base_url: str,
                   progress: Progress | None = None, timeout: float = 30) -> Path:
    """Download every file in `checksums` (name -> MD5 or SHA-256 hex) from base_url into dest_dir.

    Files already present with the right checksum are skipped (reported once to progress
    as complete); a present file with a wrong checksum is downloaded again. Raising from
    `progress` cancels the download. Returns dest_dir.
    Raises DataError naming the file for a network failure or a checksum mismatch; the
    files verified before the failure are kept, so calling again resumes.
    """
    dest = Path(dest_dir).expanduser()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(_("{dest}: cannot create the download directory ({strerror})").format(
                            dest=dest, strerror=exc.strerror)) from None
    base = base_url if base_url.endswith("/") else base_url + "/"
    for name, expected in checksums.items():
        target = dest / name
        if target.is_file() and file_checksum(target, expected) == expected.lower():
            if progress:
                size = target.stat().st_size
                progress(name, size, size)
            continue
        _fetch(base + name, name, dest, expected, progress, timeout)
    return dest


def download_mnist(dest_dir: str | Path | None = None, base_url: str = DEFAULT_MIRROR,
                   progress: Progress | None = None, timeout: float = 30,
                   checksums: Mapping[str, str] | None = None) -> Path:
    """Fetch the four MNIST .gz files (about 11 MB) into dest_dir, verified; return the directory.

    dest_dir defaults to <user cache>/visualcnn/mnist (where load_dataset("mnist") looks).
    checksums: name -> MD5/SHA-256 table; defaults to the official files' MD5s.
    progress(file_name, bytes_done, bytes_total) is called as bytes arrive.
    """
    return download_files(MNIST_CHECKSUMS if checksums is None else checksums,
                          default_dest("mnist") if dest_dir is None else dest_dir, base_url, progress, timeout)


def download_fashion_mnist(dest_dir: str | Path | None = None, base_url: str = FASHION_MNIST_MIRROR,
                           progress: Progress | None = None, timeout: float = 30,
                           checksums: Mapping[str, str] | None = None) -> Path:
    """Fetch the four Fashion-MNIST .gz files (about 30 MB) into dest_dir, verified; return the directory.

    dest_dir defaults to <user cache>/visualcnn/fashion-mnist. Same arguments as download_mnist.
    """
    return download_files(FASHION_MNIST_CHECKSUMS if checksums is None else checksums,
                          default_dest("fashion-mnist") if dest_dir is None else dest_dir,
                          base_url, progress, timeout)
