"""Do a latent model's in-between images look like the data? A classifier's confidence says.

    python -m training.midpoints --datasets mnist,fashion_mnist

For every latent model trained for a dataset (the study's winner, latent_ae, latent_vae, ...)
and every interpolation path (linear, spherical), 1,000 random pairs of test images (seed 0)
are encoded, the point at t = 0.5 of the path between each pair decoded, and the dataset's
classifier (training.classifier) scores it: the mean probability of its top class. A cross-fade
of two digits is no digit, and scores low; real test images give the ceiling.
Writes `midpoints.json` and `midpoints.md` to `--out`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from denoiser import PATHS, inference
from denoiser.config import settings
from denoiser.datasets import DATASETS, load_dataset

from . import classifier

MIDPOINT = 0.5
REAL = "real test images"


def confidence(judge, images: np.ndarray) -> float:
    """Mean top-class probability the classifier gives the images."""
    return float(np.mean(np.max(judge.predict(images, batch_size=256, verbose=0), axis=1)))


def random_pairs(count: int, pool: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` pairs of distinct indices into `pool` images."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, pool, count)
    second = (first + rng.integers(1, pool, count)) % pool  # never the same image twice
    return first, second


def midpoints(ae: inference.Autoencoder, images_a: np.ndarray, images_b: np.ndarray, path: str) -> np.ndarray:
    z_a, z_b = ae.encode(images_a), ae.encode(images_b)
    return np.concatenate([ae.decode_between(a, b, MIDPOINT, path) for a, b in zip(z_a, z_b)])


def measure(dataset: str, pairs: int, weights_dir: Path | None = None) -> list[dict]:
    judge = classifier.load(dataset, weights_dir)
    test = load_dataset(dataset).test_images()
    first, second = random_pairs(pairs, len(test))
    rows = [{"dataset": dataset, "model": REAL, "path": "", "confidence": round(confidence(judge, test[:pairs]), 4)}]
    for model in inference.latent_models(dataset):
        ae = inference.load(dataset, model)
        for path in PATHS:
            score = confidence(judge, midpoints(ae, test[first], test[second], path))
            rows.append({"dataset": dataset, "model": model, "path": path, "confidence": round(score, 4)})
            print(f"{dataset:14s} {model:16s} {path:10s} {score:.3f}", flush=True)
    return rows


def markdown(rows: list[dict], pairs: int) -> str:
    lines = [f"Mean top-class confidence of the dataset's classifier on the midpoints (t = {MIDPOINT}) of {pairs:,} "
             f"random test pairs, and on the first {pairs:,} real test images.\n",
             "| dataset | model | path | confidence |", "|---|---|---|---|"]
    lines += [f"| {DATASETS[r['dataset']].title} | {r['model'] if r['model'] == REAL else '`' + r['model'] + '`'} | "
              f"{r['path'] or '—'} | {r['confidence']:.3f} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="mnist,fashion_mnist", type=DATASETS.args)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--out", default=str(settings().results_dir))
    args = parser.parse_args(argv)
    rows = [row for dataset in args.datasets for row in measure(dataset, args.pairs)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "midpoints.json").write_text(json.dumps(rows, indent=1) + "\n")
    table = markdown(rows, args.pairs)
    (out / "midpoints.md").write_text(table)
    print("\n" + table)


if __name__ == "__main__":
    main()
