"""Speed and load figures for README: model vs BM3D per image size, and the app under load.

    python -m training.benchmark                 # everything, about 20 minutes on 2 CPU cores
    python -m training.benchmark --skip-app      # model and BM3D timings only
    python -m training.benchmark --skip-speed    # the app's figures only

Writes `weights/results/benchmark.json` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from denoiser import DATASETS, LATENT, add_noise, load
from denoiser.baselines import run_baseline
from denoiser.config import APP_MAX_PIXELS, APP_MEMORY_BUDGET_MIB, settings
from denoiser.noise import GAUSSIAN

from .appserver import files_in, running_app

SIGMA = 0.1
PHOTO = (4000, APP_MAX_PIXELS // 4000)  # (width, height) of the large uploads in the load runs: 4:3 at the app's limit


@dataclass
class LoadResult:
    clients: int
    requests: int
    failures: int
    client: str = "page"  # a key of CLIENTS
    latencies: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        return float(np.percentile(self.latencies, 95)) if self.latencies else float("nan")


def synthetic_noisy(size: int, channels: int, seed: int = 0) -> np.ndarray:
    """A smooth synthetic image with Gaussian noise: timing needs no dataset."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = 0.5 + 0.4 * np.sin(6 * xx + seed) * np.cos(5 * yy)
    clean = np.repeat(base[..., None], channels, axis=-1).astype(np.float32)
    return add_noise(clean, GAUSSIAN, SIGMA, seed=seed)


def seconds_per_call(run, repeats: int) -> float:
    run()  # warm-up: graph tracing and caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dataset_for(size: int) -> tuple[str, int]:
    """Whose model the benchmark times on a square image of this side, and its channels: MNIST's up to its side,
    CIFAR-10's up to its, the photo model's beyond."""
    fits = [name for name in ("mnist", "cifar10") if size <= DATASETS[name].shape[0]]
    dataset = fits[0] if fits else "photos"
    return dataset, DATASETS[dataset].shape[-1]


@contextlib.contextmanager
def load_average() -> Iterator[list[float]]:
    """The 1-minute load average before and after the block, in the list it yields."""
    figures = [os.getloadavg()[0]]
    yield figures
    figures.append(os.getloadavg()[0])


def model_vs_bm3d(sizes: list[int], bm3d_max: int) -> list[dict]:
    rows = []
    for size in sizes:
        dataset, channels = dataset_for(size)
        noisy = synthetic_noisy(size, channels)
        den = load(dataset, noise=GAUSSIAN)  # what the app runs for this Gaussian noise
        repeats = max(1, min(20, 2_000_000 // size**2))
        model = seconds_per_call(lambda: den.denoise(noisy), repeats)
        bm3d = seconds_per_call(lambda: run_baseline("bm3d", noisy, SIGMA), 1) if size <= bm3d_max else None
        rows.append({"size": f"{size}×{size}×{channels}", "model": f"{den.entry.dataset}/{den.name}",
                     "model_s": model, "bm3d_s": bm3d, "bm3d_over_model": bm3d / model if bm3d else None})
        print(rows[-1], flush=True)
    return rows


def slider_step_seconds() -> float:
    """One slider step of the interpolation tab: decode a point between two MNIST encodings."""
    ae = load("mnist", LATENT)
    latents = ae.encode(np.stack([synthetic_noisy(28, 1, seed) for seed in (0, 1)]))
    return seconds_per_call(lambda: ae.decode(0.5 * latents[0] + 0.5 * latents[1]), 50)


MNIST_REQUEST = ("mnist", None, GAUSSIAN, 0.2)  # /denoise's dataset, model, noise and level in the load runs


class PythonClient:
    """The app through `gradio_client`, as a Python user calls it: each answer's files are downloaded."""

    def __init__(self, url: str) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False)

    def denoise(self, image: Path, seed: int) -> None:
        from gradio_client import handle_file

        outputs = self.client.predict(handle_file(str(image)), *MNIST_REQUEST, seed, True, False, api_name="/denoise")
        if "PSNR" not in outputs[3] or not Path(outputs[4]).is_file():
            raise ValueError("incomplete answer")


class PageClient:
    """The app's HTTP API used as its web page uses it: one kept-alive connection and one session, the upload,
    the call, its answer streamed, and the three images and the download fetched (Gradio's `/call/` route)."""

    def __init__(self, url: str) -> None:
        import httpx

        self.api, self.session = url + "gradio_api/", httpx.Client(timeout=600)
        self.session_hash = secrets.token_hex(8)  # a page's session lasts while it is open

    def denoise(self, image: Path, seed: int) -> None:
        with image.open("rb") as file:
            uploaded = self.session.post(self.api + "upload", files={"files": (image.name, file)}).json()[0]
        data = [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}, *MNIST_REQUEST, seed, True, False]
        call = {"data": data, "session_hash": self.session_hash}
        event = self.session.post(self.api + "call/denoise", json=call).json()["event_id"]
        with self.session.stream("GET", f"{self.api}call/denoise/{event}") as answer:
            lines = answer.iter_lines()
            outcome = next((line for line in lines if line.startswith("event: ") and line != "event: heartbeat"))
            if outcome != "event: complete":
                raise ValueError(f"the app answered {outcome}: {next(lines, '')}")
            original, noisy, denoised, report, png, _ = json.loads(next(lines).removeprefix("data: "))
        if "PSNR" not in report:
            raise ValueError("incomplete answer")
        for file in (original, noisy, denoised, png):
            self.session.get(file["url"]).raise_for_status()


