"""Writing a file whole: a reader, or a run killed mid-write, sees the old file or the new one, never half."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def write_whole(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write` on a temporary name beside `path` (this process's own), then rename it over `path`."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    write(partial)
    os.replace(partial, path)
