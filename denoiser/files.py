"""Writing a file whole: a reader, or a run killed mid-write, sees the old file or the new one, never half;
and a lock for processes that update the same file."""

from __future__ import annotations

import fcntl
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


def write_whole(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write` on a temporary name beside `path` (this call's own, short, as `path`'s name may be as long as a
    name can be, and with its suffix, by which some writers choose the format), then rename it over `path`."""
    partial = path.with_name(f".{uuid.uuid4().hex}.partial{path.suffix}")
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)  # a failed write leaves nothing behind
        raise


class InUse(Exception):
    """Another process holds the lock, and the caller would not wait."""


@contextmanager
def locked(path: Path, wait: bool = True) -> Iterator[None]:
    """Hold the lock beside `path` (`<name>.lock`): processes' read-modify-writes of `path` take turns; with
    `wait` off, InUse is raised at once if another process holds it."""
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise InUse(f"{path} is in use by another process.") from None
        yield
