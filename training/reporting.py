"""Reporting: the evaluation's Markdown tables, its plot, and splicing them into the README.

Reads rows (`training.results`) and targets (`training.targets`); measures nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from denoiser import inference
from denoiser.config import DIAGNOSIS
from denoiser.datasets import DATASETS
from denoiser.models import ALL_ROUNDER, SHARP, SPECIALISTS
from denoiser.noise import GAUSSIAN

from .results import REFERENCE, Row, model_method
from .targets import SHARP_GOALS, threshold

START, END = "<!-- results:start -->", "<!-- results:end -->"


def results_markdown(rows: list[Row]) -> str:
    """One table per dataset: a row per method, a column per noise, best mean Gaussian PSNR first."""
    rows = [r for r in rows if r.method_type != REFERENCE]
    parts = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        subset = [r for r in rows if r.dataset == dataset]
        noises = list(dict.fromkeys((r.noise, r.level) for r in subset))
        methods = list(dict.fromkeys(r.method for r in subset))
        cell = {(r.method, r.noise, r.level): r for r in subset}
        ranked = [n for n in noises if n[0] == GAUSSIAN] or noises  # every method has the Gaussian columns
        methods.sort(key=lambda m: -np.mean([cell[(m, *n)].psnr if (m, *n) in cell else 0.0 for n in ranked]))
        header = ["method", "params"] + [f"{kind} {level:g}" for kind, level in noises] + ["ms / image"]
        counts = " or ".join(str(n) for n in sorted({r.images for r in subset}))
        lines = [f"### {DATASETS[dataset].title}\n",
                 f"Mean per-image PSNR (dB) / SSIM on the first {counts} test images, "
                 f"{'noise seed 0' if DATASETS[dataset].fixed_size else 'whole images, noise seed = the image index'}"
                 ".\n",
                 "| " + " | ".join(header) + " |",
                 "|" + "---|" * len(header)]
        for m in methods:
            row = [cell[(m, *n)] for n in noises if (m, *n) in cell]
            params = f"{row[0].params:,}" if row[0].params else ""
            values = [f"{cell[(m, *n)].psnr:.2f} / {cell[(m, *n)].ssim:.3f}" if (m, *n) in cell else "" for n in noises]
            ms = f"{1000 * np.mean([r.seconds_per_image for r in row]):.2f}"
            name = f"`{m}`" if row[0].method_type == "model" else m
            lines.append("| " + " | ".join([name, params, *values, ms]) + " |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def targets_markdown(rows: list[Row]) -> str:
    """Per dataset and noise, the model the app picks (`best_model`) against its target."""
    lines = ["### The app's model against the targets\n",
             "For each noise, the model the app uses for it (`denoiser.best_model`). Gaussian targets are the "
             "project's (issues #3 and, for photos, #10); for every other kind the model must beat the best classical "
             "method.\n",
             "| dataset | noise | model | PSNR | target | met |",
             "|---|---|---|---|---|---|"]
    for dataset, noise, level in dict.fromkeys((r.dataset, r.noise, r.level) for r in rows):
        best = inference.best_model(dataset, noise)
        name = model_method(dataset, best, inference.trained_models(dataset).get(best, dataset))
        model = [r for r in rows if (r.dataset, r.method, r.noise, r.level) == (dataset, name, noise, level)]
        target = threshold(dataset, noise, level, rows)
        score = f"{model[0].psnr:.2f}" if model else "not run"
        goal = f"{target.wording} = {target.limit:.2f}" if target else "its reference was not run"
        met = ("yes" if target.met(model[0].psnr) else "**no**") if model and target else "—"
        lines.append(f"| {DATASETS[dataset].title} | {noise} {level:g} | `{name}` | {score} | {goal} | {met} |")
    return "\n".join(lines) + "\n"


def realism_cell(row: Row) -> str:
    if row.fd is None:
        return "" if row.hf_ratio is None else f"{row.hf_ratio:.2f}"
    return f"{100 * row.accuracy:.1f}% / {row.fd:.4f} / {row.hf_ratio:.2f}"


def realism_markdown(rows: list[Row]) -> str:
    """Per dataset, the realism measures (training.realism) of every method, the clean images first."""
    parts = []
    for dataset in dict.fromkeys(r.dataset for r in rows if r.hf_ratio is not None):
        subset = [r for r in rows if r.dataset == dataset and r.hf_ratio is not None]
        noises = list(dict.fromkeys((r.noise, r.level) for r in subset))
        cell = {(r.method, r.noise, r.level): r for r in subset}
        methods = sorted(dict.fromkeys(r.method for r in subset),
                         key=lambda m: next(r.method_type != REFERENCE for r in subset if r.method == m))
        judged = any(r.fd is not None for r in subset)
        what = ("classifier accuracy / Fréchet distance of its features to the clean images' / high-frequency "
                "energy over the clean images'" if judged else "high-frequency energy over the clean images'")
        lines = [f"### {DATASETS[dataset].title}: realism\n",
                 f"{what} (`training.realism`): the measures that do not reward the blur.\n",
                 "| method | " + " | ".join(f"{kind} {level:g}" for kind, level in noises) + " |",
                 "|" + "---|" * (len(noises) + 1)]
        for m in methods:
            values = [realism_cell(cell[(m, *n)]) if (m, *n) in cell else "" for n in noises]
            lines.append(f"| {m} | " + " | ".join(values) + " |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def sharp_markdown(rows: list[Row]) -> str:
    """The sharp (GAN) model against the Gaussian specialist, wherever both were judged by a classifier."""
    judged = {r.key: r for r in rows if r.fd is not None}
    pairs = [(r, judged[(r.dataset, SPECIALISTS[GAUSSIAN], r.noise, r.level)]) for r in judged.values()
             if r.method == SHARP and (r.dataset, SPECIALISTS[GAUSSIAN], r.noise, r.level) in judged]
    if not pairs:
        return ""
    wording = []
    for dataset, goals in SHARP_GOALS.items():
        goal = next(iter(goals.values()))  # the same goal at each of the dataset's levels
        wording.append(f"{DATASETS[dataset].title} at σ {', '.join(f'{level:g}' for level in goals)}: PSNR at most "
                       f"{goal.psnr_loss:g} dB below the specialist's, classifier accuracy at least as high, "
                       f"Fréchet distance at most {goal.fd_ratio:g}× the specialist's")
    lines = ["### The sharp (GAN) model against the Gaussian specialist\n",
             f"Issue #13's targets, {'; '.join(wording)}. Elsewhere the same measures are reported.\n",
             "| dataset | noise | PSNR (dB) | accuracy | Fréchet distance | met |",
             "|---|---|---|---|---|---|"]
    for sharp, specialist in pairs:
        target = SHARP_GOALS.get(sharp.dataset, {}).get(sharp.level) if sharp.noise == GAUSSIAN else None
        met = "no target" if target is None else ("yes" if target.met(sharp, specialist) else "**no**")
        ratio = f" (×{sharp.fd / specialist.fd:.2f})" if specialist.fd else ""
        lines.append(f"| {DATASETS[sharp.dataset].title} | {sharp.noise} {sharp.level:g} | "
                     f"{sharp.psnr:.2f} vs {specialist.psnr:.2f} ({sharp.psnr - specialist.psnr:+.2f}) | "
                     f"{100 * sharp.accuracy:.1f}% vs {100 * specialist.accuracy:.1f}% | "
                     f"{sharp.fd:.4f} vs {specialist.fd:.4f}{ratio} | {met} |")
    return "\n".join(lines) + "\n"


def diagnosis_markdown(folder: Path) -> str:
    """The `training.diagnose` results found in the output folder, as one table."""
    results = [json.loads(p.read_text()) for p in sorted(folder.glob(DIAGNOSIS.format(dataset="*", model="*")))]
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


def section(rows: list[Row], folder: Path) -> str:
    """Everything the README's results section and `results.md` show: targets, results, diagnosis."""
    return (targets_markdown(rows) + "\n" + results_markdown(rows) + "\n" + realism_markdown(rows) + "\n"
            + sharp_markdown(rows) + "\n" + diagnosis_markdown(folder))


def plot(rows: list[Row], path: Path) -> None:
    """PSNR against Gaussian sigma, one panel per dataset: numbers only, no images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gaussian = [r for r in rows if r.noise == GAUSSIAN and r.method_type != REFERENCE]
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
                    linewidth=3 if method in (ALL_ROUNDER, *SPECIALISTS.values()) else 1.2)
        ax.set(title=DATASETS[dataset].title, xlabel="Gaussian noise σ", ylabel="PSNR (dB)")
        ax.grid(alpha=0.3)
    handles = [plt.Line2D([], [], color=colours[m], marker="o", label=m) for m in methods]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(methods), 6), fontsize=8)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def check_readme(readme: Path) -> str:
    """The README's text; ValueError when it lacks the results markers."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} markers to replace.")
    return text


def splice_readme(readme: Path, text: str) -> None:
    """Replace what stands between the README's results markers."""
    head, rest = check_readme(readme).split(START, 1)
    readme.write_text(head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])
