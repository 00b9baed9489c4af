"""The denoiser's web app: denoise an image, walk a latent space, read the study.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT apply)

The denoise, compare and interpolate events are an API too, called by the names of their
functions' arguments (README, *Call the app from Python*; `client.view_api()` lists them).
"""

from __future__ import annotations

import functools
import inspect
import os
import random
import reprlib
import shutil
import signal
import sys
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image
from starlette.middleware import Middleware

import denoiser
from denoiser import DATASETS, LATENT, MODELS, NOISES, STUDY_WINNER
from denoiser.baselines import BASELINES, known_sigma, run_baseline
from denoiser.config import (
    APP_MAX_PIXELS,
    CAPACITY_LADDER,
    MIDPOINTS,
    RESULTS_PLOT,
    RESULTS_TABLE,
    SHARP_CROPS,
    STUDY_CURVES,
    figure_path,
    settings,
)
from denoiser.datasets import bundled_files
from denoiser.imaging import (
    convert_channels,
    enlarge,
    header_pixels,
    is_high_depth,
    join_alpha,
    save_png,
    split_alpha,
    to_uint8,
)
from denoiser.interpolation import MAX_PASSES, PATHS, STUDY_PATH, whole_passes
from denoiser.metrics import psnr, ssim
from denoiser.noise import GAUSSIAN
from denoiser.numbers import is_finite
from denoiser.registry import Registry
from denoiser.samples import SAMPLED, load_samples
from denoiser.scratch import Scratch
from denoiser.serving import Busy, Lanes, UploadsCapped, cap_memory_pools

try:  # every setting read once, before anything is built on them: a wrong one stops the start with one line
    settings()
except ValueError as error:
    raise SystemExit(f"error: {error}") from None

DISPLAY = 320  # on-screen side of the images; tiny ones are enlarged to about this
PREVIEW = 1600  # on-screen images are shrunk to this side; the download keeps full resolution
STEPS = 9  # interpolation strip: t = 0, 1/8, ..., 1
PHOTO = "photos"  # any picture, denoised at full resolution by the photo models
PHOTOS = DATASETS["skimage_photos"].bundled[:5]  # the example photos: the first five of scikit-image's photo set
PROMPT = "Upload an image or press **Sample**."
NAME_CHARS = 100  # of an upload's name kept in its download's (holiday.jpg -> holiday-denoised.png)
GONE = ("The image is no longer on the server (files unused for an hour, or the oldest when it is busy, are "
        "deleted): upload it again.")
REFUSED: OrderedDict[str, str] = OrderedDict()  # why each of the latest refused uploads was refused, by path
REFUSALS_KEPT = 1000
KEEP_SECONDS = 3600  # files unused this long are deleted, and beyond settings().app_disk_mb the least recently used
SWEEP_SECONDS = 10  # how often the folder is searched for uploads that no event has read
# One folder per running app, for its files and Gradio's uploads and cache alike: no copies, removed at exit.
SCRATCH = Scratch(Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir()) / "denoiser-app",
                  KEEP_SECONDS, settings().app_disk_mb * 2**20)
os.environ["GRADIO_TEMP_DIR"] = str(SCRATCH.folder)
# An event that runs the classical baselines or every model counts its pixels this many times over (a 141×141
# upload takes the large lane): BM3D alone takes 36-44 times the model's time on a photo (README, Speed and load),
# and a comparison runs them all.
CLASSICAL_WORK = 50
LANES = Lanes()  # the image events' lanes: small uploads never queue behind large ones


def in_lane(*uploads: str, work: Callable[[dict[str, Any]], float] = lambda arguments: 1
            ) -> Callable[[Callable], Callable]:
    """Run an event in the lane of its work: its largest upload's pixels (of the arguments named `uploads`, read
    from the header), times `work(arguments)` for an event that runs more than one model on them."""
    def decorate(event: Callable) -> Callable:
        signature = inspect.signature(event)

        @functools.wraps(event)
        def run(*args: Any, **kwargs: Any) -> Any:
            given = signature.bind_partial(*args, **kwargs).arguments
            pixels = max((header_pixels(given[name]) for name in uploads if given.get(name)), default=0)
            try:
                with LANES.run(pixels * work(given)):
                    return event(*args, **kwargs)
            except Busy as error:
                raise gr.Error(str(error), print_exception=False) from None
        return run
    return decorate


