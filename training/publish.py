"""Publish to the Hugging Face Hub: the weights to a model repository, or the app to a Gradio Space.

    python -m training.publish --repo you/denoiser-weights --dry-run      # weights, with a model card
    HF_TOKEN=... python -m training.publish --repo you/denoiser-weights
    python -m training.publish --space you/the-denoiser --dry-run         # the app: every file and its place
    HF_TOKEN=... python -m training.publish --space you/the-denoiser
    HF_TOKEN=... python -m training.publish --space you/the-denoiser --without-weights

Uploads go through the Hub's upload API, which stores binary files with Xet, so no git-lfs is
needed. A Space published --without-weights gets its weights from the model repository
(DENOISER_HUB_REPO, set as a Space variable), where the app finds any file missing locally.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from denoiser.config import PROJECT_ROOT, settings
from denoiser.datasets import DATASETS
from denoiser.models import MODELS
from denoiser.weights import MANIFEST, WeightsEntry, WeightsError, read_manifest

CARD = """---
license: mit
library_name: keras
tags: [image-denoising, autoencoder, keras, mnist, fashion-mnist, cifar10]
---

# Denoiser weights

Keras 3 denoising autoencoders trained on MNIST, Fashion-MNIST, CIFAR-10 and natural photos
by the `training` package of the denoiser project; the Gradio app and `denoiser.load` download
them from here when a file is missing locally.

## Intended use and limits

Removing synthetic noise (Gaussian, salt & pepper, speckle, Poisson) from images like the
training data: 28x28 gray digits and clothes, 32x32 colour photos, and colour photos of any
size (`photos/res_unet_gaussian` and `photos/res_unet`: CIFAR-10's Gaussian specialist and
all-rounder, fine-tuned on 96x96 patches of the 380 BSDS500 training photos, which are not
redistributed). `res_unet_gan` (Sharp) trades PSNR for texture that looks real: its details
are plausible, not recovered. Not for medical, forensic or scientific images, where a
denoiser's guesses could be taken for data.

## Models and test metrics

