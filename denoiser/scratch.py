"""A temporary folder for one process, bounded in age and bytes, that does not outlive it.

A long-running server writes a file or two per request, and Gradio copies every upload into
it. Each file lives in a sub-folder (so it keeps its plain name for downloads); the files are
pruned least recently used first from lists kept in memory, so that no request scans the
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


RECEIVING_SECONDS = 30  # a file at the top not written to for this long is no upload being received
ENTRY_BYTES = 4096  # a file's sub-folder on disk, counted with its blocks: a million empty uploads fill a disk too


def disk_bytes(info: os.stat_result) -> int:
    """What a file of this folder costs the disk, from its `stat`: its blocks and its sub-folder's."""
    return info.st_blocks * 512 + ENTRY_BYTES


class Scratch:
    """This process's folder under `root`, for its own files and for what others write into it (Gradio's
    copies of uploads), held to `keep_bytes` on disk and `keep_seconds` of disuse.

    Files count as used when the app writes them and when it reads an upload (`use`); files nobody
    has used (uploads no event asked for) are found by `sweep`, which also removes empty folders,
    and count from when they were written. Beyond the bytes, those unused files go first, oldest
    first, then the least recently used, but never a file the app wrote in the last
    `fresh_seconds` (a page may still be fetching it; the app's own files are of sizes it chose,
    where uploads are a visitor's). The files present at `keep_current` (what the app built its
    page from) are never deleted.
    """

    def __init__(self, root: Path, keep_seconds: float, keep_bytes: int, fresh_seconds: float = 120.0) -> None:
        root.mkdir(parents=True, exist_ok=True)
        remove_stale(root)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        self._lock = open(self.folder / LOCK, "w")  # noqa: SIM115 (held for the process's life)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.keep_seconds, self.keep_bytes, self.fresh_seconds = keep_seconds, keep_bytes, fresh_seconds
        # file: (when last used, bytes on disk), least recently used first
        self._written: OrderedDict[Path, tuple[float, int]] = OrderedDict()  # by the app
        self._read: OrderedDict[Path, tuple[float, int]] = OrderedDict()  # uploads, by the app's events
        self._unused: OrderedDict[Path, tuple[float, int]] = OrderedDict()  # found on disk, used when written
        self._bytes = 0
        self._kept: set[Path] = set()
        self._mutex = threading.Lock()
        atexit.register(self.remove)

    def write(self, name: str, writer: Callable[[Path], object]) -> Path:
        """A new file `name` in a fresh sub-folder, written by `writer(path)`; older files pruned."""
        path = Path(tempfile.mkdtemp(dir=self.folder)) / name
        writer(path)
        self._track(self._written, path, disk_bytes(path.stat()))
        return path

    def use(self, path: str | Path) -> None:
        """Count a file of this folder as used now (an upload that the next event reads again), so that it
        outlives files unused for longer. Any other path, or a file gone meanwhile, is ignored."""
        if (file := self._own(path)) is not None:
            with contextlib.suppress(FileNotFoundError):
                self._track(self._read, file, disk_bytes(file.stat()))

    def sweep(self) -> None:
        """Count the files on disk that nobody has used (uploads no event read, uploads cut off midway,
        Gradio's own files), forget those deleted by others, and prune."""
        started, present, found = time.time(), set(), []
        for folder, folders, names in os.walk(self.folder):  # outside the lock: requests never wait on the disk
            top = folder == str(self.folder)
            if not (top or folders or names):  # left by an upload Gradio refused after making its folder
                with contextlib.suppress(OSError):  # in use again, or too young to tell
                    if started - os.stat(folder).st_mtime > self.fresh_seconds:
                        os.rmdir(folder)
            for name in names:
                file = Path(folder, name)
                present.add(file)
                if self._tracks(file) or file in self._kept or (top and name == LOCK):
                    continue
                with contextlib.suppress(FileNotFoundError):  # deleted while we looked
                    info = file.stat()
                    if not top or started - info.st_mtime > RECEIVING_SECONDS:  # top level: an upload
                        found.append((info.st_mtime, file, disk_bytes(info)))  # being received, until it stops
        with self._mutex:
            for entries in (self._written, self._read, self._unused):
                for file, (used, size) in list(entries.items()):
                    if file not in present and used < started:
                        del entries[file]
                        self._bytes -= size
            found = [entry for entry in found if not self._tracks(entry[1])]
            if found:
                known = [(written, file, size) for file, (written, size) in self._unused.items()]
                self._unused = OrderedDict((file, (written, size)) for written, file, size in sorted(known + found))
                self._bytes += sum(size for *_, size in found)
            self._prune()

    def sweep_every(self, seconds: float, then: Callable[[], object] = lambda: None) -> threading.Thread:
        """Sweep in a background thread every `seconds`, for as long as the process lives, calling `then` after
        each sweep (the app: to forget the files deleted)."""
        def loop() -> None:
            while True:
                time.sleep(seconds)
                with contextlib.suppress(OSError):  # the folder itself unreadable for a moment: next time
                    self.sweep()
                then()
        thread = threading.Thread(target=loop, name="scratch-sweep", daemon=True)
        thread.start()
        return thread

    def keep_current(self) -> None:
        """Never delete the files here now: what the app built its page from before any visitor came (its
        example photos, Gradio's copies of its figures), as against what requests bring and make later."""
        with self._mutex:
            self._kept |= {Path(folder, name) for folder, _, names in os.walk(self.folder) for name in names}

    def discard(self, path: str | Path) -> None:
        """Delete a file of this folder now (an upload that was refused can never be used; left for its
        hour it would hold disk per request). A path outside it, or one of the page's own, is never touched."""
        if (file := self._own(path)) is not None:
            with self._mutex:
                self._forget(file)
            _delete(file)

    def remove(self) -> None:
        """Delete the whole folder (at exit; also safe to call twice)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._lock.close()

    def _own(self, path: str | Path) -> Path | None:
        """`path` as a file of a sub-folder here that is not kept for good; None for any other path."""
        resolved, home = Path(path).resolve(), self.folder.resolve()
        parts = resolved.relative_to(home).parts if home in resolved.parents else ()
        file = self.folder.joinpath(*parts)
        return file if len(parts) == 2 and file not in self._kept and resolved.is_file() else None

    def _tracks(self, file: Path) -> bool:
        return file in self._written or file in self._read or file in self._unused

    def _track(self, entries: OrderedDict[Path, tuple[float, int]], file: Path, size: int) -> None:
        with self._mutex:
            self._forget(file)
            entries[file] = (time.time(), size)
            self._bytes += size
            self._prune()

    def _forget(self, file: Path) -> None:
        for entries in (self._written, self._read, self._unused):
            _, size = entries.pop(file, (0.0, 0))
            self._bytes -= size

    def _prune(self) -> None:
        now = time.time()
        for entries in (self._unused, self._read, self._written):
            while entries and _oldest(entries) < now - self.keep_seconds:
                self._drop(entries)
        while self._bytes > self.keep_bytes:  # the files nobody used first, then the least recently used
            fresh = bool(self._written) and _oldest(self._written) >= now - self.fresh_seconds
            queues = [self._unused] if self._unused else [q for q in (self._read, self._written) if q]
            queues = [q for q in queues if not (q is self._written and fresh)]
            if not queues:
                break
            self._drop(min(queues, key=_oldest))

    def _drop(self, entries: OrderedDict[Path, tuple[float, int]]) -> None:
        """Delete the least recently used file of `entries`."""
        file, (_, size) = entries.popitem(last=False)
        self._bytes -= size
        _delete(file)


def _oldest(entries: OrderedDict[Path, tuple[float, int]]) -> float:
    """When the least recently used file of `entries` was last used."""
    return next(iter(entries.values()))[0]


def _delete(file: Path) -> None:
    """Delete a file, and its sub-folder once that holds nothing else (Gradio puts uploads of one content,
    whatever their names, in one folder)."""
    file.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty, or already gone
        file.parent.rmdir()