NOISE = GAUSSIAN  # the noise kind the app opens with


def photo_files() -> dict[str, str]:
    """scikit-image's bundled photos, copied as they are to a temporary folder (Gradio serves no site-packages)."""
    folder = SCRATCH.folder / "examples"  # beside the app's other files, removed with them at exit
    folder.mkdir()
    return {name: shutil.copy(path, folder) for name, path in bundled_files(PHOTOS).items()}


PHOTO_FILES = photo_files()


@dataclass
class Result:
    title: str
    image: np.ndarray
    seconds: float | None = None
    psnr: float = np.nan  # against the clean original; NaN when there is none
    ssim: float = np.nan


AUTO = "auto"  # model menu choice: whichever trained model is best for the noise kind


def trained_models(dataset: str) -> list[str]:
    """Registry models that can serve the dataset, in registry order."""
    have = denoiser.trained_models(dataset)
    return [name for name in MODELS if name in have]


def fail(message: str) -> gr.Error:
    """An error that stays in the page until closed, so it is not missed."""
    return gr.Error(message, duration=None, print_exception=False)


def load_denoiser(dataset: str, model: str | None, kind: str | None = None) -> denoiser.Denoiser:
    """The chosen model; with AUTO (or none) the library's best for the noise kind."""
    try:
        return denoiser.load(dataset, None if model in (None, "", AUTO) else model, noise=kind)
    except (denoiser.WeightsError, denoiser.DatasetError, denoiser.UnknownName) as error:
        raise fail(str(error)) from None


def to_pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(to_uint8(image[..., 0] if image.shape[-1] == 1 else image))


def save(picture: Image.Image, name: str, **options: Any) -> str:
    """Write a picture under the app's scratch folder (old ones pruned) and return its path.

    Every image leaves the app as a file path: Gradio serves files from its cache folder,
    which is the scratch folder, as they are, while PIL images are rewritten in place,
    which breaks a download when two requests return the same picture at once.
    """
    return str(SCRATCH.write(name, lambda path: picture.save(path, **options)))


def download_file(image: np.ndarray, upload: str) -> str:
    """The denoised image at full resolution, named after the upload (never hidden: Gradio refuses to serve a
    dotfile from some temporary folders), in 16 bits where a gray model denoised a 16-bit gray upload."""
    name = f"{Path(upload).stem.lstrip('.')[:NAME_CHARS] or 'image'}-denoised.png"
    return str(SCRATCH.write(name, lambda path: save_png(image, path, is_high_depth(upload))))


def screen(image: np.ndarray) -> Image.Image:
    """An image as shown on screen: tiny ones enlarged with crisp pixels, huge ones shrunk."""
    picture = to_pil(enlarge(image, DISPLAY, PREVIEW))
    picture.thumbnail((PREVIEW, PREVIEW))
    return picture


def view(image: np.ndarray) -> str:
    return save(screen(image), "view.png", compress_level=1)  # 3x faster to write than the default 6


def read_upload(path: str | None, which: str = "") -> tuple[np.ndarray, str]:
    """The upload as an image; Gradio's copy is kept as used now, or deleted at once when it is refused.

    `which` names the upload in a message where an event takes two (the walk's Image A and Image B)."""
    if not path:
        raise fail(PROMPT)
    try:
        image, note = denoiser.read_image(path, min(APP_MAX_PIXELS, settings().max_pixels))
    except denoiser.ImageError as error:
        if Path(path).is_file():
            SCRATCH.discard(path)  # nothing will read a refused upload again
            REFUSED[path] = str(error)  # ... but the page may send it again: it gets the same answer, not GONE
            REFUSED.move_to_end(path)
            while len(REFUSED) > REFUSALS_KEPT:
                REFUSED.popitem(last=False)
        message = REFUSED.get(path, GONE)  # not a file: refused before, or pruned since the page sent it
        raise fail(f"{which}: {message}" if which else message) from None
    SCRATCH.use(path)  # the next event of the page reads it again: it outlives files unused for longer
    return image, note


def offered(dataset: str, choices: list[tuple[str, str]]) -> None:
    """Refuse an API call's dataset that the tab does not offer, naming those it does."""
    try:
        Registry("dataset", [DATASETS[name] for _, name in choices]).lookup(dataset)
    except denoiser.UnknownName as error:
        raise fail(str(error)) from None