Mean PSNR (dB) / SSIM with Gaussian noise of σ, noise seed 0, on the first test images (for
photos, the validation photos, cut to the network's size multiple).

{tables}

## Training settings

Each file is rebuilt by its command (run from the project root with `DENOISER_DATA_DIR` set):

{commands}
"""


def metrics_table(dataset: str, entries: list[WeightsEntry]) -> str:
    """One dataset's models, a column per Gaussian level it is scored at (DatasetSpec.gaussian_levels)."""
    levels = DATASETS[dataset].gaussian_levels
    lines = [f"### {DATASETS[dataset].title}\n",
             "| model | parameters | epochs | training time | " + " | ".join(f"σ={s:g}" for s in levels) + " |",
             "|---|---|---|---|" + "---|" * len(levels)]
    for e in entries:
        cells = [f"{m['psnr']:.2f} / {m['ssim']:.3f}" if (m := e.gaussian(s)) else "" for s in levels]
        lines.append(f"| `{e.model}` ({MODELS[e.model].title}) | {e.params:,} | {e.epochs} | "
                     f"{e.train_seconds / 60:.1f} min | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def model_card(entries: list[WeightsEntry]) -> str:
    datasets = dict.fromkeys(e.dataset for e in entries)
    tables = "\n\n".join(metrics_table(d, [e for e in entries if e.dataset == d]) for d in datasets)
    commands = "\n".join(f"- `{e.file}`: `{e.command}`" for e in entries)
    return CARD.format(tables=tables, commands=commands)


def upload_plan(weights_dir: Path) -> list[Path]:
    """The files that go up: every manifest entry's weights, the manifest and the results."""
    entries = read_manifest(weights_dir)
    missing = [e.file for e in entries if not e.path(weights_dir).is_file()]
    if missing:
        raise WeightsError(f"Manifest entries without a weights file: {', '.join(missing)}")
    results = sorted((weights_dir / "results").glob("*")) if (weights_dir / "results").is_dir() else []
    return [e.path(weights_dir) for e in entries] + [weights_dir / MANIFEST] + results


# What a Space runs: the app, the library with its built-in samples, and the weights with their results.
SPACE_FILES = ("app.py", "requirements.txt", "README.md", "denoiser/**/*.py", "denoiser/data/*",
               "weights/manifest.json", "weights/results/*")
SPACE_WEIGHTS = "weights/*/*.keras"
HUB_REPO_VARIABLE = "DENOISER_HUB_REPO"  # the setting the app reads (denoiser/config.py)


@dataclass(frozen=True)
class SpacePlan:
    files: list[str]  # paths relative to the project root, and in the Space
    variables: dict[str, str]  # Space variables (the app's environment) to set


def space_plan(root: Path, with_weights: bool, weights_repo: str) -> SpacePlan:
    """The files a Space needs; without weights, the variable that points the app at the model repository."""
    patterns = [*SPACE_FILES, SPACE_WEIGHTS] if with_weights else SPACE_FILES
    files = sorted({str(path.relative_to(root)) for pattern in patterns for path in root.glob(pattern)
                    if path.is_file() and "__pycache__" not in path.parts})
    missing = [pattern for pattern in patterns if not any(root.glob(pattern))]
    if missing:
        raise SystemExit(f"Nothing in {root} matches {', '.join(missing)}: is this the project's root?")
    return SpacePlan(files, {} if with_weights else {HUB_REPO_VARIABLE: weights_repo})


def hub_api():
    """An authenticated HfApi, or a clear reason why there is none."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise SystemExit("HF_HUB_OFFLINE is set, so nothing can be uploaded; unset it, or use --dry-run.")
    from huggingface_hub import HfApi, get_token

    if not get_token():
        raise SystemExit("No Hugging Face token: set HF_TOKEN to a token with write access "
                         "(https://huggingface.co/settings/tokens), or log in with `hf auth login`.")
    return HfApi()


def publish_space(api, space: str, plan: SpacePlan, root: Path) -> None:
    """Create the Space (Gradio SDK) if needed and upload the plan's files in one commit."""
    try:
        api.create_repo(space, repo_type="space", space_sdk="gradio", exist_ok=True)
        for key, value in plan.variables.items():
            api.add_space_variable(space, key, value)
        api.upload_folder(repo_id=space, repo_type="space", folder_path=str(root), allow_patterns=plan.files,
                          commit_message="Publish the denoiser app")
    except Exception as error:  # offline, refused token, missing rights: the Hub's own words say which
        raise SystemExit(f"Publishing to the Space {space} failed ({type(error).__name__}: {error}).") from None
    print(f"Done: https://huggingface.co/spaces/{space}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--repo", help="Hugging Face model repository for the weights, e.g. you/denoiser-weights")
    target.add_argument("--space", help="Hugging Face Space for the app, e.g. you/the-denoiser")
    parser.add_argument("--weights-dir", type=Path, default=settings().weights_dir, help="--repo: what to upload")
    parser.add_argument("--without-weights", action="store_true",
                        help="--space: leave the .keras files out; the Space downloads them from --weights-repo")
    parser.add_argument("--weights-repo", default=settings().hub_repo,
                        help=f"--space --without-weights: the model repository (default: {HUB_REPO_VARIABLE})")
    parser.add_argument("--dry-run", action="store_true", help="print what would be uploaded, upload nothing")
    args = parser.parse_args(argv)
    api = None if args.dry_run else hub_api()  # no token or offline: say so before anything else
    if args.space:
        plan = space_plan(PROJECT_ROOT, not args.without_weights, args.weights_repo)
        total = sum((PROJECT_ROOT / name).stat().st_size for name in plan.files)
        print(f"{'Would upload' if args.dry_run else 'Uploading'} to the Space {args.space} (Gradio SDK): "
              f"{len(plan.files)} files, {total / 2**20:.1f} MiB")
        for name in plan.files:
            print(f"  {name}  ->  spaces/{args.space}/{name}")
        for key, value in plan.variables.items():
            print(f"  Space variable {key}={value}: the weights come from https://huggingface.co/{value}")
        if api:
            publish_space(api, args.space, plan, PROJECT_ROOT)
        return

    try:
        files = upload_plan(args.weights_dir)
    except WeightsError as error:
        parser.exit(2, f"error: {error}\n")
    card = model_card(read_manifest(args.weights_dir))
    total = sum(f.stat().st_size for f in files)
    print(f"{'Would upload' if args.dry_run else 'Uploading'} to {args.repo}: {len(files)} files, "
          f"{total / 2**20:.1f} MiB, and README.md (model card)")
    for path in files:
        print(f"  {path.relative_to(args.weights_dir)}  ({path.stat().st_size / 2**20:.2f} MiB)")
    if not api:
        print("\n" + card)
        return
    api.create_repo(args.repo, repo_type="model", exist_ok=True)
    card_path = args.weights_dir / "README.md"
    card_path.write_text(card)
    try:
        api.upload_folder(repo_id=args.repo, folder_path=str(args.weights_dir),
                          allow_patterns=[str(f.relative_to(args.weights_dir)) for f in files] + ["README.md"],
                          commit_message="Upload denoiser weights")
    finally:
        card_path.unlink()
    print(f"Done: https://huggingface.co/{args.repo}")


if __name__ == "__main__":
    main()
