"""Denoise image files from the command line.

    python -m denoiser photos/ scan.png --out clean/
    python -m denoiser digit.png --dataset mnist --add-noise gaussian:0.3 --out demo/

Folders are searched recursively for images by their suffix (not inside --out); a file named
here is read whatever its suffix. Each result is written as
DIR/<name>.png, keeping the subfolders of a folder given as input; with --add-noise the noisy
input is written beside it as <name>_noisy.png. No result overwrites another or an input:
inputs that share a name keep their suffix in it (x.jpg.png and x.png.png), a name still taken
gets a number (x-2.png), and an --out that would replace an input or is an input folder is
refused. A result already in --out is kept and only the missing ones are written, so a rerun
goes on where one stopped (--overwrite replaces them). Files that cannot be read or written are
reported and skipped; the exit status is 1 if any file failed or none was found.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from . import Denoiser, ResizedWarning, __version__, add_noise, load
from .config import settings
from .datasets import DATASETS
from .files import write_whole
from .imaging import FORMATS, ImageError, is_high_depth, read_image, save_png
from .models import ALL_ROUNDER, MODELS
from .noise import parse_noise, parse_seed

OWN_MODELS = [name for name, spec in DATASETS.items() if not spec.evaluation_only]  # the datasets --help names
IMAGE_SUFFIXES = {suffix for suffix, kind in Image.registered_extensions().items() if kind in FORMATS}  # searched for


def resolved(path: Path) -> Path:
    """The absolute path with links followed, or as it is where they loop (read_image reports those)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


@dataclass
class Found:
    """What the inputs hold: (file, output name without suffix) for files as given and image files under folders,
    in a stable order; the image files under --out that a folder holds, left out (they may be earlier results);
    and the suffixes of the other files under folders. Hidden files and folders under folders are passed over."""

    named: list[tuple[Path, Path]] = field(default_factory=list)
    inside_out: list[Path] = field(default_factory=list)
    other_suffixes: Counter = field(default_factory=Counter)


def find_images(inputs: list[str], out: Path) -> Found:
    """The images of `inputs` (files, or folders searched recursively); names keep the subfolders below a folder."""
    out = resolved(out)
    found = Found()
    for item in map(Path, inputs):
        if not item.is_dir():
            found.named.append((item, Path(item.stem)))
            continue
        inner_out = resolved(item) in out.parents  # an --out that is the folder itself is refused later
        for path in sorted(p for p in item.rglob("*") if not p.is_dir()):  # a folder named x.jpg is searched
            relative, image = path.relative_to(item), path.suffix.lower() in IMAGE_SUFFIXES
            if any(part.startswith(".") for part in relative.parts):  # hidden: a .git folder, a Mac's ._x.jpg
                continue
            inside_out = inner_out and out in resolved(path).parents
            if image and inside_out:
                found.inside_out.append(path)
            elif image:
                found.named.append((path, relative.with_suffix("")))
            elif not inside_out:
                found.other_suffixes[path.suffix.lower() or "no suffix"] += 1
    return found


def denoised_file(name: Path) -> Path:
    return Path(f"{name}.png")


def noisy_file(name: Path) -> Path:
    return Path(f"{name}_noisy.png")


def results(name: Path, noisy: bool) -> set[Path]:
    """The files written for one input: its result and, with --add-noise, its noisy copy."""
    return {denoised_file(name)} | ({noisy_file(name)} if noisy else set())


def unique_names(found: list[tuple[Path, Path]], noisy: bool) -> list[tuple[Path, Path]]:
    """Output names that no two inputs share: a name several inputs would take keeps each one's suffix
    (x.jpg.png, x.png.png), and a name still taken, by another input's result or noisy copy, gets a number."""
    counts = Counter(name for _, name in found)
    taken: set[Path] = set()
    named = []
    for path, name in found:
        base = name.with_name(path.name) if counts[name] > 1 else name
        name, number = base, 1
        while results(name, noisy) & taken:
            number += 1
            name = base.with_name(f"{base.name}-{number}")
        taken |= results(name, noisy)
        named.append((path, name))
    return named


def overwritten_input(named: list[tuple[Path, Path]], out: Path, noisy: bool) -> Path | None:
    """The first input that writing the results to `out` would replace, if any."""
    inputs = {resolved(path): path for path, _ in named}
    written = (resolved(Path(out, result)) for _, name in named for result in results(name, noisy))
    return next((inputs[path] for path in written if path in inputs), None)


def input_folder_at(inputs: list[str], out: Path) -> str | None:
    """The input folder that `out` is, if any: results written there would be read as inputs on a rerun."""
    return next((item for item in inputs if Path(item).is_dir() and resolved(Path(item)) == resolved(out)), None)


