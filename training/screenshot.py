"""The README's picture of the app: Photo mode, an example photo noised and denoised, as a visitor sees it.

    python -m training.screenshot            # -> weights/results/app.png (needs /usr/bin/chromium)

The app runs as on a fresh machine (no dataset, offline), driven by headless Chromium as
tests/test_e2e.py drives it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from denoiser.config import settings

from .appserver import CHROMIUM, CHROMIUM_ARGS, FRESH_MACHINE, running_app

SCREENSHOT = "app.png"  # in the results folder, beside the figures the README shows
VIEWPORT = {"width": 1280, "height": 760}  # the Denoise tab's controls and its three images
PHOTO = "coffee"  # one of the example photos Photo mode offers
WAIT_MS = 120_000


def screenshot(out: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with running_app(out.with_suffix(".log"), environ=FRESH_MACHINE) as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(app.url)
        report = page.locator("#report")
        expect(report).to_contain_text("PSNR", timeout=WAIT_MS)  # the arrival's MNIST digit
        page.get_by_text("Photo", exact=True).first.click()
        expect(report).to_contain_text("converted to colour", timeout=WAIT_MS)  # the digit, now in Photo mode
        page.get_by_text(PHOTO, exact=True).first.click()
        expect(page.locator("#upload")).to_contain_text(PHOTO, timeout=WAIT_MS)
        expect(report).not_to_contain_text("converted to colour", timeout=WAIT_MS)  # the photo's own result
        expect(report).to_contain_text("PSNR", timeout=WAIT_MS)
        page.wait_for_function("[...document.images].every(image => image.complete)", timeout=WAIT_MS)
        page.screenshot(path=out, animations="disabled")
        browser.close()
    out.with_suffix(".log").unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=settings().results_dir / SCREENSHOT, help="the PNG to write")
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        parser.exit(2, f"error: {CHROMIUM} is missing; install it with `apt-get install -y chromium`\n")
    screenshot(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