CLIENTS = {"page": PageClient, "gradio_client": PythonClient}


def timed_request(client, image: Path, seed: int) -> float:
    start = time.perf_counter()
    client.denoise(image, seed)
    return time.perf_counter() - start


def load_run(url: str, clients: int, requests: int, image: Path, how: str = "page") -> LoadResult:
    """`clients` clients of one kind (CLIENTS), each sending `requests` MNIST denoise calls with its own seeds."""
    result = LoadResult(clients, requests, 0, how)

    def client_loop(index: int) -> None:
        client = CLIENTS[how](url)
        for i in range(requests):
            try:
                result.latencies.append(timed_request(client, image, index * 1000 + i))
            except Exception:  # every kind of failure counts; the run goes on
                result.failures += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client_loop, range(clients)))
    return result


def gradio_client_floor(requests: int) -> float:
    """gradio_client's median round trip to an event that does nothing, in a bare Gradio app: what any app costs it."""
    import gradio as gr
    from gradio_client import Client

    with gr.Blocks() as bare:
        text = gr.Textbox()
        gr.Button().click(lambda: "done", None, text, api_name="nothing")
    _, url, _ = bare.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        client = Client(url, verbose=False)
        client.predict(api_name="/nothing")
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            client.predict(api_name="/nothing")
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    finally:
        bare.close()


def beside_large(url: str, photo: Path, large: int, clients: int, requests: int, image: Path) -> dict:
    """Small requests (a load run) sent while `large` 12 MP photos are in the app; every answer's time."""
    from gradio_client import Client, handle_file

    jobs = []
    for seed in range(large):
        start = time.perf_counter()
        job = Client(url, verbose=False).submit(handle_file(str(photo)), "photos", "auto", GAUSSIAN, 0.1, seed,
                                                True, False, api_name="/denoise")
        jobs.append((start, job))
    time.sleep(5 if large else 0)  # the uploads are in and the first photo is being denoised
    small = load_run(url, clients, requests, image)
    still_running = sum(not job.done() for _, job in jobs)
    large_s = []
    for start, job in jobs:
        job.result(timeout=1800)
        large_s.append(time.perf_counter() - start)
    return {"large": large, "large_s": large_s, "large_still_running_after_small": still_running,
            **summary(small)}


def summary(run: LoadResult) -> dict:
    return {**asdict(run), "answered": len(run.latencies), "median_s": run.median, "p95_s": run.p95,
            "latencies": None}


def folder_mib(folder: Path) -> float:
    return sum(files_in(folder).values()) / 2**20


