"""Evaluate trained models and classical baselines on the same noisy test images.

    python -m training.evaluate --images 1000

Prints a Markdown table per dataset (mean per-image PSNR / SSIM and seconds per image)
and writes `results.json`, `results.md` and `psnr_vs_level.png` to `--out`, keeping the
rows of datasets not evaluated this time. With
`--readme README.md` the tables replace the README's generated results section.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from denoiser import inference
from denoiser.baselines import BASELINES, run_baseline
from denoiser.config import settings
from denoiser.datasets import DATASETS, Dataset, load_dataset
from denoiser.metrics import mean_scores
from denoiser.models import BEST, SPECIALISTS
from denoiser.noise import add_noise
from denoiser.weights import read_manifest

Predict = Callable[[np.ndarray], np.ndarray]
GAUSSIAN_LEVELS = (0.1, 0.3, 0.5)
DEFAULT_NOISES = "gaussian:0.1,gaussian:0.3,gaussian:0.5,salt_pepper:0.1,speckle:0.2,poisson:30"
START, END = "<!-- results:start -->", "<!-- results:end -->"

# The project's quality targets (issue #3) for Gaussian sigma: (dataset, sigma) -> (reference, dB),
# met when the app's model reaches reference + dB (strictly above BM3D where dB is 0).
TARGETS = {
    ("mnist", 0.1): ("absolute", 31.0), ("mnist", 0.3): ("absolute", 24.5), ("mnist", 0.5): ("absolute", 21.0),
    ("fashion_mnist", 0.1): ("bm3d", 3.0), ("fashion_mnist", 0.3): ("bm3d", 5.0), ("fashion_mnist", 0.5): ("bm3d", 5.0),
    ("cifar10", 0.1): ("bm3d", 0.0), ("cifar10", 0.3): ("bm3d", 1.5), ("cifar10", 0.5): ("bm3d", 2.0),
}


@dataclass
class Row:
    dataset: str
    method: str
    kind: str  # "model", "baseline" or "input"
    noise: str
    level: float
    psnr: float
    ssim: float
    seconds_per_image: float
    images: int
    params: int | None = None


def score(predict: Predict, clean: np.ndarray, noisy: np.ndarray) -> tuple[dict[str, float], float]:
    """Mean PSNR/SSIM of `predict` on a batch, and its seconds per image."""
    start = time.perf_counter()
    restored = predict(noisy)
    seconds = (time.perf_counter() - start) / len(noisy)
    return mean_scores(clean, restored), seconds


def gaussian_metrics(model, data: Dataset, count: int) -> dict[str, dict[str, float]]:
    """The manifest's metrics for a freshly trained Keras model, noise seed 0.

    Photos are cut to a multiple of 8 pixels (what every U-Net here takes) and run two at a time.
    """
    clean = data.test_images(count)
    batch_size = 256 if data.spec.fixed_size else 2
    if not data.spec.fixed_size:
        clean = clean[:, : clean.shape[1] // 8 * 8, : clean.shape[2] // 8 * 8]
    metrics = {}
    for sigma in data.spec.gaussian_levels:
        noisy = add_noise(clean, "gaussian", sigma, seed=0)
        scores, _ = score(lambda x: model.predict(x, batch_size=batch_size, verbose=0), clean, noisy)
        metrics[f"gaussian_{sigma}"] = {k: round(v, 3) for k, v in scores.items()}
    return metrics


def baseline_predict(name: str, noise: str, level: float) -> Predict:
    sigma = level if noise == "gaussian" else None
    return lambda batch: np.stack([run_baseline(name, image, sigma) for image in batch])


def evaluate_dataset(dataset: str, model_names: list[str], noises: list[tuple[str, float]],
                     baselines: list[str], count: int, ensemble: bool | None = None) -> list[Row]:
    clean = load_dataset(dataset).test_images(count)
    rows = []
    for noise, level in noises:
        noisy = add_noise(clean, noise, level, seed=0)
        methods: list[tuple[str, str, Predict, int | None]] = [("noisy input", "input", lambda x: x, None)]
        for name in model_names:
            den = inference.load(dataset, name)
            predict = functools.partial(den.denoise, ensemble=ensemble)
            methods.append((name, "model", predict, den.model.count_params()))
        methods += [(name, "baseline", baseline_predict(name, noise, level), None) for name in baselines
                    if BASELINES[name].suits(noise, clean.shape[1:3])]
        for method, kind, predict, params in methods:
            scores, seconds = score(predict, clean, noisy)
            rows.append(Row(dataset, method, kind, noise, level, round(scores["psnr"], 3),
                            round(scores["ssim"], 4), round(seconds, 5), count, params))
            print(f"{dataset:14s} {noise}:{level:<5g} {method:18s} {scores['psnr']:6.2f} dB "
                  f"SSIM {scores['ssim']:.3f}  {seconds * 1000:8.2f} ms/img", flush=True)
    return rows


def markdown(rows: list[Row]) -> str:
    """One table per dataset: a row per method, a column per noise, best mean Gaussian PSNR first."""
    parts = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        subset = [r for r in rows if r.dataset == dataset]
        noises = list(dict.fromkeys((r.noise, r.level) for r in subset))
        methods = list(dict.fromkeys(r.method for r in subset))
        cell = {(r.method, r.noise, r.level): r for r in subset}
        ranked = [n for n in noises if n[0] == "gaussian"] or noises  # every method has the Gaussian columns
        methods.sort(key=lambda m: -np.mean([cell[(m, *n)].psnr if (m, *n) in cell else 0.0 for n in ranked]))
        header = ["method", "params"] + [f"{kind} {level:g}" for kind, level in noises] + ["ms / image"]
        lines = [f"### {DATASETS[dataset].title}\n",
                 f"Mean per-image PSNR (dB) / SSIM on the first {subset[0].images} test images, noise seed 0.\n",
                 "| " + " | ".join(header) + " |",
                 "|" + "---|" * len(header)]
        for m in methods:
            row = [cell[(m, *n)] for n in noises if (m, *n) in cell]
            params = f"{row[0].params:,}" if row[0].params else ""
            values = [f"{cell[(m, *n)].psnr:.2f} / {cell[(m, *n)].ssim:.3f}" if (m, *n) in cell else "" for n in noises]
            ms = f"{1000 * np.mean([r.seconds_per_image for r in row]):.2f}"
            lines.append("| " + " | ".join([f"`{m}`" if row[0].kind == "model" else m, params, *values, ms]) + " |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


@dataclass(frozen=True)
class Target:
    """What a model must score for one noise: more than `limit` dB, or at least it where not `strict`."""

    wording: str
    limit: float
    strict: bool

    def met(self, psnr: float) -> bool:
        return psnr > self.limit if self.strict else psnr >= self.limit


def threshold(dataset: str, noise: str, level: float, rows: list[Row]) -> Target | None:
    """The target for one noise: issue #3's for Gaussian, else beating every classical method.

    None when the method it is measured against was not run.
    """
    classical = [r.psnr for r in rows if (r.dataset, r.noise, r.level, r.kind) == (dataset, noise, level, "baseline")]
    bm3d = [r.psnr for r in rows if (r.dataset, r.method, r.noise, r.level) == (dataset, "bm3d", noise, level)]
    reference, gain = TARGETS.get((dataset, level), ("classical", 0.0)) if noise == "gaussian" else ("classical", 0)
    if reference == "absolute":
        return Target(f"≥ {gain:.1f}", gain, strict=False)
    if reference == "bm3d":
        if not bm3d:
            return None
        if gain == 0:
            return Target("> BM3D", bm3d[0], strict=True)
        return Target(f"≥ BM3D + {gain:.1f}", bm3d[0] + gain, strict=False)
    return Target("> best classical", max(classical), strict=True) if classical else None


def targets_markdown(rows: list[Row]) -> str:
    """Per dataset and noise, the model the app picks (`best_model`) against its target."""
    lines = ["### The app's model against the targets\n",
             "For each noise, the model the app uses for it (`denoiser.best_model`). Gaussian targets are the "
             "project's (issue #3); for every other kind the model must beat the best classical method.\n",
             "| dataset | noise | model | PSNR | target | met |",
             "|---|---|---|---|---|---|"]
    for dataset, noise, level in dict.fromkeys((r.dataset, r.noise, r.level) for r in rows):
        name = inference.best_model(dataset, noise)
        model = [r for r in rows if (r.dataset, r.method, r.noise, r.level) == (dataset, name, noise, level)]
        target = threshold(dataset, noise, level, rows)
        score = f"{model[0].psnr:.2f}" if model else "not run"
        goal = f"{target.wording} = {target.limit:.2f}" if target else "its reference was not run"
        met = ("yes" if target.met(model[0].psnr) else "**no**") if model and target else "—"
        lines.append(f"| {DATASETS[dataset].title} | {noise} {level:g} | `{name}` | {score} | {goal} | {met} |")
    return "\n".join(lines) + "\n"


def diagnosis_markdown(folder: Path) -> str:
    """The `training.diagnose` results found in the output folder, as one table."""
    results = [json.loads(p.read_text()) for p in sorted(folder.glob("diagnosis_*.json"))]
    if not results:
        return ""
    lines = ["### Diagnosis: capacity or noise?\n",
             "Each model trained twice with the same budget: on clean inputs (reconstruction) and on noisy ones.\n",
             "| dataset | model | params | steps | clean in → PSNR | noisy (σ) in → PSNR | verdict |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {DATASETS[r['dataset']].title} | `{r['model']}` | {r['params']:,} | {r['steps']} | "
                     f"{r['clean_input']['psnr']:.2f} | ({r['sigma']:g}) {r['noisy_input']['psnr']:.2f} | "
                     f"{r['verdict']} |")
    return "\n".join(lines) + "\n"


def plot(rows: list[Row], path: Path) -> None:
    """PSNR against Gaussian sigma, one panel per dataset: numbers only, no images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gaussian = [r for r in rows if r.noise == "gaussian"]
    datasets = list(dict.fromkeys(r.dataset for r in gaussian))
    if not datasets:
        return
    methods = list(dict.fromkeys(r.method for r in gaussian))
    colours = dict(zip(methods, plt.cm.tab20.colors))  # one colour per method in every panel
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        subset = [r for r in gaussian if r.dataset == dataset]
        for method in dict.fromkeys(r.method for r in subset):
            points = sorted((r.level, r.psnr) for r in subset if r.method == method)
            ax.plot(*zip(*points), marker="o", color=colours[method], label=method,
                    linewidth=3 if method in (BEST, *SPECIALISTS.values()) else 1.2)
        ax.set(title=DATASETS[dataset].title, xlabel="Gaussian noise σ", ylabel="PSNR (dB)")
        ax.grid(alpha=0.3)
    handles = [plt.Line2D([], [], color=colours[m], marker="o", label=m) for m in methods]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(methods), 6), fontsize=8)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def read_results(folder: Path) -> list[Row]:
    """Rows of an earlier run, so evaluating one dataset keeps the others' results."""
    path = folder / "results.json"
    return [Row(**row) for row in json.loads(path.read_text())] if path.is_file() else []


