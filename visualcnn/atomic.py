"""Writing a file so that a crash, a kill or a full disk never leaves a half-written one.

`atomic_write(path, write)` writes to a temporary file beside `path` (named `.NAME.PID.*.tmp`),
flushes it to disk and renames it over `path`. On any failure the temporary file is removed and
the previous file is unchanged. A process killed mid-save cannot remove its temporary file, so
every save first removes the temporaries that dead processes left beside the same target.
The new file keeps the mode of the file it replaces (0644 stays 0644), or gets the mode a newly
created file would get under the user's umask — never mkstemp's private 0600 by surprise.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable

from .errors import VisualCNNError
from visualcnn.i18n import _


class SaveError(VisualCNNError, OSError):
    """A file could not be written: names the file and the reason; the previous file is unchanged."""


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), else by setting it back."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                     # someone else's live process
    return True


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files beside `path` left by saves of processes that no longer run."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[^/]*\.tmp$")
    out = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return out
    for name in names:
        m = pattern.match(name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            out.append(path.parent / name)
    return out


def check_writable(path: str | Path) -> Path:
    """Raise SaveError unless a file can be saved at `path` (checked by creating and removing a file beside it)."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise SaveError(_("cannot save to {path}: the folder {folder} does not exist").format(
                            path=path, folder=folder))
    if path.is_dir():
        raise SaveError(_("cannot save to {path}: it is a folder").format(path=path))
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise SaveError(_("cannot save to {path}: {value}").format(path=path, value=e.strerror or e)) from None
    return path


def atomic_write(path: str | Path, write: Callable[[Any], None], binary: bool = True) -> Path:
    """Call write(file) on a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    path = Path(path)
    for old in stale_temporaries(path):
        old.unlink(missing_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise SaveError(_("cannot save {path}: {value}").format(path=path, value=e.strerror or e)) from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, SaveError):
            raise
        raise SaveError(_("cannot save {path}: {value}; the previous file (if any) is unchanged").format(
                            path=path, value=e.strerror or e)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = ["SaveError", "atomic_write", "check_writable", "stale_temporaries"]