def switches(**values: Any) -> None:
    """Refuse an API call's checkbox that is not true or false: a string such as "no" would count as on."""
    for name, value in values.items():
        if not isinstance(value, bool):
            raise fail(f"{name} must be true or false, got {reprlib.repr(value)}.")


def a_number(payload: Any, widget: gr.Slider | gr.Number) -> Any:
    """Refuse an API call's value that is no finite number, naming the widget: Gradio's own range check and rounding
    would fail first with a bare "Error" (JSON's Infinity and NaN pass its parser). A Number's empty field (None)
    passes; Gradio sends it on as it is."""
    if not (is_finite(payload) or payload is None and isinstance(widget, gr.Number)):
        bounds = f" from {widget.minimum:g} to {widget.maximum:g}" if widget.maximum is not None else ""
        raise fail(f"{widget.label}: a number{bounds}, got {reprlib.repr(payload)}.")
    return payload


class Slider(gr.Slider):
    """Gradio's slider, drawn as it (a template), whose API values are checked by a_number first."""

    is_template = True

    def preprocess(self, payload: Any) -> float:
        return super().preprocess(a_number(payload, self))


class Number(gr.Number):
    """Gradio's number field, drawn as it (a template), whose API values are checked by a_number first."""

    is_template = True

    def preprocess(self, payload: Any) -> float | int | None:
        return super().preprocess(a_number(payload, self))


def in_model_channels(image: np.ndarray, dataset: str) -> tuple[np.ndarray, list[str]]:
    """The image in the dataset's model's channels, so that the Original shown and scored is what the model sees."""
    spec = DATASETS[dataset]
    channels = spec.shape[-1]
    colour, alpha = split_alpha(image)  # transparency is kept as it is
    if colour.shape[-1] == channels:
        return image, []
    how = "gray (luma)" if channels == 1 else "colour (its gray in R, G and B)"
    return join_alpha(convert_channels(colour, channels), alpha), [
        f"The {spec.title} model works in {'gray' if channels == 1 else 'colour'}: the upload was converted to "
        f"{how}, and the Original shown and scored is the converted image."
    ]


def prepare(
    path: str | None, dataset: str, kind: str, level: float, seed: float | None, add: bool
) -> tuple[np.ndarray | None, np.ndarray, list[str]]:
    """The clean original in the model's channels (None when the upload is already noisy), the noisy image, notes."""
    offered(dataset, DENOISE_CHOICES)
    image, note = read_upload(path)
    image, converted = in_model_channels(image, dataset)
    notes = ([note] if note else []) + converted
    if not add:
        return None, image, [*notes, "Add noise is off: the upload is denoised as is, with no original to score."]
    try:
        return image, denoiser.add_noise(image, kind, float(level), int(seed or 0)), notes
    except (ValueError, TypeError, OverflowError) as error:  # an API call's unknown kind or bad level or seed
        raise fail(f"Cannot add the noise: {error}") from None


def timed(title: str, run: Callable[..., np.ndarray], *args: Any, **kwargs: Any) -> Result:
    start = time.perf_counter()
    image = run(*args, **kwargs)
    return Result(title, image, time.perf_counter() - start)


def run_model(dataset: str, model: str | None, kind: str, noisy: np.ndarray,
              progress: gr.Progress) -> tuple[Result, list[str]]:
    """One trained model's result, with a note when a fixed-size model had to resize the image."""
    den = load_denoiser(dataset, model, kind)

    def tiles(done: int, total: int) -> None:
        progress((done, total), desc=f"{den.name}: tiles")

    note = den.resize_note(noisy.shape[:2])
    return timed(MODELS[den.name].title, den.denoise, noisy, progress=tiles), [note] if note else []


def run_baselines(noisy: np.ndarray, kind: str, sigma: float | None) -> tuple[list[Result], list[str]]:
    """The classical baselines that suit the noise and the image's size, and a note for each one skipped."""
    results, notes = [], []
    for spec in BASELINES.values():
        if not spec.suits(kind, noisy.shape[:2]):
            notes.append(f"{spec.title} skipped: it is not meant for this noise or this image size.")
            continue
        results.append(timed(spec.title, run_baseline, spec.name, noisy, sigma))
    return results, notes


