"""Opening a file the user named, with one error naming it: missing, a folder, unreadable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def opened(path: str | Path, error: type[Exception], where: str | None = None) -> Iterator[tuple[IO[bytes], int]]:
    """(binary file, its size in bytes); an OSError opening or reading it becomes error(...) naming `where`."""
    path = Path(path)
    where = where or path.name
    try:
        with open(path, "rb") as f:
            yield f, path.stat().st_size
    except FileNotFoundError:
        raise error(f"{where}: no such file") from None
    except IsADirectoryError:
        raise error(f"{where}: a folder, not a file") from None
    except OSError as e:
        if isinstance(e, error):
            raise
        raise error(f"{where}: cannot read it ({e.strerror or e})") from None


__all__ = ["opened"]
