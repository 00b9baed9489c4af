"""Denoise image files from the command line.

    python -m denoiser photos/ scan.png --out clean/
    python -m denoiser digit.png --dataset mnist --add-noise gaussian:0.3 --out demo/

Folders are searched recursively for images. Each result is written as DIR/<name>.png,
keeping the subfolders of a folder given as input; with --add-noise the noisy input is written
beside it as <name>_noisy.png. Two inputs that would share an output name (x.png and x.jpg)
keep their suffix in it (x.jpg.png). Unreadable files are reported and skipped; the exit
status is 1 if any file failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from . import add_noise, load
from .config import settings
from .datasets import DATASETS
from .imaging import ImageError, read_image, save_png
from .models import ALL_ROUNDER, MODELS
from .noise import parse_noise

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def find_images(inputs: list[str]) -> list[tuple[Path, Path]]:
    """(file, output name without suffix) for files as given and image files under folders, in a stable order.

    Names keep the subfolders below an input folder, so nothing found is overwritten.
    """
    found = []
    for item in map(Path, inputs):
        if item.is_dir():
            files = sorted(p for p in item.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            found += [(p, p.relative_to(item).with_suffix("")) for p in files]
        else:
            found.append((item, Path(item.stem)))
    seen: set[Path] = set()
    named = []
    for path, name in found:
        name = name.with_name(path.name) if name in seen else name  # x.jpg after x.png: x.jpg.png
        seen.add(name)
        named.append((path, name))
    return named


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoiser", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", metavar="IN", help="image files or folders of images")
    parser.add_argument("--out", required=True, help="folder for the denoised PNGs (created if missing)")
    parser.add_argument("--dataset", default="photos", type=DATASETS.arg,
                        help="whose model to use: photos is the colour denoiser for pictures of any size")
    parser.add_argument("--model", type=MODELS.arg, help="model name (default: the best for --add-noise's kind, "
                        f"else the all-rounder {ALL_ROUNDER})")
    parser.add_argument("--add-noise", type=parse_noise, metavar="KIND:LEVEL",
                        help="add this noise first, e.g. gaussian:0.1 (default: the inputs are already noisy)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed, for repeatable --add-noise")
    args = parser.parse_args(argv)

    try:
        den = load(args.dataset, args.model, noise=args.add_noise[0] if args.add_noise else None)
    except (FileNotFoundError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path, name in tqdm(find_images(args.inputs), unit="image"):
        try:
            image, note = read_image(path, settings().max_pixels)
        except (ImageError, OSError) as error:
            failures += 1
            tqdm.write(f"skipped {path}: {error}", file=sys.stderr)
            continue
        if note:
            tqdm.write(f"{path}: {note}")
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        if args.add_noise:
            image = add_noise(image, *args.add_noise, seed=args.seed)
            save_png(image, out / f"{name}_noisy.png")
        save_png(den.denoise(image), out / f"{name}.png")
    if failures:
        print(f"{failures} file(s) could not be read.", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