def baseline_sigma(kind: str, level: float, add: bool) -> float | None:
    """The sigma the baselines are given: known_sigma for noise added here; an upload already noisy has none."""
    return known_sigma(kind, level) if add else None


def scored(clean: np.ndarray | None, results: list[Result]) -> list[Result]:
    """Fill in each result's PSNR and SSIM against the original."""
    for result in results if clean is not None else []:
        result.psnr = psnr(clean, result.image)
        result.ssim = ssim(clean, result.image)
    return results


def report(results: list[Result], notes: list[str]) -> str:
    """Markdown table of PSNR, SSIM and time per result (— where unknown), then the notes."""
    rows = ["| | PSNR (dB) | SSIM | time |", "|---|---|---|---|"]
    for r in results:
        cells = ["—" if np.isnan(r.psnr) else f"{r.psnr:.2f}", "—" if np.isnan(r.ssim) else f"{r.ssim:.3f}"]
        rows.append(f"| {r.title} | {' | '.join(cells)} | {'' if r.seconds is None else f'{r.seconds:.2f} s'} |")
    return "\n".join(rows + [f"\n> {note}" for note in notes])


def gallery(results: list[Result]) -> list[tuple[str, str]]:
    """Gallery items captioned with each result's PSNR (when known) and time."""
    return [
        (view(r.image), f"{r.title}: {'' if np.isnan(r.psnr) else f'{r.psnr:.2f} dB · '}{r.seconds:.2f} s")
        for r in results
    ]


# Events


def model_menu(dataset: str) -> gr.Dropdown:
    """The model picker for a dataset: 'best for the noise' first and chosen, then every trained model."""
    names = trained_models(dataset)
    if not names:
        return gr.Dropdown([], value=None, label="Model", allow_custom_value=True)
    choices = [("Best for the noise (auto)", AUTO)] + [(MODELS[name].title, name) for name in names]
    # Any name passes Gradio: the menu as built lists MNIST's models, yet an API call must be able to name
    # every trained model of the dataset it chose. load() says which exist when the name is wrong.
    return gr.Dropdown(choices, value=AUTO, label="Model", allow_custom_value=True)


def latent_menu(dataset: str, chosen: bool = True) -> gr.Dropdown:
    """The Latent tab's model picker: the dataset's trained latent models, its default first and, if `chosen`,
    chosen. The page is built with none chosen (and chooses on load), so that an API call's default is none,
    which walk reads as the default of whatever dataset the call names, not MNIST's."""
    names = denoiser.latent_models(dataset)
    winner = " (the study's winner)"
    choices = [(MODELS[name].title + (winner if name == STUDY_WINNER else ""), name) for name in names]
    return gr.Dropdown(choices, value=names[0] if names and chosen else None, label="Latent model",
                       allow_custom_value=True)


def level_slider(kind: str, every_kind: bool = False) -> Slider:
    """The noise level slider, over the kind's own range (`every_kind`: over all kinds' ranges together).

    The slider is built over every kind's range, because the API checks a level against the
    slider as built: Poisson's [5, 100] must pass too, and NoiseKind.check then judges the
    level by the kind's own range. The page narrows it to the chosen kind on load.
    """
    spec = NOISES[kind]
    low, high = (min(k.low for k in NOISES.values()), max(k.high for k in NOISES.values())) if every_kind else (
        spec.low, spec.high)
    step = 0.01 if spec.high <= 1 else 1
    return Slider(low, high, value=spec.default, step=step, label=f"Noise level ({spec.level_name})")


def sample(dataset: str) -> tuple[str, str]:
    """A random built-in test image of the dataset (a scikit-image photo for Photo) as a file, and its caption.

    The caption is cleared when there is no sample, so it never describes another picture.
    """
    if dataset == PHOTO:
        name = random.choice(PHOTOS)
        return PHOTO_FILES[name], f"scikit-image photo: **{name}**"
    try:
        samples = load_samples(dataset)
    except denoiser.DatasetError as error:
        gr.Warning(f"Cannot sample {DATASETS[dataset].title}: {error}")
        return gr.skip(), ""
    position = random.randrange(len(samples))
    index = int(samples.indices[position])
    path = save(Image.fromarray(samples.images[position]), f"{dataset}-{index}.png")
    return path, f"{samples.spec.title} test image #{index}: **{samples.label(position)}**"


