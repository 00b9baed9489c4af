"""Start `python app.py` on a free localhost port, for the browser test, the load test and benchmarks."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from denoiser.config import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")  # the browser that drives the page (apt's; Playwright downloads none)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FRESH_MACHINE = {"DENOISER_DATA_DIR": None, "HF_HUB_OFFLINE": "1"}  # no dataset, no download: a visitor's Space


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen
    startup_seconds: float

    def peak_memory_mib(self) -> float:
        """The app process's peak resident memory so far (Linux VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """CPU time the app process has used so far, all its threads (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def files_in(folder: Path) -> dict[Path, int]:
    """Every file under `folder` with its size, read while an app prunes it: what goes meanwhile is left out."""
    sizes = {}
    for parent, _, names in os.walk(folder):  # unlike Path.rglob, not thrown by a folder removed meanwhile
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                sizes[Path(parent, name)] = Path(parent, name).stat().st_size
    return sizes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(log: Path, timeout: float = 180.0, environ: Mapping[str, str | None] | None = None
                ) -> Iterator[RunningApp]:
    """The app in a subprocess, answering on its URL; stopped on exit. Its output goes to `log`.

    `environ` changes the app's environment: a value of None removes the variable (a fresh machine has no
    DENOISER_DATA_DIR, say).
    """
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", **(environ or {})}
    env = {name: value for name, value in env.items() if value is not None}
    log.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}/"
    with open(log, "w") as out:
        start = time.monotonic()
        process = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            while True:
                try:
                    urllib.request.urlopen(url, timeout=5)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() - start > timeout:
                        raise RuntimeError(f"app.py did not start; see {log}") from None
                    time.sleep(0.2)
            yield RunningApp(url, process, time.monotonic() - start)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
