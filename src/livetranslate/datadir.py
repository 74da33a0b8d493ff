"""One server per data directory: an exclusive lock held for the life of the process.

Two servers on one data directory would both recover (and pause) the other's live sessions
and write the same audio files. The lock is the operating system's (``filelock``: ``flock``
on Unix), so it goes with the process however that ends, SIGKILL included."""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from livetranslate.errors import Conflict

_held: dict[Path, FileLock] = {}


class DataDirInUse(Conflict):
    code = "data_dir_in_use"


def hold(data_dir: Path) -> None:
    """Take the data directory for this process (again: nothing to do), or raise
    :class:`DataDirInUse` naming the process that has it."""
    path = data_dir.resolve()
    if path in _held:
        return
    path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path / "server.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        owner = (path / "server.pid").read_text().strip() if (path / "server.pid").is_file() else "?"
        raise DataDirInUse(
            f"another server (pid {owner}) is using {path}; stop it, or give this one its own "
            "LIVETRANSLATE_DATA_DIR"
        ) from None
    (path / "server.pid").write_text(f"{os.getpid()}\n")
    _held[path] = lock