@in_lane("path", work=lambda arguments: CLASSICAL_WORK if arguments.get("baselines") is True else 1)
def denoise(
    path: str | None, dataset: str, model: str | None, kind: str, level: float, seed: float | None,
    add: bool, baselines: bool, progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way)
) -> tuple:
    """Denoise event: original, noisy and denoised views, metrics, the PNG download and baselines."""
    switches(add=add, baselines=baselines)
    if not path:
        return None, None, None, PROMPT, None, []
    clean, noisy, notes = prepare(path, dataset, kind, level, seed, add)
    result, resized = run_model(dataset, model, kind, noisy, progress)
    extra, skipped = run_baselines(noisy, kind, baseline_sigma(kind, level, add)) if baselines else ([], [])
    results = scored(clean, [Result("Noisy input", noisy), result, *extra])
    return (
        None if clean is None else view(clean),
        view(noisy),
        view(result.image),
        report(results, notes + resized + skipped),
        download_file(result.image, path),
        gallery(extra),
    )


@in_lane("path", work=lambda arguments: CLASSICAL_WORK)
def compare(
    path: str | None, dataset: str, kind: str, level: float, seed: float | None, add: bool,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way)
) -> tuple[str, list[tuple[str, str]]]:
    """Compare-all event: the same noisy image through every model and baseline, best PSNR first."""
    switches(add=add)
    clean, noisy, notes = prepare(path, dataset, kind, level, seed, add)
    results = []
    for model in trained_models(dataset):
        result, resized = run_model(dataset, model, kind, noisy, progress)
        results.append(result)
        notes += resized
    extra, skipped = run_baselines(noisy, kind, baseline_sigma(kind, level, add))
    results = scored(clean, results + extra)
    if clean is not None:
        results.sort(key=lambda r: -r.psnr)
    return report(scored(clean, [Result("Noisy input", noisy)]) + results, notes + skipped), gallery(results)


@in_lane("path_a", "path_b")
def walk(dataset: str, path_a: str | None, path_b: str | None, t: float, model: str | None = None,
         path: str = STUDY_PATH, passes: float = 0) -> tuple:
    """Interpolate event: encode A and B once; the frame at t, the strip A→B, a GIF and the encodings.

    `model` is one of the dataset's latent models (none: its default, latent_menu's first); `path` an entry of
    PATHS; `passes` how often each decoding goes back through the model (Autoencoder.project).
    """
    if not (path_a and path_b):
        return None, [], None, None
    offered(dataset, WALK_CHOICES)
    try:  # an API call's unknown path or impossible passes are refused before any image is read
        PATHS.lookup(path)
        passes = whole_passes(passes)
    except (denoiser.UnknownName, ValueError) as error:
        raise fail(str(error)) from None
    model = default_walker(dataset) if model in (None, "") else model
    walker = walker_of(dataset, model)
    image_a, image_b = read_upload(path_a, "Image A")[0], read_upload(path_b, "Image B")[0]
    latents = np.concatenate([walker.encode(image_a), walker.encode(image_b)])
    frames = walker.decode_line(latents[0], latents[1], STEPS, path, passes)
    pictures = [screen(frame) for frame in frames]
    strip = [(save(picture, "step.png"), f"t = {i / (STEPS - 1):.3g}") for i, picture in enumerate(pictures)]
    loop = pictures + pictures[-2:0:-1]  # there and back, so the GIF loops smoothly
    gif = save(loop[0], "walk.gif", save_all=True, append_images=loop[1:], duration=150, loop=0)
    encoded = Walk(dataset, model, path, passes, latents)
    return between(encoded, t), strip, gif, encoded


@dataclass(frozen=True)
class Walk:
    """What the slider needs of the last walk: whose decoder, along which path with how many passes back
    through the model, between which two encodings."""

    dataset: str
    model: str
    path: str
    passes: int
    latents: np.ndarray


def default_walker(dataset: str) -> str:
    """The latent model a walk uses unless one is chosen (the plain autoencoder's name where none is trained)."""
    return (denoiser.latent_models(dataset) or [LATENT])[0]


