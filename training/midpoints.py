"""Do a latent model's in-between images look like the data? Three measures say.

    python -m training.midpoints --datasets mnist,fashion_mnist

For every latent model trained for a dataset (the study's winner, latent_ae, latent_vae, ...),
every interpolation path (linear, spherical) and each number of passes back through the model
(`--passes`: 0, the decoding as it is, and the Latent tab's most), 1,000 random pairs of test
images (seed 0) are encoded and the point at t = 0.5 of the path between each pair decoded. Then:
- `confidence`: the mean probability of the top class of the dataset's classifier
  (training.classifier), the issue's measure. A cross-fade of two digits is no digit and should
  score low; but a classifier is often sure of a cross-fade in which one digit dominates.
  `one_class` and `two_classes` give it apart for the pairs of one class and those of two.
- `fd`: the Fréchet distance of the classifier's pooled features from those of the first 1,000
  test images, the reference (training.realism): how far the midpoints' statistics are from real ones.
- `hf_ratio`: their high-frequency energy over the reference's: below 1 is blurrier than real.
The next 1,000 test images, scored the same way, are the real row: the ceiling for confidence,
the floor for FD, an HF ratio near 1. The pairs come from the test images after those two sets.
Writes `midpoints.json` and `midpoints.md` to `--out`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from denoiser import PATHS, inference
from denoiser.config import MIDPOINTS, settings
from denoiser.datasets import DATASETS, load_dataset
from denoiser.interpolation import MAX_PASSES, whole_passes

from . import classifier, realism

MIDPOINT = 0.5
DEFAULT_PAIRS = 1000
REAL = "real test images"


def confidence(probabilities: np.ndarray) -> float:
    """Mean top-class probability: how sure the classifier is, whichever class it picks."""
    return float(np.mean(np.max(probabilities, axis=1)))


def scores(judge: realism.Judge, images: np.ndarray, one_class: np.ndarray | None = None) -> dict[str, float]:
    """The classifier's confidence in the images, their FD from the judge's real images and their sharpness.

    Given which midpoints join two images of one class (`one_class`), the confidence is also split in two:
    halfway between two 4s a good model draws a clear digit, while halfway between a 4 and a 9 even a
    sharp, real-looking digit may be neither, so the second figure is where a latent space shows its shape."""
    features, probabilities = judge.judge(images)
    row = {"confidence": round(confidence(probabilities), 4),
           "fd": round(realism.frechet_distance(features, judge.clean_features), 4),
           "hf_ratio": round(realism.high_frequency_ratio(images, judge.clean), 3)}
    if one_class is not None:
        row["one_class"] = round(confidence(probabilities[one_class]), 4)
        row["two_classes"] = round(confidence(probabilities[~one_class]), 4)
    return row


def random_pairs(count: int, pool: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` pairs of distinct indices into `pool` images."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, pool, count)
    second = (first + rng.integers(1, pool, count)) % pool  # never the same image twice
    return first, second


def test_pairs(pairs: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs `measure` judges among `count` test images: from those after its two real sets of `pairs`."""
    return tuple(2 * pairs + index for index in random_pairs(pairs, count - 2 * pairs))


def midpoints(ae: inference.Autoencoder, images_a: np.ndarray, images_b: np.ndarray, path: str,
              passes: int = 0) -> np.ndarray:
    z_a, z_b = ae.encode(images_a), ae.encode(images_b)
    return ae.project(np.concatenate([ae.decode_between(a, b, MIDPOINT, path) for a, b in zip(z_a, z_b)]), passes)


def measure(dataset: str, pairs: int, passes: list[int], weights_dir: Path | None = None) -> list[dict]:
    classifier.require(dataset, weights_dir)
    data = load_dataset(dataset)
    test = data.test_images()
    if len(test) < 2 * pairs + 2:
        raise ValueError(f"{dataset} has {len(test)} test images; {pairs} pairs need over {2 * pairs}: two real "
                         "sets, and images to pair apart from them.")
    judge = realism.judge_for(dataset, test[:pairs], data.y_test[:pairs], weights_dir)
    first, second = test_pairs(pairs, len(test))
    rows = [{"dataset": dataset, "model": REAL, "path": "", "passes": None, **scores(judge, test[pairs : 2 * pairs])}]
    one_class = data.y_test[first] == data.y_test[second]
    for model in inference.latent_models(dataset):
        ae = inference.load(dataset, model)
        for path in PATHS:
            for count in passes:
                rows.append({"dataset": dataset, "model": model, "path": path, "passes": count,
                             **scores(judge, midpoints(ae, test[first], test[second], path, count), one_class)})
                print(f"{dataset:14s} {model:16s} {path:10s} {count} {rows[-1]}", flush=True)
    return rows


def cell(row: dict, key: str) -> str:
    """A confidence for the table; the real images' row has no pairs to split."""
    return f"{row[key]:.3f}" if key in row else "—"


def markdown(rows: list[dict], pairs: int) -> str:
    lines = [f"The dataset's classifier on the midpoints (t = {MIDPOINT}) of {pairs:,} random test pairs, and on "
             f"{pairs:,} real test images: its mean top-class confidence (higher: surer of a class), the Fréchet "
             f"distance of its pooled features from another {pairs:,} real test images' (lower: more like them; the "
             f"real row is the floor) and the high-frequency energy over theirs (below 1: blurrier). The confidence "
             f"is also given apart for the pairs of two images of one class and for those of two classes. Passes: "
             f"how often each midpoint went back through the model (encoded and decoded) before it was judged.\n",
             "| dataset | model | path | passes | confidence | one class | two classes | FD to real | HF ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {DATASETS[r['dataset']].title} | {r['model'] if r['model'] == REAL else '`' + r['model'] + '`'} | "
              f"{r['path'] or '—'} | {'—' if r['passes'] is None else r['passes']} | {r['confidence']:.3f} | "
              f"{cell(r, 'one_class')} | {cell(r, 'two_classes')} | {r['fd']:.3f} | {r['hf_ratio']:.2f} |"
              for r in rows]
    return "\n".join(lines) + "\n"


def passes_list(text: str) -> list[int]:
    """`--passes`: distinct whole numbers, in order."""
    try:
        return sorted({whole_passes(float(item)) for item in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated whole numbers from 0 to {MAX_PASSES}.") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="mnist,fashion_mnist", type=DATASETS.args)
    parser.add_argument("--pairs", type=int, default=DEFAULT_PAIRS)
    parser.add_argument("--passes", default=f"0,{MAX_PASSES}", type=passes_list,
                        help="comma-separated numbers of passes back through the model (default: %(default)s)")
    parser.add_argument("--out", default=str(settings().results_dir))
    args = parser.parse_args(argv)
    rows = [row for dataset in args.datasets for row in measure(dataset, args.pairs, args.passes)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{MIDPOINTS}.json").write_text(json.dumps(rows, indent=1) + "\n")
    table = markdown(rows, args.pairs)
    (out / f"{MIDPOINTS}.md").write_text(table)
    print("\n" + table)


if __name__ == "__main__":
    main()
