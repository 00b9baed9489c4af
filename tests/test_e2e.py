"""End to end: `python app.py` in a subprocess, driven by headless Chromium through Playwright.

    pytest -m e2e tests/test_e2e.py

Needs /usr/bin/chromium (`apt-get install -y chromium`; Playwright's own browser download is not
used) and the committed MNIST and CIFAR-10 weights; no dataset: the app runs as on a fresh machine,
without DENOISER_DATA_DIR and offline, on its built-in samples. Screenshots and the app's log go to
test-artifacts/.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from denoiser import ALL_ROUNDER, LATENT, SPECIALISTS
from training.appserver import CHROMIUM, CHROMIUM_ARGS, FRESH_MACHINE, running_app

from .conftest import need_weights

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_SECONDS = 180
WAIT_MS = 120_000  # CI machines are slow
NEEDED = [(dataset, model) for dataset in ("mnist", "cifar10")
          for model in (ALL_ROUNDER, SPECIALISTS["gaussian"], LATENT)]


def check_prerequisites() -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing; install it with `apt-get install -y chromium`")
    for dataset, model in NEEDED:
        need_weights(dataset, model)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The app on a free localhost port, stopped after the module's tests."""
    check_prerequisites()
    try:
        with running_app(ARTIFACTS / "e2e-app.log", STARTUP_SECONDS, FRESH_MACHINE) as app:
            yield app.url
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def page(server: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(server)
        yield page
        browser.close()


def shown(page, image) -> bytes:
    """The bytes of the file an <img> shows: a walk that changes nothing may still write a new file."""
    return page.request.get(image.get_attribute("src")).body()


def shown_other_than(page, image, old: bytes) -> bytes:
    """Wait until the <img> shows other bytes than `old`, and return them."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while (now := shown(page, image)) == old:
        assert time.monotonic() < deadline, "the image did not change"
        page.wait_for_timeout(250)
    return now


def test_arrival_sample_denoise_interpolate_and_a_broken_upload(page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    # On arrival, before any click: a sampled MNIST test image, denoised, with its metrics.
    expect(page.locator("#report")).to_contain_text("PSNR", timeout=WAIT_MS)
    expect(page.locator("#report")).to_contain_text("Residual U-Net")
    expect(page.get_by_text("MNIST test image #").first).to_be_visible()
    for name in ("original", "noisy", "denoised"):
        expect(page.locator(f"#{name} img")).to_have_attribute("src", re.compile(r"\.png$"))
    page.screenshot(path=ARTIFACTS / "e2e-arrival.png", full_page=True)

    # Sample works for another dataset too, from the built-in samples: a CIFAR-10 image, denoised in colour.
    page.get_by_text("CIFAR-10", exact=True).first.click()
    page.get_by_role("button", name="Sample", exact=True).click()
    expect(page.get_by_text("CIFAR-10 test image #").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#report")).to_contain_text("PSNR", timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "e2e-denoise.png", full_page=True)

    # Photo mode offers scikit-image's photos as examples; picking one replaces the upload and its caption.
    page.get_by_text("Photo", exact=True).first.click()
    page.get_by_text("coffee", exact=True).first.click()
    expect(page.locator("#upload")).to_contain_text("coffee", timeout=WAIT_MS)
    expect(page.get_by_text("CIFAR-10 test image #")).to_have_count(0)
    expect(page.locator("#report")).to_contain_text("PSNR", timeout=WAIT_MS)
    page.get_by_text("MNIST", exact=True).first.click()

    # A new seed re-noises and denoises again without another click.
    noisy = page.locator("#noisy img")
    before = noisy.get_attribute("src")
    page.get_by_label("Seed").fill("7")
    expect(noisy).not_to_have_attribute("src", before, timeout=WAIT_MS)

    # Latent interpolation, drawn on arrival: the image between A and B follows the slider.
    page.get_by_role("tab", name="Latent interpolation").click()
    frame = page.locator("#frame img")
    expect(frame).to_have_attribute("src", re.compile(r"\.png$"), timeout=WAIT_MS)
    expect(page.get_by_text("t = 0.125")).to_be_visible()  # the strip of steps
    before = frame.get_attribute("src")
    page.locator("#t input[type=range]").fill("0.95")
    expect(frame).not_to_have_attribute("src", before, timeout=WAIT_MS)
    middle = page.locator("#strip img").nth(4)  # t = 0.5 in the strip, which only a new walk redraws
    line, before = shown(page, middle), frame.get_attribute("src")
    page.get_by_label("Spherical").check()  # the other path between the same two encodings
    expect(frame).not_to_have_attribute("src", before, timeout=WAIT_MS)
    arc = shown_other_than(page, middle, line)
    page.locator("#passes input[type=range]").fill("4")  # the frames sent back through the model
    shown_other_than(page, middle, arc)
    page.screenshot(path=ARTIFACTS / "e2e-interpolation.png", full_page=True)

    # A broken file: a clear message in the page, and the server keeps serving.
    page.get_by_role("tab", name="Denoise").click()
    page.locator("#upload").get_by_role("button", name="Clear").click()
    expect(page.locator("#report")).to_contain_text("Upload an image", timeout=WAIT_MS)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    page.locator("#upload input[type=file]").set_input_files(broken)
    expect(page.get_by_text(re.compile("could not be read|not an image")).first).to_be_visible(timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "e2e-broken-upload.png", animations="disabled")
    page.get_by_role("button", name="Sample", exact=True).click()
    expect(page.locator("#report")).to_contain_text("PSNR", timeout=WAIT_MS)


def test_the_readmes_screenshot_shows_a_photo_denoised(tmp_path: Path) -> None:
    """As README runs it: its own process, its own app and browser (Playwright's sync API allows one per thread)."""
    from PIL import Image

    from training.screenshot import VIEWPORT

    check_prerequisites()
    need_weights("photos", SPECIALISTS["gaussian"])
    out = tmp_path / "app.png"
    done = subprocess.run([sys.executable, "-m", "training.screenshot", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout == f"wrote {out}\n", done.stderr
    assert Image.open(out).size == (VIEWPORT["width"], VIEWPORT["height"])
    assert not out.with_suffix(".log").exists()  # the app's log goes once the picture is taken