def walker_of(dataset: str, model: str) -> denoiser.Autoencoder:
    """The dataset's latent model of that name, or a message saying which can walk."""
    walker = load_denoiser(dataset, model)
    if not isinstance(walker, denoiser.Autoencoder):
        raise fail(f"{model} has no latent space to walk; the {DATASETS[dataset].title} models that do: "
                   f"{', '.join(denoiser.latent_models(dataset)) or 'none trained'}.")
    return walker


def between(encoded: Walk | None, t: float) -> str | None:
    """Slider event: decode the point t of the way from A's encoding to B's."""
    if encoded is None:
        return None
    walker = walker_of(encoded.dataset, encoded.model)
    return view(walker.decode_between(encoded.latents[0], encoded.latents[1], t, encoded.path, encoded.passes)[0])


# About tab


README = Path(__file__).resolve().parent / "README.md"
STORY_START, STORY_END = "<!-- story:start -->", "<!-- story:end -->"


def story() -> str:
    """The About tab's story: the README's, so that the two never drift apart."""
    text = README.read_text() if README.is_file() else ""
    return text.split(STORY_START, 1)[-1].split(STORY_END, 1)[0] if STORY_END in text else ""


def results_section() -> tuple[str, str | None]:
    """The evaluation's Markdown tables and plot, or a message when it has not been run."""
    folder = settings().results_dir
    table, plot = folder / RESULTS_TABLE, folder / RESULTS_PLOT
    text = table.read_text() if table.is_file() else "No results yet: run `python -m training.evaluate`."
    return text, str(plot) if plot.is_file() else None


def figures(figure: str) -> list[tuple[str, str]]:
    """One kind of per-dataset figure (config.SHARP_CROPS, STUDY_CURVES, ...), for every dataset it is drawn for."""
    paths = {name: figure_path(figure, name) for name in DATASETS}
    return [(str(path), DATASETS[name].title) for name, path in paths.items() if path.is_file()]


def ladder_tables() -> str:
    """The capacity ladder's table, kept beside its plot, for every dataset the ladder was run on."""
    tables = {title: Path(path).with_suffix(".md") for path, title in figures(CAPACITY_LADDER)}
    return "\n\n".join(f"#### {title}: the capacity ladder\n\n{table.read_text()}"
                         for title, table in tables.items() if table.is_file())


def midpoints_table() -> str:
    """training.midpoints' table: do the latent models' in-between images look like the data?"""
    table = settings().results_dir / f"{MIDPOINTS}.md"
    return f"#### Walking the latent space: the midpoints judged\n\n{table.read_text()}" if table.is_file() else ""


def model_cards() -> str:
    cards = []
    for entry in denoiser.list_models():
        spec, config = MODELS[entry.model], entry.config
        metrics = ", ".join(f"Gaussian σ {sigma:g}: {m['psnr']:.2f} dB / {m['ssim']:.3f}"
                            for sigma, m in entry.gaussian_scores().items())
        cards.append(
            f"#### {DATASETS[entry.dataset].title} · {spec.title} (`{entry.model}`)\n{spec.summary}  \n"
            f"{entry.params:,} parameters; {entry.epochs} epochs in {entry.train_seconds / 60:.1f} min on "
            f"{config.get('train_images') or 'all'} training images, noise `{config.get('noise')}`"
            f"{' with flips' if config.get('augment') else ''}.  \nTest PSNR / SSIM: {metrics or 'not recorded'}."
        )
    return "\n\n".join(cards) or "No trained models yet: see `training/train_all.sh`."


# Layout


def arrive() -> tuple[str, str, str, str, str, str]:
    """Load event: an MNIST sample for the Denoise tab and two for the Latent tab, so every feature shows at once.

    Setting the files fires their change events, which denoise and draw the walk as a user's upload would.
    """
    return *sample("mnist"), *sample("mnist"), *sample("mnist")


def clear_caption() -> str:
    return ""


def sample_button(target: gr.components.Component, dataset: gr.Radio, label: str) -> gr.Markdown:
    """A Sample button and caption under an upload widget; an upload or a clear empties the caption."""
    button, caption = gr.Button(label), gr.Markdown()
    button.click(sample, dataset, [target, caption], api_visibility="private")
    gr.on([target.upload, target.clear], clear_caption, None, caption, api_visibility="private")
    return caption


