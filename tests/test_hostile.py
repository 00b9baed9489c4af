"""Hostile input and heavy load against the running app, through gradio_client, as a visitor would.

Every file is built here. Each case asserts the result or the message, and that the next normal
request still gets an answer; at the end the app's peak memory must be within the project's budget.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

import denoiser
from denoiser import ALL_ROUNDER, NOISES
from denoiser.config import APP_MEMORY_BUDGET_MIB, settings
from denoiser.samples import load_samples
from denoiser.scratch import LOCK
from training.appserver import RunningApp, files_in, running_app

from .conftest import encoded, need_weights, png
from .test_readme import block_after

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
NEEDED = [("mnist", ALL_ROUNDER), ("cifar10", ALL_ROUNDER), ("cifar10", "cnn_dense_large")]
DISK_MB = 64  # the app's temporary files and uploads in all, held low here so that the tests can fill it


@dataclass
class App:
    server: RunningApp
    client: Client
    temp: Path  # the GRADIO_TEMP_DIR the app was started with
    page: frozenset[Path]  # its files once it listens: the page's own (kept for good) and the warm-up's


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[App]:
    trained = {(e.dataset, e.model) for e in denoiser.list_models()}
    missing = [f"{d}/{m}" for d, m in NEEDED if (d, m) not in trained
               or not (settings().weights_dir / d / f"{m}.keras").is_file()]
    if missing:
        pytest.skip(f"no trained weights for {', '.join(missing)}")
    temp = tmp_path_factory.mktemp("gradio")
    environ = {"GRADIO_TEMP_DIR": str(temp), "DENOISER_APP_DISK_MB": str(DISK_MB)}
    with running_app(ARTIFACTS / "hostile-app.log", environ=environ) as server:
        page = frozenset(files_in(temp))
        yield App(server, Client(server.url, verbose=False), temp, page)


def denoise(client: Client, path: Path, dataset: str = "mnist", model: str = "auto", kind: str = "gaussian",
            level: float = 0.1, seed: int = 0) -> tuple:
    return client.predict(handle_file(str(path)), dataset, model, kind, level, seed, True, False,
                          api_name="/denoise")


def still_serving(app: App, tmp_path: Path) -> None:
    """A normal 28×28 request right after: it must get its answer."""
    path = tmp_path / "normal.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8)).save(path)
    assert "PSNR" in denoise(app.client, path)[3]
    assert app.server.process.poll() is None


# Files that must be refused with a clear message, quickly and without harm.

REFUSED: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "unreadable": ("noise.png", lambda: np.random.default_rng(0).bytes(4096), "not an image"),
    "truncated": ("cut.png", lambda: encoded(Image.new("RGB", (64, 64), (9, 99, 199)))[:70], "could not be read"),
    "zero bytes": ("empty.png", lambda: b"", "not an image"),
    "SVG": ("logo.svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', "not an image"),
    "fake HEIC": ("photo.heic", lambda: b"\0\0\0\x18ftypheic" + bytes(200), "not an image"),
    "30000×30000 bomb": ("bomb.png", lambda: png(30000, 30000, 1), "over 64,000,000 pixels; images that large"),
    "13000×13000 PNG": ("big.png", lambda: png(13000, 13000, 13000), "13000×13000 = 169,000,000 pixels"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_bad_files_get_a_clear_message(app: App, case: str, tmp_path: Path) -> None:
    name, build, message = REFUSED[case]
    path = tmp_path / name
    path.write_bytes(build())
    with pytest.raises(AppError, match=message):
        denoise(app.client, path)
    assert [f for f in files_in(app.temp) if f.name == name] == []  # Gradio's copy deleted at once
    still_serving(app, tmp_path)


# Files that must be denoised, with the right picture.

def dark_16_bit() -> Image.Image:
    return Image.fromarray(np.linspace(0, 163, 48 * 64).reshape(48, 64).astype(np.uint16))  # of 65535


def float_tiff() -> Image.Image:
    return Image.fromarray(np.linspace(0, 1, 48 * 64, dtype=np.float32).reshape(48, 64))


def logo(mode: str) -> Image.Image:
    """A black disc on a transparent background whose hidden colour is black too."""
    y, x = np.mgrid[:48, :64]
    alpha = (((y - 24) ** 2 + (x - 32) ** 2) < 18**2).astype(np.uint8) * 255
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., 3] = alpha
    image = Image.fromarray(rgba)
    if mode == "LA":
        return image.convert("LA")
    if mode == "P":
        palette = Image.new("P", (64, 48), 0)
        palette.putpalette([0, 0, 0, 255, 255, 255])
        palette.paste(1, mask=Image.fromarray(255 - alpha))
        palette.info["transparency"] = 1
        return palette
    return image


def exif_rotated() -> tuple[Image.Image, dict]:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 64×32, shown 32×64
    return Image.new("RGB", (64, 32), (255, 0, 0)), {"exif": exif}


@dataclass
class Good:
    name: str
    build: Callable[[], bytes]
    size: tuple[int, int]  # (width, height) of the downloaded result
    dataset: str = "mnist"


GOOD = {
    "5000×1 photo": Good("thin.png", lambda: encoded(Image.new("RGB", (5000, 1), (90, 140, 200))), (5000, 1), "photos"),
    "1×5000 mnist": Good("tall.png", lambda: encoded(Image.new("L", (1, 5000), 200)), (1, 5000)),
    "1000×1 mnist": Good("strip.png", lambda: encoded(Image.new("L", (1000, 1), 200)), (1000, 1)),
    "1000×1 photo": Good("strip.png", lambda: encoded(Image.new("RGB", (1000, 1), (9, 9, 9))), (1000, 1), "photos"),
    "dark 16-bit PNG": Good("dark.png", lambda: encoded(dark_16_bit()), (64, 48)),
    "float TIFF": Good("float.tif", lambda: encoded(float_tiff(), "TIFF"), (64, 48)),
    "RGBA logo": Good("logo.png", lambda: encoded(logo("RGBA")), (64, 48)),
    "palette logo": Good("logo.png", lambda: encoded(logo("P")), (64, 48)),
    "LA logo": Good("logo.png", lambda: encoded(logo("LA")), (64, 48)),
    "EXIF-rotated JPEG": Good("turned.jpg", lambda: encoded(exif_rotated()[0], "JPEG", **exif_rotated()[1]),
                              (32, 64), "photos"),
    "CMYK JPEG": Good("cmyk.jpg", lambda: encoded(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG"),
                      (64, 48), "photos"),
    "1×1": Good("dot.png", lambda: encoded(Image.new("RGB", (1, 1), (200, 30, 30))), (1, 1)),
    "1-bit": Good("bits.png", lambda: encoded(Image.new("1", (64, 48), 1)), (64, 48)),
    "animated GIF": Good("anim.gif", lambda: encoded(Image.new("RGB", (64, 48), (255, 0, 0)), "GIF", save_all=True,
                                                     append_images=[Image.new("RGB", (64, 48))], loop=0), (64, 48)),
    "non-ASCII name": Good("чёрточка 字.png", lambda: encoded(Image.new("L", (28, 28), 80)), (28, 28)),
}


@pytest.mark.parametrize("case", GOOD)
def test_odd_files_are_denoised(app: App, case: str, tmp_path: Path) -> None:
    good = GOOD[case]
    path = tmp_path / good.name
    path.write_bytes(good.build())
    *_, report, download, _ = denoise(app.client, path, good.dataset, level=0.05)
    result = Image.open(download)
    assert "PSNR" in report and result.size == good.size
    pixels = np.asarray(result).astype(np.float32)
    if case in ("dark 16-bit PNG", "float TIFF"):  # a gray model's result keeps the upload's depth
        assert result.mode == "I;16"
        pixels = denoiser.read_image(download)[0][..., 0] * 255  # on the 8-bit scale of the checks below
    if case == "dark 16-bit PNG":  # values up to 163 of 65535 stay dark: at most 1 of 255 plus the noise left
        assert pixels.mean() < 15
    if case == "float TIFF":  # a ramp over [0, 1], not black
        assert 100 < pixels.mean() < 155 and pixels[-1].mean() > 200  # bottom row white
    if case.endswith("logo"):  # the transparency comes back in the download, where the upload had it
        alpha = np.asarray(logo("RGBA"))[..., 3]
        assert result.mode in ("RGBA", "LA") and np.array_equal(pixels[..., -1], alpha)
    still_serving(app, tmp_path)


# The API: every noise kind at its own levels, every trained model of the dataset by name.


@pytest.mark.parametrize("kind", NOISES)
def test_every_noise_kind_at_its_own_levels_through_the_api(app: App, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "digit.png"
    Image.new("L", (28, 28), 100).save(path)
    spec = NOISES[kind]
    for level in (spec.low, spec.default, spec.high):
        assert "PSNR" in denoise(app.client, path, kind=kind, level=level)[3]
    outside = spec.low - 1 if spec.low >= 1 else spec.high + 1  # Poisson 4; the others 1.5
    with pytest.raises(AppError, match=re.escape(f"{spec.label} {spec.level_name} must lie in")):
        denoise(app.client, path, kind=kind, level=outside)


def test_numbers_that_are_no_numbers_get_a_message_naming_the_widget(app: App, tmp_path: Path) -> None:
    """Gradio compares a slider's or number field's value with its range before the app sees it: None or a string
    failed there with a bare "Error"."""
    path = tmp_path / "digit.png"
    Image.new("L", (28, 28), 100).save(path)
    for level, seed, message in ((None, 0, r"Noise level \(.*\): a number from 0 to 100, got None\."),
                                 ("lots", 0, "Noise level .*, got 'lots'"), (0.1, "x", "Seed: a number, got 'x'"),
                                 (True, 0, "Noise level .*, got True")):
        with pytest.raises(AppError, match=message):
            denoise(app.client, path, level=level, seed=seed)
    with pytest.raises(AppError, match=r"^t: a number from 0 to 1, got None\.$"):
        app.client.predict("mnist", handle_file(str(path)), handle_file(str(path)), None, "auto", "linear", 0,
                           api_name="/interpolate")
    assert "PSNR" in denoise(app.client, path, seed=None)[3]  # an empty seed field is Gradio's own: it still runs
    still_serving(app, tmp_path)


def test_the_readmes_api_example_runs_as_written(app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for dataset, model in (("photos", "res_unet_gaussian"), ("mnist", "latent_vae")):
        need_weights(dataset, model)
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (64, 48), (200, 120, 40)).save("photo.jpg")
    for name, digit in zip(("a.png", "b.png"), load_samples("mnist").images):
        Image.fromarray(digit).save(name)
    names: dict = {}
    code = block_after("### Call the app from Python").replace("http://127.0.0.1:7860/", app.server.url)
    exec(compile(code, "README.md", "exec"), names)
    assert Image.open(names["png"]).size == (64, 48) and Image.open(names["gif"]).n_frames > 1
    assert "BM3D" in names["report"] and len(names["gallery"]) > 2
    # "Every argument but the files has the page's default"
    report = app.client.predict(path=handle_file("photo.jpg"), dataset="photos", api_name="/denoise")[3]
    assert "PSNR" in report


def test_every_trained_model_of_the_dataset_can_be_named(app: App, tmp_path: Path) -> None:
    path = tmp_path / "tiny.png"
    Image.new("RGB", (32, 32), (120, 60, 30)).save(path)
    for entry in (e for e in denoiser.list_models() if e.dataset == "cifar10"):
        *_, report, _, _ = denoise(app.client, path, "cifar10", entry.model)
        assert denoiser.MODELS[entry.model].title in report
    with pytest.raises(AppError, match="Unknown model 'no_such_model'; choose one of"):
        denoise(app.client, path, "cifar10", "no_such_model")
    still_serving(app, tmp_path)


# Load: large images have a lane of their own.


@pytest.mark.slow
def test_small_requests_pass_two_large_photos_in_flight(app: App, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (1500, 2000, 3), dtype=np.uint8)).save(photo)  # 3 MP: the large lane
    large = [Client(app.server.url, verbose=False).submit(handle_file(str(photo)), "photos", "auto", "gaussian",
                                                          0.1, seed, True, False, api_name="/denoise")
             for seed in (1, 2)]
    time.sleep(3)  # both are in the app now
    digit = tmp_path / "digit.png"
    Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(digit)
    for seed in range(6):
        assert "PSNR" in denoise(app.client, digit, seed=seed)[3]
    assert not all(job.done() for job in large)  # the small ones did not wait for both large ones
    for job in large:
        assert Image.open(job.result(timeout=600)[4]).size == (2000, 1500)


# Bounds: memory and temporary files.


def scratch_files(app: App) -> dict[Path, int]:
    """The app's temporary files and Gradio's uploads since it started listening, with their sizes."""
    return {file: size for file, size in files_in(app.temp / "denoiser-app").items() if file not in app.page}


def test_an_upload_request_may_hold_one_files_worth_however_it_is_sent(app: App, tmp_path: Path) -> None:
    """Gradio limits each file of a request, not the request, and holds them all open until it ends."""
    url, part = urljoin(app.server.url, "gradio_api/upload"), bytes(30 * 2**20)  # under the file limit

    def streamed() -> Iterator[bytes]:  # no Content-Length: the body is counted as it comes
        for name in ("a.bin", "b.bin"):
            yield f'--cut\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n\r\n'.encode()
            yield from (part[i : i + 2**20] for i in range(0, len(part), 2**20))
            yield b"\r\n"
        yield b"--cut--\r\n"

    declared = httpx.post(url, files=[("files", ("a.bin", part)), ("files", ("b.bin", part))], timeout=120)
    chunked = httpx.post(url, content=streamed(), headers={"content-type": "multipart/form-data; boundary=cut"},
                         timeout=120)
    for response in (declared, chunked):
        assert response.status_code == 413 and "at most 50 MB" in response.text
    assert httpx.post(url, files=[("files", ("ok.bin", part))], timeout=120).status_code == 200  # one file: fine
    still_serving(app, tmp_path)


def test_uploads_no_event_reads_are_deleted_beyond_the_disk_budget(app: App, tmp_path: Path) -> None:
    """Gradio stores every upload before any event; a client that only uploads must not fill the disk."""
    junk = np.random.default_rng(2).bytes(DISK_MB * 2**20 // 4)
    names = [f"junk{i}.bin" for i in range(5)]  # a quarter of the budget each: more than it holds
    for name in names:
        response = httpx.post(urljoin(app.server.url, "gradio_api/upload"), files=[("files", (name, junk))])
        response.raise_for_status()
        time.sleep(0.05)  # one after another, so that "oldest" is well defined
    deadline = time.monotonic() + 60
    while sum(scratch_files(app).values()) > DISK_MB * 2**20 and time.monotonic() < deadline:
        time.sleep(1)  # the app's sweep finds them every few seconds
    files = scratch_files(app)
    kept = {f.name for f in files}
    assert sum(files.values()) <= DISK_MB * 2**20
    assert names[0] not in kept and names[-1] in kept  # the oldest went first
    assert all(f.is_file() for f in app.page if f.name in ("psnr_vs_level.png", "astronaut.png"))  # the page's stay
    still_serving(app, tmp_path)


def test_memory_and_temporary_files_stay_bounded(app: App, tmp_path: Path) -> None:
    """Run last in this module (pytest keeps file order): everything above has been through the app."""
    still_serving(app, tmp_path)
    assert app.server.peak_memory_mib() < APP_MEMORY_BUDGET_MIB
    folders = [f for f in (app.temp / "denoiser-app").iterdir()]
    assert len(folders) == 1 and (folders[0] / LOCK).is_file()  # one folder per app, Gradio's cache inside it
    assert [f for f in files_in(app.temp) if folders[0] not in f.parents] == []
    assert sum(scratch_files(app).values()) <= DISK_MB * 2**20


def test_temporary_files_live_and_die_with_the_app(tmp_path: Path) -> None:
    root = tmp_path / "denoiser-app"
    stale = root / "12345-dead"
    stale.mkdir(parents=True)
    (stale / LOCK).touch()  # no process holds its lock: a crashed instance's
    (stale / "old.png").write_bytes(bytes(1000))
    with running_app(ARTIFACTS / "temp-app.log", environ={"GRADIO_TEMP_DIR": str(tmp_path)}) as server:
        folders = list(root.iterdir())
        assert stale not in folders and len(folders) == 1
        path = tmp_path / "digit.png"
        Image.new("L", (28, 28), 100).save(path)
        assert "PSNR" in denoise(Client(server.url, verbose=False), path)[3]
        assert sum(f.name == "digit-denoised.png" for f in files_in(root)) == 1  # written once, served as it is
    assert not folders[0].exists()  # a normal stop (SIGTERM) removes it
