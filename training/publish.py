"""Upload `weights/` to a Hugging Face model repository, with a generated model card.

    python -m training.publish --repo you/denoiser-weights --dry-run
    HF_TOKEN=... python -m training.publish --repo you/denoiser-weights

The app then finds any weights missing locally there (set DENOISER_HUB_REPO to the repo).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from denoiser.config import settings
from denoiser.datasets import DATASETS
from denoiser.models import MODELS
from denoiser.weights import MANIFEST, WeightsEntry, WeightsError, read_manifest

CARD = """---
license: mit
library_name: keras
tags: [image-denoising, autoencoder, keras, mnist, fashion-mnist, cifar10]
---

# Denoiser weights

Keras 3 denoising autoencoders trained on MNIST, Fashion-MNIST and CIFAR-10 by the
`training` package of the denoiser project; the Gradio app and `denoiser.load` download
them from here when a file is missing locally.

## Intended use and limits

Removing synthetic noise (Gaussian, salt & pepper, speckle, Poisson) from images like the
training data: 28x28 gray digits and clothes, 32x32 colour photos. `res_unet` works at any
size and the CIFAR-10 one is applied to photos, but it has only seen 32x32 natural images,
so fine textures in large photos are smoothed. Not for medical, forensic or scientific
images, where a denoiser's guesses could be taken for data.

## Models and test metrics

Mean PSNR (dB) / SSIM on the first test images with Gaussian noise of σ, noise seed 0.

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True, help="Hugging Face model repository id, e.g. you/denoiser-weights")
    parser.add_argument("--weights-dir", type=Path, default=settings().weights_dir)
    parser.add_argument("--dry-run", action="store_true", help="print what would be uploaded, upload nothing")
    args = parser.parse_args(argv)

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
    if args.dry_run:
        print("\n" + card)
        return
    from huggingface_hub import HfApi

    api = HfApi()
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