WALK_CHOICES = [(DATASETS[name].title, name) for name in SAMPLED]  # the datasets with built-in samples
DENOISE_CHOICES = [*WALK_CHOICES, ("Photo", PHOTO)]

with gr.Blocks(title="The denoiser") as demo:  # SCRATCH, not Gradio's hourly delete_cache, prunes its files
    gr.Markdown("# The denoiser\nKeras denoising autoencoders for MNIST, Fashion-MNIST, CIFAR-10 and photos.")
    with gr.Tab("Denoise"), gr.Row():
        with gr.Column(scale=1, min_width=280):
            dataset = gr.Radio(DENOISE_CHOICES, value="mnist", label="Dataset")
            model = model_menu("mnist")
            # Uploads are files, not gr.Image, so read_image sees their EXIF, bit depth and mode untouched.
            upload = gr.File(label="Image (any picture file)", elem_id="upload")
            caption = sample_button(upload, dataset, "Sample")
            with gr.Column(visible=False) as photo_examples:
                examples = gr.Examples([[PHOTO_FILES[name]] for name in PHOTOS], upload, label="Example photos",
                                       example_labels=list(PHOTOS))
            add = gr.Checkbox(True, label="Add noise (off: the upload is already noisy)")
            kind = gr.Dropdown([(k.label, k.name) for k in NOISES.values()], value=NOISE, label="Noise",
                               info="With Add noise off: the kind already in the upload (it picks the model)")
            level = level_slider(NOISE, every_kind=True)
            seed = Number(0, precision=0, minimum=0, label="Seed")
            baselines = gr.Checkbox(False, label="Classical baselines (median, non-local means, BM3D)")
        with gr.Column(scale=3):
            with gr.Row():
                shown = [gr.Image(label=name, format="png", height=DISPLAY, elem_id=name.lower())
                         for name in ("Original", "Noisy", "Denoised")]
            summary = gr.Markdown(PROMPT, label="Metrics", elem_id="report")
            with gr.Row():
                download = gr.DownloadButton("Download denoised PNG")
                compare_all = gr.Button("Compare all", variant="primary")
            comparison = gr.Gallery(label="Comparison", format="png", columns=4, height="auto")
    with gr.Tab("Latent interpolation"):
        with gr.Row():
            walk_dataset = gr.Radio(WALK_CHOICES, value="mnist", label="Dataset")
            walk_model = latent_menu("mnist", chosen=False)
            walk_path = gr.Radio([(name.capitalize(), name) for name in PATHS], value=STUDY_PATH, label="Path",
                                 info="Linear: the study's straight line; spherical: the arc between the two")
            walk_passes = Slider(0, MAX_PASSES, value=0, step=1, label="Passes back through the model",
                                    elem_id="passes", info="0: the decodings as they are (the study's); each pass "
                                    "encodes and decodes them again, pulling in-between images towards ones the "
                                    "model knows")
        with gr.Row():
            with gr.Column():
                image_a = gr.File(label="Image A", elem_id="a")
                caption_a = sample_button(image_a, walk_dataset, "Sample A")
            with gr.Column():
                frame = gr.Image(label="A → B", format="png", height=DISPLAY, elem_id="frame")
                t = Slider(0, 1, value=0.5, step=0.01, label="t", elem_id="t")
                gif = gr.DownloadButton("Download the walk (GIF)")
            with gr.Column():
                image_b = gr.File(label="Image B", elem_id="b")
                caption_b = sample_button(image_b, walk_dataset, "Sample B")
        strip = gr.Gallery(label="Steps", format="png", columns=STEPS, rows=1, height=DISPLAY // 2, elem_id="strip")
        encoded = gr.State()
    with gr.Tab("About"):
        gr.Markdown(story())
        curves = figures(STUDY_CURVES)
        gr.Gallery(curves, label="The study's four models trained to convergence: validation loss and PSNR per epoch",
                   columns=len(curves) or 1, height="auto", visible=bool(curves))
        ladders = figures(CAPACITY_LADDER)
        gr.Markdown(ladder_tables())
        gr.Gallery(ladders, label="The capacity ladder: the study's winner at growing latent sizes, trained to "
                   "convergence", columns=len(ladders) or 1, height="auto", visible=bool(ladders))
        gr.Markdown(midpoints_table())
        table, plot = results_section()
        gr.Markdown(table)
        gr.Image(plot, label="PSNR vs noise level", visible=plot is not None)
        crops = figures(SHARP_CROPS)
        gr.Gallery(crops, label="The PSNR model and the sharp (GAN) one, on the most textured test images",
                   columns=len(crops) or 1, height="auto", visible=bool(crops))
        gr.Markdown(model_cards())

    noise_inputs = [upload, dataset, model, kind, level, seed, add, baselines]
    denoise_outputs = [*shown, summary, download, comparison]
    # The image events share one queue group; inside it, lanes keep small images clear of large ones.
    images = {"concurrency_id": "images", "concurrency_limit": LANES.places}
    gr.on([upload.change, model.input, level.release, seed.change, add.change, baselines.change],
          denoise, noise_inputs, denoise_outputs, api_name="denoise", trigger_mode="always_last", **images)
    # A new dataset or noise kind first resets the model menu or the level range, then denoises again.
    again = {"fn": denoise, "inputs": noise_inputs, "outputs": denoise_outputs, "api_visibility": "private", **images}
    dataset.change(model_menu, dataset, model, api_visibility="private").then(**again)
    dataset.change(lambda name: gr.Column(visible=name == PHOTO), dataset, photo_examples, api_visibility="private")
    examples.dataset.click(clear_caption, None, caption, api_visibility="private")
    kind.change(level_slider, kind, level, api_visibility="private").then(**again)
    demo.load(level_slider, kind, level, api_visibility="private")
    compare_all.click(compare, [upload, dataset, kind, level, seed, add], [summary, comparison], api_name="compare",
                      **images)
    walk_inputs = [walk_dataset, image_a, image_b, t, walk_model, walk_path, walk_passes]
    walk_outputs = [frame, strip, gif, encoded]
    gr.on([image_a.change, image_b.change, walk_model.input, walk_path.change, walk_passes.change], walk,
          walk_inputs, walk_outputs, api_name="interpolate", trigger_mode="always_last", **images)
    demo.load(latent_menu, walk_dataset, walk_model, api_visibility="private")
    walk_dataset.change(latent_menu, walk_dataset, walk_model, api_visibility="private").then(
        walk, walk_inputs, walk_outputs, api_visibility="private", **images)
    t.change(between, [encoded, t], frame, show_progress="hidden", trigger_mode="always_last",
             api_visibility="private")
    demo.load(arrive, None, [upload, caption, image_a, caption_a, image_b, caption_b], api_visibility="private")

demo.queue(default_concurrency_limit=2)
SCRATCH.keep_current()  # the page's own files: its example photos and Gradio's copies of the About tab's figures


def forget_deleted() -> None:
    """Drop deleted files from Gradio's records of uploads and outputs. Gradio keeps every path for its own hourly
    cleanup, which SCRATCH replaces: left alone, the records grow with every request for as long as the server runs."""
    for paths in list(demo.temp_file_sets):
        paths.difference_update([path for path in list(paths) if not os.path.exists(path)])


def warm_up() -> None:
    """Run every event the app opens with once per dataset, so that no visitor waits for TensorFlow's first calls.

    The first call of a model loads it and traces its graph for the input's shape (about 0.8 s for MNIST);
    afterwards a 28×28 image takes milliseconds. A dataset without weights is named on stderr and skipped.
    """
    for name in SAMPLED:
        path = sample(name)[0]
        try:
            denoise(path, name, AUTO, NOISE, NOISES[NOISE].default, 0, True, False, progress=lambda *_, **__: None)
            walk(name, path, path, 0.5)
        except gr.Error as error:  # missing weights: the app starts anyway, and each event says what is missing
            print(f"Not warmed up for {DATASETS[name].title}: {error.message}", file=sys.stderr)


if __name__ == "__main__":
    cap_memory_pools()  # the server's own: a process that imports this module (the tests) keeps its allocator
    warm_up()
    SCRATCH.sweep_every(SWEEP_SECONDS, then=forget_deleted)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop request shuts down like Ctrl-C: files removed
    demo.launch(max_file_size=settings().max_file_bytes,
                app_kwargs={"middleware": [Middleware(UploadsCapped, file_bytes=settings().max_file_bytes)]})