def app_figures(requests: int, beside: int, log: Path) -> dict:
    work = Path(tempfile.mkdtemp())
    image, photo = work / "digit.png", work / "photo.jpg"
    Image.fromarray((synthetic_noisy(28, 1)[..., 0] * 255).astype(np.uint8)).save(image)
    width, height = PHOTO
    Image.fromarray((synthetic_noisy(width, 3)[:height] * 255).astype(np.uint8)).save(photo, quality=90)
    temp = work / "gradio"  # the app's GRADIO_TEMP_DIR, measured at the end
    with running_app(log, environ={"GRADIO_TEMP_DIR": str(temp)}) as app:
        first = timed_request(PageClient(app.url), image, seed=0)  # the first request after start
        before = app.cpu_seconds()
        runs = [load_run(app.url, 1, requests, image)]  # one page client: the app's own CPU cost per request
        cpu_ms = (app.cpu_seconds() - before) * 1000 / requests
        runs += [load_run(app.url, clients, requests, image, how) for how in CLIENTS for clients in (1, 8)
                 if (how, clients) != ("page", 1)]
        small_memory = app.peak_memory_mib()
        mixed = [beside_large(app.url, photo, large, 2, beside, image) for large in (0, 1, 2)]  # 0: the baseline
        memory = app.peak_memory_mib()
        answered = sum(len(r.latencies) for r in runs) + sum(m["answered"] + m["large"] for m in mixed)
        temp_mib = folder_mib(temp)
    return {"cold_start_s": app.startup_seconds, "first_request_s": first,
            "peak_memory_small_mib": small_memory, "peak_memory_mib": memory,
            "memory_budget_mib": APP_MEMORY_BUDGET_MIB, "temp_mib": temp_mib, "requests": answered,
            "cpu_ms_per_request": cpu_ms, "load": [summary(r) for r in runs], "beside_large": mixed,
            "gradio_client_floor_s": gradio_client_floor(requests)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="28,32,512,2048", help="square input sides to time")
    parser.add_argument("--bm3d-max", type=int, default=512, help="largest side BM3D is timed on (it is slow)")
    parser.add_argument("--requests", type=int, default=25, help="requests per client in the app load runs")
    parser.add_argument("--beside", type=int, default=10,
                        help="requests per client (2 clients) sent beside the large photos")
    parser.add_argument("--skip-app", action="store_true", help="keep the app's figures already in --out")
    parser.add_argument("--skip-speed", action="store_true", help="keep the speed figures already in --out")
    parser.add_argument("--out", default=str(settings().results_dir / "benchmark.json"))
    args = parser.parse_args(argv)

    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"{platform.system()} (CPU only)")
    earlier = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
    if args.skip_speed and args.skip_app:
        parser.error("--skip-speed and --skip-app together measure nothing.")
    if args.skip_speed and "speed" not in earlier:
        parser.error(f"--skip-speed keeps the speed figures in {args.out}, which has none: run without it first.")
    figures = {**earlier, "machine": machine}
    if not args.skip_speed:
        with load_average() as load:  # other work on the machine inflates every time below
            figures.update(speed=model_vs_bm3d([int(s) for s in args.sizes.split(",")], args.bm3d_max),
                           slider_step_s=slider_step_seconds())
        figures["speed_load_average"] = load
    if not args.skip_app:
        with load_average() as load:
            figures["app"] = app_figures(args.requests, args.beside, Path("runs/benchmark-app.log"))
        figures["app"]["load_average"] = load
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(figures, indent=1) + "\n")

    print(f"\nMachine: {figures['machine']}; 1-minute load average before and after the speed run: "
          f"{' and '.join(f'{x:.1f}' for x in figures.get('speed_load_average', []))}\n")
    print("| input | model | model s/image | BM3D s/image | BM3D ÷ model |\n|---|---|---|---|---|")
    for row in figures["speed"]:
        bm3d = f"{row['bm3d_s']:.3f}" if row["bm3d_s"] else "not run"
        ratio = f"{row['bm3d_over_model']:.0f}×" if row["bm3d_over_model"] else ""
        print(f"| {row['size']} | `{row['model']}` | {row['model_s']:.4f} | {bm3d} | {ratio} |")
    print(f"\nInterpolation slider step (MNIST latent decode): {figures['slider_step_s'] * 1000:.1f} ms")
    if "app" in figures:
        app = figures["app"]
        print(f"\nCold start {app['cold_start_s']:.1f} s (models loaded and warmed up), first request "
              f"{app['first_request_s']:.3f} s; peak memory {app['peak_memory_small_mib']:.0f} MiB "
              f"after the small runs, {app['peak_memory_mib']:.0f} MiB after the large photos (budget "
              f"{app['memory_budget_mib']} MiB); temporary files {app['temp_mib']:.1f} MiB after "
              f"{app['requests']} requests; 1-minute load average before and after the app run: "
              f"{' and '.join(f'{x:.1f}' for x in app.get('load_average', []))}\n")
        one = {run["client"]: run["median_s"] for run in app["load"] if run["clients"] == 1}
        print("| client | large photos in flight | clients × requests | failures | median s | p95 s "
              "| p95 ÷ one-client median | large photos' s |\n|---|---|---|---|---|---|---|---|")
        for run in app["load"] + app["beside_large"]:
            large = " / ".join(f"{t:.0f}" for t in run.get("large_s", []))
            print(f"| {run['client']} | {run.get('large', 0)} | {run['clients']} × {run['requests']} | "
                  f"{run['failures']} | {run['median_s']:.3f} | {run['p95_s']:.3f} | "
                  f"{run['p95_s'] / one[run['client']]:.1f} | {large} |")
        print(f"\nThe app's CPU time per small request (one page client): {app['cpu_ms_per_request']:.0f} ms")
        print(f"\ngradio_client's own floor: a bare Gradio app's event that does nothing takes "
              f"{app['gradio_client_floor_s']:.3f} s (median) through it")


if __name__ == "__main__":
    main()