def splice_readme(readme: Path, section: str) -> None:
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} ... {END} markers to replace.")
    head, rest = text.split(START, 1)
    readme.write_text(head + START + "\n" + section + "\n" + END + rest.split(END, 1)[1])


def parse_noises(text: str) -> list[tuple[str, float]]:
    return [(kind, float(level)) for kind, level in (item.split(":") for item in text.split(","))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", help="comma-separated (default: every dataset that has weights)")
    parser.add_argument("--models", help="comma-separated (default: every model with weights)")
    parser.add_argument("--noise", default=DEFAULT_NOISES, help="comma-separated kind:level pairs")
    parser.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated; empty for none")
    parser.add_argument("--images", type=int, default=1000, help="first N test images")
    parser.add_argument("--out", default=str(settings().results_dir),
                        help="folder for results.json/.md and the plot (default: the weights folder's results/)")
    parser.add_argument("--readme", help="README to update between the results markers")
    parser.add_argument("--ensemble", action=argparse.BooleanOptionalAction,
                        help="force the 8-way self-ensemble on or off (default: as the library decides per dataset)")
    args = parser.parse_args(argv)

    entries = read_manifest()
    datasets = args.datasets.split(",") if args.datasets else list(dict.fromkeys(e.dataset for e in entries))
    rows = []
    for dataset in datasets:
        names = [e.model for e in entries if e.dataset == dataset
                 and (not args.models or e.model in args.models.split(","))]
        baselines = [b for b in args.baselines.split(",") if b]
        rows += evaluate_dataset(dataset, names, parse_noises(args.noise), baselines, args.images, args.ensemble)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [r for r in read_results(out) if r.dataset not in datasets] + rows  # other datasets' rows stay
    (out / "results.json").write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    section = targets_markdown(rows) + "\n" + markdown(rows) + "\n" + diagnosis_markdown(out)
    (out / "results.md").write_text(section)
    plot(rows, out / "psnr_vs_level.png")
    print(section)
    if args.readme:
        splice_readme(Path(args.readme), section)


if __name__ == "__main__":
    main()
