"""A temporary folder for one process, bounded in age and bytes, that does not outlive it.

A long-running server writes a file or two per request. Each lives in a sub-folder of its
own (so it keeps its plain name for downloads); the sub-folders are pruned oldest first
from a list kept in memory, without scanning the disk. The whole folder is removed when
the process exits normally, and a new process removes the folders of dead ones: each
live process holds a lock on its folder's `.lock` file, which the kernel drops when the
process dies, however it dies.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

LOCK = ".lock"
GRACE_SECONDS = 60  # a folder without a lock file this young may be a starting process's


def _is_stale(folder: Path) -> bool:
    """True when no live process holds the folder's lock."""
    lock = folder / LOCK
    if not lock.is_file():
        return time.time() - folder.stat().st_mtime > GRACE_SECONDS
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def remove_stale(root: Path) -> list[Path]:
    """Remove the folders under `root` left by processes that are gone; the removed ones."""
    removed = []
    for folder in root.iterdir() if root.is_dir() else []:
        try:
            stale = folder.is_dir() and _is_stale(folder)
        except OSError:  # another process removed it first
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class Scratch:
    """This process's folder under `root`: files older than `keep_seconds`, or beyond `keep_bytes`
    in all, are deleted oldest first as new ones are written (the newest is always kept)."""

    def __init__(self, root: Path, keep_seconds: float, keep_bytes: int) -> None:
        root.mkdir(parents=True, exist_ok=True)
        remove_stale(root)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        self._lock = open(self.folder / LOCK, "w")  # noqa: SIM115 (held for the process's life)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.keep_seconds, self.keep_bytes = keep_seconds, keep_bytes
        self._kept: deque[tuple[float, Path, int]] = deque()  # (written at, sub-folder, bytes), oldest first
        self._bytes = 0
        self._mutex = threading.Lock()
        atexit.register(self.remove)

    def write(self, name: str, writer: Callable[[Path], object]) -> Path:
        """A new file `name` in a fresh sub-folder, written by `writer(path)`; older files pruned."""
        path = Path(tempfile.mkdtemp(dir=self.folder)) / name
        writer(path)
        size = path.stat().st_size
        with self._mutex:
            self._kept.append((time.time(), path.parent, size))
            self._bytes += size
            cutoff = time.time() - self.keep_seconds
            while len(self._kept) > 1 and (self._kept[0][0] < cutoff or self._bytes > self.keep_bytes):
                _, folder, old = self._kept.popleft()
                self._bytes -= old
                shutil.rmtree(folder, ignore_errors=True)
        return path

    def discard(self, path: str | Path) -> None:
        """Delete a file of this folder now (an upload that was refused can never be used; left to the
        hour-long cache it would hold disk per request). A path outside the folder is never touched."""
        path = Path(path).resolve()
        if self.folder.resolve() in path.parents:
            path.unlink(missing_ok=True)

    def remove(self) -> None:
        """Delete the whole folder (at exit; also safe to call twice)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._lock.close()
