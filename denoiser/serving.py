"""Limits that keep a web server answering, whatever it is sent and however much at once.

No web framework here: the upload cap is plain ASGI middleware, the lanes plain threading, and
app.py wires both to Gradio (README, *Robustness*: heavy load, hostile uploads).
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

MALLOC_ARENAS = 2  # glibc's memory pools for the server's threads (M_ARENA_MAX)
UPLOADS_AT_ONCE = 16  # upload requests being received at once; more are told to try again
FORM_BYTES = 2**20  # an upload request's bytes around its one file
LARGE_PIXELS = 1_000_000  # work over this many pixels takes the large lane
BUSY = "The app is busy with other large images; try again in a minute, or send a smaller image."


def glibc() -> ctypes.CDLL | None:
    """The C library, where it is glibc (whose allocator the server tunes); None elsewhere, with nothing to tune."""
    try:
        library = ctypes.CDLL("libc.so.6")
        return library if hasattr(library, "malloc_trim") else None
    except OSError:
        return None


# Each worker thread that allocates gets a memory pool of its own from glibc, which keeps what it
# frees: large images handled in turn by different threads each left their memory behind. Four
# 64-megapixel uploads, run one at a time, peaked at 3,998 MiB by default; with the pools capped
# when the server starts and a trim after each large image (Lanes.run), at 2,231 MiB.
LIBC = glibc()


def cap_memory_pools() -> None:
    """Cap glibc's per-thread pools: for the server process alone, before its worker threads start."""
    if LIBC:
        LIBC.mallopt(-8, MALLOC_ARENAS)  # -8: M_ARENA_MAX


class TooLarge(Exception):
    """An upload request's body passed UploadsCapped's limit."""


class UploadsCapped:
    """ASGI middleware: an upload request is refused (413) once its body passes one file of `file_bytes` and its
    form, and (503) while `at_once` others are being received, so that uploads in flight hold at most that many
    files' worth of disk: Gradio checks each file of a request, not the request, and keeps its files open (their
    disk in use, whatever deletes them) until the request ends, however slowly its client sends it."""

    def __init__(self, app: Callable, file_bytes: int, at_once: int = UPLOADS_AT_ONCE,
                 form_bytes: int = FORM_BYTES) -> None:
        self.app, self.limit, self.at_once, self.receiving = app, file_bytes + form_bytes, at_once, 0
        self.too_large = f"An upload may hold at most {file_bytes / 2**20:g} MB."

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/upload"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            return await self.refuse(send, 413, self.too_large)
        if self.receiving >= self.at_once:  # one event loop: no other request changes it between these lines
            return await self.refuse(send, 503, "The app is receiving many uploads; try again in a moment.")
        self.receiving += 1
        try:
            await self.pass_on(scope, receive, send)
        finally:
            self.receiving -= 1

    async def pass_on(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Pass the request on, refusing it once its body passes the limit."""
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except TooLarge:
            await self.refuse(send, 413, self.too_large)

    @staticmethod
    async def refuse(send: Callable, status: int, message: str) -> None:
        body = message.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class Busy(Exception):
    """A lane's queue is full: the request is turned away at once rather than wait."""


@dataclass
class Lane:
    """Work of one size class: `slots` run at once; with `waiting` set, at most that many more wait and the rest
    are told the server is busy (Busy), so that large requests cannot hold every queue slot."""

    slots: int
    waiting: int | None = None
    _running: threading.Semaphore = field(init=False)
    _admitted: threading.Semaphore | None = field(init=False)

    def __post_init__(self) -> None:
        self._running = threading.Semaphore(self.slots)
        self._admitted = None if self.waiting is None else threading.Semaphore(self.slots + self.waiting)

    @property
    def places(self) -> int:
        """How many requests it holds at most, running or waiting (unbounded waiting counts none)."""
        return self.slots + (self.waiting or 0)

    @contextlib.contextmanager
    def enter(self) -> Iterator[None]:
        if self._admitted is not None and not self._admitted.acquire(blocking=False):
            raise Busy(BUSY)
        try:
            with self._running:
                yield
        finally:
            if self._admitted is not None:
                self._admitted.release()


@dataclass
class Lanes:
    """A lane for small work beside one for large, so that small requests never queue behind large ones."""

    small: Lane = field(default_factory=lambda: Lane(slots=2))
    large: Lane = field(default_factory=lambda: Lane(slots=1, waiting=4))
    large_pixels: int = LARGE_PIXELS

    @property
    def places(self) -> int:
        """The queue slots the server must give these requests: every large one that may run or wait, and the
        small lane's on top."""
        return self.small.places + self.large.places

    @contextlib.contextmanager
    def run(self, pixels: float) -> Iterator[None]:
        """Run work of that many pixels in its lane (Busy when the large lane is full); after large work, give its
        freed memory back to the system before another thread's turn."""
        large = pixels > self.large_pixels
        try:
            with (self.large if large else self.small).enter():
                yield
        finally:
            if large and LIBC:
                LIBC.malloc_trim(0)
