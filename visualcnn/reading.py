"""Opening a file the user named, with one error naming it: missing, a folder, unreadable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from visualcnn.i18n import _


@contextmanager
def opened(path: str | Path, error: type[Exception], where: str | None = None) -> Iterator[tuple[IO[bytes], int]]:
    """(binary file, its size in bytes); an OSError opening or reading it becomes error(...) naming `where`."""
    path = Path(path)
    where = where or path.name
    try:
        with open(path, "rb") as f:
            yield f, path.stat().st_size
    except FileNotFoundError:
        raise error(_("{where}: no such file").format(where=where)) from None
    except IsADirectoryError:
        raise error(_("{where}: a folder, not a file").format(where=where)) from None
    except OSError as e:
        if isinstance(e, error):
            raise
        raise error(_("{where}: cannot read it ({value})").format(where=where, value=e.strerror or e)) from None


__all__ = ["opened"]
