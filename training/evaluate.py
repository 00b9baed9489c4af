"""Evaluate trained models and classical baselines on the same noisy test images.

    python -m training.evaluate --images 1000

Prints a Markdown table per dataset (mean per-image PSNR / SSIM and seconds per image)
and writes `results.json`, `results.md` and `psnr_vs_level.png` to `--out`. Rows are
merged by (dataset, method, noise, level): evaluating a subset replaces only what it
measured again. With `--readme README.md` the tables replace the README's generated
results section. Scoring is `training.scoring`, the targets `training.targets`, the
tables and plot `training.reporting`.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

from denoiser import inference
from denoiser.baselines import BASELINES, known_sigma, run_baseline
from denoiser.config import RESULTS_PLOT, RESULTS_TABLE, settings
from denoiser.datasets import DATASETS, load_dataset
from denoiser.metrics import mean_scores
from denoiser.models import MODELS
from denoiser.noise import add_noise, parse_noises
from denoiser.weights import read_manifest

from .realism import judge_for
from .reporting import check_readme, plot, section, splice_readme
from .results import CLEAN, REFERENCE, Row, merge, model_method, read_results, write_results
from .scoring import Images, Predict, Restore, timed
from .targets import protocol_noises


def baseline_predict(name: str, noise: str, level: float) -> Predict:
    sigma = known_sigma(noise, level)
    return lambda batch: np.stack([run_baseline(name, image, sigma) for image in batch])


def noisy_copies(clean: Images, noise: str, level: float, per_image: bool) -> Images:
    """The protocol's noisy images: one seed (0) for a batch of small images; for photos the
    seed is each image's index, so that one photo's noise does not depend on how many are scored.
    A list of images of differing sizes gives a list."""
    if not per_image:
        return add_noise(clean, noise, level, seed=0)
    noisy = [add_noise(image, noise, level, seed=index) for index, image in enumerate(clean)]
    return noisy if isinstance(clean, list) else np.stack(noisy)


def for_images(predict: Predict, images: Images) -> Restore:
    """`predict` fitted to the images: a batch goes through whole, a list of differing sizes one image at a time."""
    if isinstance(images, list):
        return lambda batch: [predict(image[None])[0] for image in batch]
    return predict


def servable(dataset: str, wanted: list[str] | None) -> dict[str, str]:
    """The models to evaluate on a dataset -> whose weights they run; a dataset of any image size
    (photos) takes only the fully convolutional ones, which see the whole image."""
    any_size = not DATASETS[dataset].fixed_size
    return {model: owner for model, owner in inference.trained_models(dataset).items()
            if (not wanted or model in wanted) and not (any_size and not MODELS[model].fully_convolutional)}


def evaluate_dataset(dataset: str, models: dict[str, str], noises: list[tuple[str, float]],
                     baselines: list[str], count: int, ensemble: bool | None = None) -> list[Row]:
    data = load_dataset(dataset)
    clean = data.test_images(count)
    count = len(clean)
    judge = judge_for(dataset, clean, data.y_test[:count])
    rows = []
    for noise, level in noises:
        noisy = noisy_copies(clean, noise, level, per_image=not DATASETS[dataset].fixed_size)
        methods: list[tuple[str, str, Restore, int | None]] = [(CLEAN, REFERENCE, lambda _: clean, None),
                                                               ("noisy input", "input", lambda x: x, None)]
        for name, owner in models.items():
            den = inference.load(dataset, name)
            predict = functools.partial(den.denoise, ensemble=ensemble)
            methods.append((model_method(dataset, name, owner), "model", for_images(predict, clean),
                            den.model.count_params()))
        methods += [(name, "baseline", for_images(baseline_predict(name, noise, level), clean), None)
                    for name in baselines if all(BASELINES[name].applies(noise, image.shape[:2]) for image in clean)]
        for method, method_type, predict, params in methods:
            restored, seconds = timed(predict, noisy)
            scores, realism = mean_scores(clean, restored), judge.measure(restored)
            rows.append(Row(dataset, method, method_type, noise, level, round(scores["psnr"], 3),
                            round(scores["ssim"], 4), round(seconds, 5), count, params,
                            **{name: round(value, 6) for name, value in realism.items()}))
            print(f"{dataset:14s} {noise}:{level:<5g} {method:18s} {scores['psnr']:6.2f} dB "
                  f"SSIM {scores['ssim']:.3f}  {seconds * 1000:8.2f} ms/img  "
                  + "  ".join(f"{name} {value:.4f}" for name, value in realism.items()), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=DATASETS.args, help="comma-separated (default: every dataset with weights)")
    parser.add_argument("--models", type=MODELS.args, help="comma-separated (default: every model with weights)")
    parser.add_argument("--noises", type=parse_noises, metavar="KIND:LEVEL,...",
                        help="comma-separated pairs (default: each dataset's protocol, training.targets)")
    parser.add_argument("--baselines", type=BASELINES.args, default=list(BASELINES),
                        help="comma-separated; empty for none (default: all)")
    parser.add_argument("--images", type=int, default=1000, help="first N test images")
    parser.add_argument("--out", type=Path, default=settings().results_dir,
                        help="folder for results.json/.md and the plot (default: the weights folder's results/)")
    parser.add_argument("--readme", type=Path, help="README to update between the results markers")
    parser.add_argument("--ensemble", action=argparse.BooleanOptionalAction,
                        help="force the 8-way self-ensemble on or off (default: as the library decides per dataset)")
    args = parser.parse_args(argv)

    if args.images < 2:
        parser.error(f"--images {args.images}: at least 2 (the Fréchet distance fits a covariance to them).")
    trained = {(e.dataset, e.model) for e in read_manifest()}
    datasets = args.datasets or list(dict.fromkeys(dataset for dataset, _ in sorted(trained)))
    if not datasets:
        parser.error(f"no trained weights in {settings().weights_dir} (DENOISER_WEIGHTS_DIR): name --datasets to "
                     "score the classical baselines alone.")
    for dataset in datasets:
        if not servable(dataset, args.models):
            print(f"{dataset}: no trained model to score; only the noisy input and the baselines.", file=sys.stderr)
    missing = [f"{d}/{m}" for d in datasets for m in args.models or [] if m not in servable(d, [m])]
    if missing:
        parser.error(f"--models: no trained weights for {', '.join(missing)}.")
    if args.readme:
        try:
            check_readme(args.readme)
        except (OSError, ValueError) as error:
            parser.error(f"--readme: {error}")
    rows = []
    for dataset in datasets:
        noises = args.noises or protocol_noises(dataset)
        rows += evaluate_dataset(dataset, servable(dataset, args.models), noises, args.baselines, args.images,
                                 args.ensemble)

    rows = merge(read_results(args.out), rows)
    write_results(args.out, rows)
    text = section(rows, args.out)
    (args.out / RESULTS_TABLE).write_text(text)
    plot(rows, args.out / RESULTS_PLOT)
    print(text)
    if args.readme:
        splice_readme(args.readme, text)

if __name__ == "__main__":
    main()
