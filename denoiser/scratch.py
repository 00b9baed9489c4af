"""A temporary folder for one process, bounded in age and bytes, that does not outlive it.

A long-running server writes a file or two per request, and Gradio copies every upload into
it. Each file lives in a sub-folder (so it keeps its plain name for downloads); the files are
pruned least recently used first from a list kept in memory, so that no request scans the
disk (a background sweep finds what nobody asked for). The whole folder is removed when
the process exits normally, and a new process removes the folders of dead ones: each
live process holds a lock on its folder's `.lock` file, which the kernel drops when the
process dies, however it dies.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
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
    """This process's folder under `root`, for its own files and for what others write into it (Gradio's
    copies of uploads). Its files are deleted least recently used first once unused for `keep_seconds`,
    or while they hold more than `keep_bytes` in all (the most recent always stays): the app's files
    count from when they are written, an upload from when it was last read (`use`), and a file nobody
    has read (an upload no event asked for) from when `sweep` finds it on disk."""

    def __init__(self, root: Path, keep_seconds: float, keep_bytes: int) -> None:
        root.mkdir(parents=True, exist_ok=True)
        remove_stale(root)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        self._lock = open(self.folder / LOCK, "w")  # noqa: SIM115 (held for the process's life)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.keep_seconds, self.keep_bytes = keep_seconds, keep_bytes
        self._used: OrderedDict[Path, tuple[float, int]] = OrderedDict()  # file: (last used, bytes), oldest first
        self._bytes = 0
        self._lasting: set[Path] = set()
        self._mutex = threading.Lock()
        atexit.register(self.remove)

    def write(self, name: str, writer: Callable[[Path], object]) -> Path:
        """A new file `name` in a fresh sub-folder, written by `writer(path)`; older files pruned."""
        path = Path(tempfile.mkdtemp(dir=self.folder)) / name
        writer(path)
        with self._mutex:
            self._track(path, time.time(), path.stat().st_size)
            self._prune()
        return path

    def use(self, path: str | Path) -> None:
        """Count a file of this folder as used now (an upload that the next event reads again), so that it
        outlives files unused for longer. A path outside the folder, or in a lasting sub-folder, is ignored."""
        if (file := self._own(path)) is not None:
            with self._mutex:
                self._track(file, time.time(), file.stat().st_size)
                self._prune()

    def sweep(self) -> None:
        """Count what others wrote here that nobody has used (uploads never read) from when it was written,
        and prune: without this, such files would only go when Gradio's own hourly clean-up finds them."""
        on_disk = [(file.stat().st_mtime, file, file.stat().st_size)  # read before the lock: requests need it
                   for folder in self.folder.iterdir() if folder.is_dir() and folder not in self._lasting
                   for file in folder.iterdir() if file.is_file()]
        with self._mutex:
            found = [entry for entry in on_disk if entry[1] not in self._used]
            known = [(used, file, size) for file, (used, size) in self._used.items()]
            self._used = OrderedDict((file, (used, size)) for used, file, size in sorted(known + found))
            self._bytes = sum(size for _, size in self._used.values())
            self._prune()

    def sweep_every(self, seconds: float) -> threading.Thread:
        """Sweep in a background thread every `seconds`, for as long as the process lives."""
        def loop() -> None:
            while True:
                time.sleep(seconds)
                with contextlib.suppress(OSError):  # a file removed while it was looked at: next time
                    self.sweep()
        thread = threading.Thread(target=loop, name="scratch-sweep", daemon=True)
        thread.start()
        return thread

    def lasting(self, name: str) -> Path:
        """A sub-folder whose files are never pruned (the app's example photos), removed with the rest at exit."""
        folder = self.folder / name
        folder.mkdir()
        self._lasting.add(folder)
        return folder

    def discard(self, path: str | Path) -> None:
        """Delete a file of this folder now (an upload that was refused can never be used; left to the
        hour-long cache it would hold disk per request). A path outside it is never touched."""
        if (file := self._own(path)) is not None:
            with self._mutex:
                _, size = self._used.pop(file, (0.0, 0))
                self._bytes -= size
            _delete(file)

    def remove(self) -> None:
        """Delete the whole folder (at exit; also safe to call twice)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._lock.close()

    def _own(self, path: str | Path) -> Path | None:
        """`path` as this folder's file in a sub-folder that is not lasting; None for any other path."""
        resolved, home = Path(path).resolve(), self.folder.resolve()
        parts = resolved.relative_to(home).parts if home in resolved.parents else ()
        own = len(parts) == 2 and self.folder / parts[0] not in self._lasting and resolved.is_file()
        return self.folder.joinpath(*parts) if own else None

    def _track(self, file: Path, used: float, size: int) -> None:
        _, old = self._used.pop(file, (0.0, 0))
        self._used[file] = (used, size)
        self._bytes += size - old

    def _prune(self) -> None:
        cutoff = time.time() - self.keep_seconds
        while len(self._used) > 1:
            file, (used, size) = next(iter(self._used.items()))
            if used >= cutoff and self._bytes <= self.keep_bytes:
                break
            del self._used[file]
            self._bytes -= size
            _delete(file)


def _delete(file: Path) -> None:
    """Delete a file, and its sub-folder once that holds nothing else (Gradio puts uploads of one content,
    whatever their names, in one folder)."""
    file.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty, or already gone
        file.parent.rmdir()