def save(image, path: Path, high_depth: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, lambda partial: save_png(image, partial, high_depth))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m denoiser", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"denoiser {__version__}")
    parser.add_argument("inputs", nargs="+", metavar="IN", help="image files or folders of images")
    parser.add_argument("--out", required=True, help="folder for the denoised PNGs (created if missing)")
    parser.add_argument("--dataset", default="photos", type=DATASETS.arg,
                        help=f"whose model to use, one of {', '.join(OWN_MODELS)} (default: photos, the colour "
                        "denoiser for pictures of any size)")
    parser.add_argument("--model", type=MODELS.arg, help="model name (default: the best for --add-noise's kind, "
                        f"else the all-rounder {ALL_ROUNDER})")
    parser.add_argument("--add-noise", type=parse_noise, metavar="KIND:LEVEL",
                        help="add this noise first, e.g. gaussian:0.1 (default: the inputs are already noisy)")
    parser.add_argument("--seed", type=parse_seed, default=0, help="noise seed, for repeatable --add-noise "
                        "(default: 0)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace results already in --out (default: keep them and skip their inputs)")
    return parser


def unwritable(inputs: list[str], named: list[tuple[Path, Path]], out: Path, noisy: bool) -> str | None:
    """Why results must not be written to `out`, if they must not: it would replace or become an input."""
    if victim := overwritten_input(named, out, noisy):
        return f"writing to {out} would replace the input {victim}; choose another --out folder."
    if folder := input_folder_at(inputs, out):
        return (f"--out is the input folder {folder}: a rerun would take its results for inputs; "
                "choose another --out folder.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"cannot write to --out {out}: {error.strerror or error}"
    return None


def denoise_file(path: Path, name: Path, den: Denoiser, args: argparse.Namespace, missing: set[Path]) -> str | None:
    """Write one input's `missing` results into --out; the line that says why not, if it could not."""
    try:
        image, note = read_image(path, settings().max_pixels)
    except (ImageError, OSError) as error:
        return f"skipped {path}: {error}"
    for line in (note, den.resize_note(image.shape[:2])):
        if line:
            tqdm.write(f"{path}: {line}", file=sys.stderr)
    out, high_depth = Path(args.out), is_high_depth(path)  # a 16-bit scan's result is written in 16 bits
    try:
        if args.add_noise:  # the same seed draws the same noise: a kept noisy copy of ours is this one
            image = add_noise(image, *args.add_noise, seed=args.seed)
            if noisy_file(name) in missing:
                save(image, out / noisy_file(name), high_depth)
        if denoised_file(name) in missing:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResizedWarning)  # its note is written above, with the file's name
                save(den.denoise(image), out / denoised_file(name), high_depth)
    except OSError as error:
        return f"could not write the result of {path}: {error}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return denoise_all(args, parser)
    except KeyboardInterrupt:  # no half-written file is left (write_whole)
        again = "the same command without --overwrite" if args.overwrite else "the same command again"
        print(f"Stopped: every result written so far is whole; run {again} to go on where it stopped.",
              file=sys.stderr)
        return 130


def denoise_all(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The command's work; the exit status."""
    if not args.out.strip():
        parser.error("--out needs a folder name (an empty one would write into the current folder)")
    try:
        den = load(args.dataset, args.model, noise=args.add_noise[0] if args.add_noise else None)
    except (FileNotFoundError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    out, noisy = Path(args.out), bool(args.add_noise)
    found = find_images(args.inputs, out)
    named = unique_names(found.named, noisy)
    ours = {resolved(out / result) for _, name in named for result in results(name, noisy)}
    if found.other_suffixes:
        print(f"Left out {found.other_suffixes.total()} file(s) that are not images by their suffix ("
              f"{', '.join(f'{suffix}: {n}' for suffix, n in sorted(found.other_suffixes.items()))}).",
              file=sys.stderr)
    if others := [path for path in found.inside_out if resolved(path) not in ours]:
        print(f"Left out {len(others)} image(s) inside --out {out}, such as {others[0]}: results go there, so "
              "nothing in it is read as input. Choose an --out outside the input folders to denoise them.",
              file=sys.stderr)
    if not named:
        print(f"No images found in {' '.join(args.inputs)}.", file=sys.stderr)
        return 1
    if reason := unwritable(args.inputs, named, out, noisy):
        parser.exit(2, f"error: {reason}\n")
    print(f"Denoising {len(named)} image(s) with {den.entry.dataset}/{den.name}"
          f"{f' after adding {args.add_noise[0]} noise at {args.add_noise[1]:g}' if noisy else ''} into {out}.",
          file=sys.stderr)
    failures = kept = 0
    for path, name in tqdm(named, unit="image"):
        wanted = results(name, noisy)
        there = set() if args.overwrite else {f for f in wanted if os.path.lexists(out / f)}
        if there:
            kept += 1
            tqdm.write(f"kept {', '.join(str(out / f) for f in sorted(there))}: already there (--overwrite "
                       "replaces it)", file=sys.stderr)
        if there != wanted and (failure := denoise_file(path, name, den, args, wanted - there)):
            failures += 1
            tqdm.write(failure, file=sys.stderr)
    if kept:
        print(f"{kept} input(s) had results already in {out}: kept, and only the missing ones written.",
              file=sys.stderr)
    if failures:
        print(f"{failures} file(s) could not be read or written.", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
