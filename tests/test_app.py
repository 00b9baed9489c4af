"""The app's event functions, called directly on the real trained weights.

Tests skip, saying why, when a weights file they need is not trained yet. Sampled test
images come from the built-in samples, so no dataset is needed.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

import app
import denoiser
from denoiser import ALL_ROUNDER, DATASETS, LATENT, MODELS, NOISES, PATHS, STUDY_WINNER, inference
from denoiser.baselines import BASELINES
from denoiser.config import CAPACITY_LADDER, RESULTS_PLOT, RESULTS_TABLE, SHARP_CROPS, STUDY_CURVES
from denoiser.metrics import psnr
from denoiser.samples import SAMPLED, load_samples
from denoiser.serving import Lane, Lanes

from .conftest import need_weights


def digit(path: Path, size: tuple[int, int] = (28, 28)) -> str:
    """A synthetic MNIST-like picture: a white ring and bar on black."""
    height, width = size
    y, x = np.mgrid[:height, :width]
    radius = np.hypot(y - height / 2, x - width / 2) / (min(size) / 2)
    image = ((np.abs(radius - 0.6) < 0.15) | ((np.abs(x - width / 2) < width / 14) & (radius < 0.6))) * 255
    Image.fromarray(image.astype(np.uint8)).save(path)
    return str(path)


def pixels(path: str) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(np.float32)


def size(path: str) -> tuple[int, int]:
    return Image.open(path).size


def run(path: str, dataset: str = "mnist", model: str | None = ALL_ROUNDER, kind: str = "gaussian", level: float = 0.3,
        seed: int = 0, add: bool = True, baselines: bool = False, **kwargs) -> tuple:
    return app.denoise(path, dataset, model, kind, level, seed, add, baselines, **kwargs)


def gain(path: str, download: str, kind: str, level: float, seed: int) -> float:
    """PSNR of the downloaded denoised PNG minus PSNR of the noisy input, both against the original."""
    clean, _ = denoiser.read_image(path, app.APP_MAX_PIXELS)
    noisy = denoiser.add_noise(clean, kind, level, seed)
    denoised, _ = denoiser.read_image(download, app.APP_MAX_PIXELS)
    return psnr(clean, denoised) - psnr(clean, noisy)


@pytest.fixture(autouse=True)
def seeded_sampler() -> None:
    """The Sample button draws with `random`: a fixed seed makes every run test the same images."""
    random.seed(0)


@pytest.fixture
def ring(tmp_path: Path) -> str:
    return digit(tmp_path / "ring.png")


# Widgets and API


def test_events_have_api_names() -> None:
    public = {fn.api_name for fn in app.demo.fns.values() if fn.api_visibility == "public"}
    assert public == {"denoise", "compare", "interpolate"}


@pytest.mark.parametrize("kind", NOISES)
def test_level_slider_follows_noise_kind(kind: str) -> None:
    slider = app.level_slider(kind)
    spec = NOISES[kind]
    assert (slider.minimum, slider.maximum, slider.value) == (spec.low, spec.high, spec.default)


def test_the_api_takes_every_kinds_levels_and_any_model_name() -> None:
    """Gradio checks API values against the widgets as built; the library's own checks then say what is wrong."""
    level = next(b for b in app.demo.blocks.values() if isinstance(b, gr.Slider) and b.label.startswith("Noise"))
    assert (level.minimum, level.maximum) == (min(k.low for k in NOISES.values()), max(k.high for k in NOISES.values()))
    assert level.preprocess(NOISES["poisson"].high) == NOISES["poisson"].high
    assert app.model_menu("mnist").preprocess("cnn_dense_large") == "cnn_dense_large"


def test_the_page_narrows_the_level_slider_to_the_kind_on_load() -> None:
    loads = [fn for fn in app.demo.fns.values() if any(t[1] == "load" for t in fn.targets)]
    assert any(fn.fn is app.level_slider for fn in loads)


def test_a_full_large_lane_is_told_busy_in_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "LANES", Lanes(large=Lane(slots=1, waiting=0)))
    big = tmp_path / "big.png"
    Image.new("L", (1001, 1000)).save(big)  # just over LARGE_PIXELS
    probe = app.in_lane("a")(lambda a: a)
    with app.LANES.large.enter(), pytest.raises(gr.Error, match="busy with other large images"):
        probe(str(big))
    assert probe(str(big)) == str(big)  # free again


@pytest.fixture
def lanes_entered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the lanes the app's events enter, in order."""
    entered = []

    @dataclass
    class Recording(Lane):
        name: str = ""

        def enter(self):
            entered.append(self.name)
            return super().enter()

    monkeypatch.setattr(app, "LANES", Lanes(Recording(slots=1, name="small"), Recording(slots=1, name="large")))
    return entered


def test_events_pick_their_lane_from_the_file_header(tmp_path: Path, lanes_entered: list[str]) -> None:
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    Image.new("L", (1001, 1000)).save(big)  # just over LARGE_PIXELS
    Image.new("L", (1000, 1000)).save(small)
    probe = app.in_lane("a", "b")(lambda a, b=None: a)
    assert [probe(str(small)), probe(str(small), str(big)), probe(None)] == [str(small), str(small), None]
    assert lanes_entered == ["small", "large", "small"]
    assert all(getattr(event, "__wrapped__", None) for event in (app.denoise, app.compare, app.walk))


def test_events_that_run_the_baselines_or_every_model_take_the_large_lane_sooner(
        tmp_path: Path, lanes_entered: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "prepare", lambda *args: 1 / 0)  # the lane is all this test needs
    photo, digit = tmp_path / "photo.png", tmp_path / "digit.png"
    Image.new("L", (200, 200)).save(photo)  # 40,000 pixels, under LARGE_PIXELS but not under a fiftieth of it
    Image.new("L", (28, 28)).save(digit)
    for event in (lambda path: run(path), lambda path: run(path, baselines=True),
                  lambda path: app.compare(path, "mnist", "gaussian", 0.1, 0, True)):
        for path in (photo, digit):
            with pytest.raises(ZeroDivisionError):
                event(str(path))
    assert lanes_entered == ["small", "small", "large", "small", "large", "small"]


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist", "cifar10", app.PHOTO])
def test_model_menu_offers_auto_first_then_every_trained_model(dataset: str) -> None:
    owners = {dataset, DATASETS[dataset].fallback}  # photos also run CIFAR-10's models they have not trained
    trained = {e.model for e in denoiser.list_models() if e.dataset in owners}
    menu = app.model_menu(dataset)
    names = [name for _, name in menu.choices]
    assert names == ([app.AUTO] + [m for m in MODELS if m in trained] if trained else [])  # registry order
    assert all(title == MODELS[name].title for title, name in menu.choices if name != app.AUTO)
    assert menu.value == (app.AUTO if trained else None)


@pytest.mark.parametrize("kind", list(NOISES))
def test_photo_mode_runs_the_models_trained_on_photos(kind: str) -> None:
    """Issue #10: whatever the noise, Photo mode runs a model trained on photos, not CIFAR-10's."""
    assert app.load_denoiser(app.PHOTO, app.AUTO, kind).entry.dataset == app.PHOTO


# Sampling


@pytest.mark.parametrize("dataset", SAMPLED)
def test_sample_draws_a_built_in_test_image_with_its_class(dataset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DENOISER_DATA_DIR", raising=False)  # no dataset at hand: the built-in samples suffice
    path, caption = app.sample(dataset)
    index = int(re.search(r"#(\d+)", caption).group(1))
    samples = load_samples(dataset)
    position = list(samples.indices).index(index)
    assert np.array_equal(pixels(path), samples.images[position])
    assert f"**{samples.label(position)}**" in caption


def test_arrival_loads_a_sample_for_denoise_and_two_for_the_walk() -> None:
    [load] = [fn for fn in app.demo.fns.values()
              if fn.targets == [(app.demo._id, "load")] and app.upload._id in [b._id for b in fn.outputs]]
    assert [block._id for block in load.outputs] == [block._id for block in (
        app.upload, app.caption, app.image_a, app.caption_a, app.image_b, app.caption_b)]
    values = load.fn()
    for path, caption in zip(values[::2], values[1::2]):
        assert pixels(path).shape == (28, 28) and caption.startswith("MNIST test image #")
    # Setting the files fires the events that denoise and walk, as an upload would.
    changed = {target for fn in app.demo.fns.values() if fn.fn in (app.denoise, app.walk) for target in fn.targets}
    assert {(app.upload._id, "change"), (app.image_a._id, "change"), (app.image_b._id, "change")} <= changed


def test_a_new_file_clears_the_caption_of_the_last_sample() -> None:
    clearing = {target for fn in app.demo.fns.values() if fn.fn is app.clear_caption for target in fn.targets}
    for file in (app.upload, app.image_a, app.image_b):
        assert {(file._id, "upload"), (file._id, "clear")} <= clearing
    assert (app.examples.dataset._id, "click") in clearing  # an example photo replaces the upload too


def test_photo_examples_are_the_scikit_image_photos_and_show_in_photo_mode() -> None:
    assert [Path(row[0]).stem for row in app.examples.examples] == list(app.PHOTOS)
    assert all(Path(row[0]).is_file() for row in app.examples.examples)
    [toggle] = [fn for fn in app.demo.fns.values() if fn.outputs == [app.photo_examples]]
    assert toggle.fn(app.PHOTO).visible is True and toggle.fn("mnist").visible is False


def test_sample_photo_comes_from_scikit_image() -> None:
    path, caption = app.sample(app.PHOTO)
    assert any(name in caption for name in app.PHOTOS)
    assert pixels(path).shape[2] == 3 and min(pixels(path).shape[:2]) >= 300


def test_sample_says_plainly_when_the_dataset_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(name: str) -> None:
        raise denoiser.DatasetError(f"Dataset {name!r} is not available.")

    monkeypatch.setattr(app, "load_samples", unavailable)
    with pytest.warns(UserWarning, match="Cannot sample CIFAR-10"):
        assert app.sample("cifar10") == (gr.skip(), "")  # the upload stays; the old caption goes


# Denoising


def test_denoise_beats_the_noise_on_a_real_test_image() -> None:
    need_weights("mnist", ALL_ROUNDER)
    path, _ = app.sample("mnist")
    original, noisy, denoised, report, download, comparison = run(path, level=0.3, seed=3)
    assert gain(path, download, "gaussian", 0.3, 3) > 3.0
    assert Path(download).name == f"{Path(path).stem}-denoised.png"  # the upload's name, not one for every download
    assert "PSNR" in report and MODELS[ALL_ROUNDER].title in report
    assert size(original) == size(noisy) == size(denoised) and min(size(original)) >= 252  # 28 px enlarged 9x
    assert comparison == []


@pytest.mark.parametrize("kind", NOISES)
def test_every_noise_kind(kind: str, ring: str) -> None:
    need_weights("mnist", ALL_ROUNDER)
    original, noisy, denoised, report, download, _ = run(ring, model=app.AUTO, kind=kind, level=NOISES[kind].default)
    assert size(original) == size(noisy) == size(denoised)
    assert not np.array_equal(pixels(noisy), pixels(original))
    title = MODELS[denoiser.best_model("mnist", kind)].title  # auto: the specialist for its kind, if trained
    assert "PSNR" in report and re.search(rf"{re.escape(title)} \| \d+\.\d\d \| 0\.\d{{3}}", report)
    assert Image.open(download).size == (28, 28)


def test_without_added_noise_the_upload_is_denoised_as_is(ring: str) -> None:
    need_weights("mnist", ALL_ROUNDER)
    original, noisy, _, report, _, _ = run(ring, add=False)
    assert original is None
    assert np.array_equal(pixels(noisy), pixels(app.view(denoiser.read_image(ring, app.APP_MAX_PIXELS)[0])))
    assert "| Noisy input | — | — |" in report and "Add noise is off" in report


def test_a_16_bit_upload_downloads_in_16_bits(tmp_path: Path) -> None:
    need_weights("mnist", ALL_ROUNDER)
    path = tmp_path / "scan.png"
    Image.fromarray((np.linspace(0, 1, 28 * 28).reshape(28, 28) * 65535).astype(np.uint16)).save(path)
    *_, download, _ = run(str(path), level=0.1)
    assert Image.open(download).mode == "I;16" and Path(download).name == "scan-denoised.png"
    shutil.copy(path, tmp_path / ".hidden.png")  # a dotfile download would be hidden, and some folders refuse it
    assert Path(run(str(tmp_path / ".hidden.png"), level=0.1)[4]).name == "hidden-denoised.png"


def test_a_colour_upload_to_a_gray_model_is_shown_and_scored_in_gray(tmp_path: Path) -> None:
    need_weights("mnist", ALL_ROUNDER)
    path = tmp_path / "colour.png"
    Image.fromarray(np.stack([np.full((28, 28), 250), np.tile(np.arange(28) * 9, (28, 1)),
                              np.zeros((28, 28))], -1).astype(np.uint8)).save(path)
    original, noisy, denoised, report, download, _ = run(str(path), level=0.1)
    gray = app.convert_channels(denoiser.read_image(path, app.APP_MAX_PIXELS)[0], 1)
    assert pixels(original).ndim == 2 and np.array_equal(pixels(original), pixels(app.view(gray)))
    assert Image.open(download).mode == "L"
    noisy_psnr = psnr(gray, denoiser.add_noise(gray, "gaussian", 0.1, 0))
    assert f"| Noisy input | {noisy_psnr:.2f} |" in report  # scored against the gray image, not the colour one
    assert "MNIST model works in gray" in report and "Original shown and scored is the converted image" in report


def test_a_gray_upload_to_a_colour_model_is_shown_and_scored_in_colour(ring: str) -> None:
    need_weights("cifar10", ALL_ROUNDER)
    original, _, _, report, download, _ = run(ring, dataset="cifar10", level=0.1)
    assert pixels(original).shape[-1] == 3 and Image.open(download).mode == "RGB"
    assert "CIFAR-10 model works in colour" in report


def test_same_seed_same_noise_other_seed_other_noise(ring: str) -> None:
    need_weights("mnist", ALL_ROUNDER)
    first, again, other = (pixels(run(ring, seed=seed)[1]) for seed in (5, 5, 6))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_baselines_on_request(ring: str) -> None:
    need_weights("mnist", ALL_ROUNDER)
    *_, report, _, comparison = run(ring, baselines=True)
    assert [caption.split(":")[0] for _, caption in comparison] == [spec.title for spec in BASELINES.values()]
    assert all(re.search(r"\d+\.\d\d dB · \d+\.\d\d s", caption) for _, caption in comparison)
    assert all(spec.title in report for spec in BASELINES.values())


def test_fixed_size_model_says_it_resized(tmp_path: Path) -> None:
    need_weights("mnist", "cnn_dense")
    *_, report, download, _ = run(digit(tmp_path / "big.png", (40, 56)), model="cnn_dense")
    assert "resized" in report
    assert Image.open(download).size == (56, 40)


def test_progress_is_reported_on_large_images(tmp_path: Path) -> None:
    need_weights("mnist", ALL_ROUNDER)
    calls = []
    run(digit(tmp_path / "large.png", (600, 600)), progress=lambda value, desc=None: calls.append(value))
    done, total = calls[-1]
    assert total > 1 and done == total


def test_photo_at_full_resolution_with_the_cifar10_denoiser() -> None:
    need_weights("cifar10", ALL_ROUNDER)
    path, _ = app.sample(app.PHOTO)
    download = run(path, dataset=app.PHOTO, level=0.2)[4]
    assert Image.open(download).size == Image.open(path).size
    assert Image.open(download).mode == "RGB"
    assert gain(path, download, "gaussian", 0.2, 0) > 0


def test_compare_all_is_best_first(ring: str) -> None:
    need_weights("mnist", ALL_ROUNDER)
    report, items = app.compare(ring, "mnist", "gaussian", 0.3, 0, True)
    captions = [caption for _, caption in items]
    scores = [float(re.search(r"(-?\d+\.\d+) dB", caption).group(1)) for caption in captions]
    assert scores == sorted(scores, reverse=True)
    titles = {caption.split(":")[0] for caption in captions}
    trained = {MODELS[e.model].title for e in denoiser.list_models() if e.dataset == "mnist"}
    assert titles == trained | {spec.title for spec in BASELINES.values()}
    assert report.splitlines()[2].startswith("| Noisy input")


def test_compare_all_needs_an_image() -> None:
    with pytest.raises(gr.Error, match="Upload an image"):
        app.compare(None, "mnist", "gaussian", 0.3, 0, True)


def test_no_image_gives_a_prompt_not_an_error() -> None:
    assert run(None)[3] == app.PROMPT


# Bad input: every file either gives a result or a clear message


def write_16bit(path: Path) -> None:
    gradient = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    Image.fromarray(gradient).save(path.with_suffix(".png"))


def write_cmyk(path: Path) -> None:
    Image.new("CMYK", (64, 48), (0, 255, 255, 0)).save(path.with_suffix(".jpg"))  # red


def write_rgba(path: Path) -> None:
    image = Image.new("RGBA", (64, 48), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 32, 48))
    image.save(path.with_suffix(".png"))


def write_palette(path: Path) -> None:
    Image.new("RGB", (64, 48), (255, 0, 0)).convert("P", palette=Image.Palette.ADAPTIVE).save(path.with_suffix(".png"))


def write_animated(path: Path) -> None:
    red, blue = Image.new("RGB", (64, 48), (255, 0, 0)), Image.new("RGB", (64, 48), (0, 0, 255))
    red.save(path.with_suffix(".gif"), save_all=True, append_images=[blue], duration=100, loop=0)


def write_exif_rotated(path: Path) -> None:
    image = Image.new("RGB", (64, 32), (255, 0, 0))  # stored 64 wide, 32 high
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    image.save(path.with_suffix(".jpg"), exif=exif)


def write_tiny(path: Path) -> None:
    Image.new("RGB", (1, 1), (200, 30, 30)).save(path.with_suffix(".png"))


GOOD_FILES = {
    "16-bit PNG": (write_16bit, (64, 48)),
    "CMYK JPEG": (write_cmyk, (64, 48)),
    "RGBA PNG": (write_rgba, (64, 48)),
    "palette PNG": (write_palette, (64, 48)),
    "animated GIF": (write_animated, (64, 48)),
    "EXIF-rotated JPEG": (write_exif_rotated, (32, 64)),  # shown upright: 32 wide, 64 high
    "1x1 image": (write_tiny, (1, 1)),
}


@pytest.mark.parametrize("case", GOOD_FILES)
def test_odd_but_readable_files_give_a_result(case: str, tmp_path: Path) -> None:
    need_weights("cifar10", ALL_ROUNDER)
    write, expected = GOOD_FILES[case]
    write(tmp_path / "upload")
    path = str(next(tmp_path.iterdir()))
    original, _, denoised, report, download, _ = run(path, dataset=app.PHOTO, level=0.1, baselines=True)  # colour kept
    assert size(download) == expected
    assert "PSNR" in report and size(original) == size(denoised)
    shown = pixels(original)
    if case == "16-bit PNG":  # the gradient survives, neither clipped nor crushed
        assert shown.max() - shown.min() > 200
    if case in ("CMYK JPEG", "animated GIF", "EXIF-rotated JPEG"):  # red, the first frame, upright
        assert shown[..., 0].mean() > 200 and shown[..., 2].mean() < 60
    if case == "RGBA PNG":  # the transparent left half stays transparent
        assert shown.shape[2] == 4 and shown[:, : shown.shape[1] // 2, 3].max() == 0 and shown[..., 3].max() == 255
    if case == "1x1 image":
        assert f"| {MODELS[ALL_ROUNDER].title} |" in report and "BM3D skipped" in report


def test_a_corrupt_image_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(gr.Error, match="could not be read|not an image"):
        run(str(path))


def test_an_upload_deleted_meanwhile_is_asked_for_again(ring: str) -> None:
    upload = app.SCRATCH.write("gone.png", lambda path: shutil.copy(ring, path))
    assert "PSNR" in run(str(upload))[3]
    app.SCRATCH.discard(upload)  # as the app prunes it, when it has been unused longest and the disk is full
    with pytest.raises(gr.Error, match="no longer on the server .* upload it again"):
        run(str(upload))


def test_a_refused_upload_sent_again_gets_the_same_answer_not_a_request_to_upload_it_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "REFUSALS_KEPT", 2)
    uploads = [app.SCRATCH.write(f"photo{i}.heic", lambda path: path.write_bytes(b"not decodable")) for i in range(3)]
    for upload in uploads:
        with pytest.raises(gr.Error, match="not an image that can be read"):
            run(str(upload))
    assert not uploads[2].exists()  # deleted at once: it can never be used
    with pytest.raises(gr.Error, match="not an image that can be read"):  # a new level, say: the same file again
        run(str(uploads[2]))
    assert list(app.REFUSED) == [str(uploads[1]), str(uploads[2])]  # the latest few, not every one ever


def test_gradio_forgets_the_files_the_app_deleted(ring: str) -> None:
    """Gradio records every upload's and output's path; the sweep's follow-up drops the deleted ones."""
    kept = app.SCRATCH.write("kept.png", lambda path: shutil.copy(ring, path))
    gone = app.SCRATCH.write("pruned.png", lambda path: shutil.copy(ring, path))
    output_paths = next(block.temp_files for block in app.demo.blocks.values() if isinstance(block, gr.Image))
    for paths in (app.demo.upload_file_set, output_paths):  # where Gradio's upload route and outputs record them
        assert any(paths is recorded for recorded in app.demo.temp_file_sets)
        paths.update({str(kept), str(gone)})
    app.SCRATCH.discard(gone)
    app.forget_deleted()
    for paths in (app.demo.upload_file_set, output_paths):
        assert str(kept) in paths and str(gone) not in paths
    app.SCRATCH.discard(kept)


def test_a_text_file_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a picture\n")
    with pytest.raises(gr.Error, match="not an image"):
        run(str(path))


def test_a_40_megapixel_image_is_downscaled_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.png"
    Image.new("RGB", (8000, 5000), (90, 140, 200)).save(path)
    image, note = app.read_upload(str(path))
    assert image.shape[0] * image.shape[1] <= app.APP_MAX_PIXELS and "Downscaled from 8000×5000" in note
    need_weights("mnist", ALL_ROUNDER)
    monkeypatch.setattr(app, "APP_MAX_PIXELS", 500_000)  # the same path, but quick to denoise in a test
    *_, report, download, _ = run(str(path), level=0.1)
    width, height = Image.open(download).size
    assert "Downscaled from 8000×5000" in report and width * height <= 500_000 and width > height


@pytest.mark.parametrize("level, seed, message", [
    (None, 0, "float"), (0.3, float("inf"), "infinity"), ("lots", 0, "float"),
    (0.3, 2.0**70, r"The seed must be a whole number from -9223372036854775808 to 9223372036854775807"),
])
def test_an_api_call_with_a_bad_level_or_seed_gets_a_clear_message(ring: str, level, seed, message) -> None:
    with pytest.raises(gr.Error, match=f"Cannot add the noise: .*{message}"):
        run(ring, level=level, seed=seed)


def test_widgets_refuse_what_json_lets_through_but_no_finite_number_is() -> None:
    """JSON's Infinity and NaN reach Gradio's preprocessing, whose rounding failed on them with a bare "Error"."""
    for widget, value in ((app.seed, float("inf")), (app.seed, float("nan")), (app.t, float("nan")),
                          (app.level, float("-inf")), (app.walk_passes, float("nan"))):
        with pytest.raises(gr.Error, match=re.escape(f"{widget.label}: a number")):
            widget.preprocess(value)
    assert app.seed.preprocess(10**30) == 10**30 and app.seed.preprocess(None) is None and app.t.preprocess(0.5) == 0.5


def test_an_api_calls_checkbox_must_be_true_or_false(ring: str) -> None:
    """Gradio passes an API call's checkbox value as sent: "no" would add noise, "false" run the baselines."""
    for switches, name in (({"add": "no"}, "add"), ({"baselines": "false"}, "baselines"), ({"add": 1}, "add")):
        with pytest.raises(gr.Error, match=f"{name} must be true or false"):
            run(ring, **switches)
    with pytest.raises(gr.Error, match="add must be true or false, got 'yes'"):
        app.compare(ring, "mnist", "gaussian", 0.3, 0, "yes")


def test_an_api_call_with_no_dataset_gets_the_list_of_them(ring: str) -> None:
    for dataset in (None, "skimage_photos"):  # the registry has it; the tab does not offer it
        with pytest.raises(gr.Error, match=f"Unknown dataset {dataset!r}; choose one of mnist, fashion_mnist, "
                                           r"cifar10, photos\."):
            run(ring, dataset=dataset)


def test_uploads_are_held_to_the_librarys_pixel_limit_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wide.png"
    Image.new("L", (400, 300), 128).save(path)
    monkeypatch.setenv("DENOISER_MAX_PIXELS", "10000")  # a deployment's lower limit
    image, note = app.read_upload(str(path))
    assert image.shape[0] * image.shape[1] <= 10_000 and "Downscaled from 400×300" in note


# Latent interpolation


def test_interpolation_walks_from_a_to_b(tmp_path: Path) -> None:
    need_weights("mnist", LATENT)
    a, b = digit(tmp_path / "a.png"), digit(tmp_path / "b.png", (28, 28))
    Image.fromarray(255 - pixels(b).astype(np.uint8)).save(b)  # B: the negative of A
    frame, strip, gif, encoded = app.walk("mnist", a, b, 0.5, LATENT)
    assert len(strip) == app.STEPS and [c for _, c in strip][::4] == ["t = 0", "t = 0.5", "t = 1"]
    assert (encoded.dataset, encoded.model, encoded.path) == ("mnist", LATENT, "linear")
    assert encoded.latents.shape[0] == 2
    start, end = pixels(app.between(encoded, 0.0)), pixels(app.between(encoded, 1.0))
    assert np.array_equal(start, pixels(strip[0][0])) and np.array_equal(end, pixels(strip[-1][0]))
    assert not np.array_equal(start, end)
    assert size(frame) == size(strip[0][0])
    assert Image.open(gif).n_frames > 1


def test_a_broken_walk_image_is_named_a_or_b(tmp_path: Path) -> None:
    need_weights("mnist", LATENT)
    good, broken = digit(tmp_path / "a.png"), tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(gr.Error, match="Image B: This file is not an image"):
        app.walk("mnist", good, str(broken), 0.5, LATENT)
    broken.write_bytes(b"not an image")  # the refused upload was deleted
    with pytest.raises(gr.Error, match="Image A: This file is not an image"):
        app.walk("mnist", str(broken), good, 0.5, LATENT)


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_latent_menu_offers_the_studys_winner_and_the_autoencoders(dataset: str) -> None:
    for name in (STUDY_WINNER, LATENT):
        need_weights(dataset, name)
    menu = app.latent_menu(dataset)
    names = [name for _, name in menu.choices]
    assert {STUDY_WINNER, LATENT} <= set(names) and all(MODELS[name].latent for name in names)
    assert menu.value == names[0] == denoiser.latent_models(dataset)[0]
    assert "study's winner" in dict((name, label) for label, name in menu.choices)[STUDY_WINNER]


def test_each_latent_model_walks_along_either_path(tmp_path: Path) -> None:
    a, b = digit(tmp_path / "a.png"), digit(tmp_path / "b.png", (20, 28))
    for model in denoiser.latent_models("mnist"):
        frames = {path: app.walk("mnist", a, b, 0.5, model, path) for path in PATHS}
        ends = {path: (pixels(strip[0][0]), pixels(strip[-1][0])) for path, (_, strip, _, _) in frames.items()}
        middles = {path: pixels(frame) for path, (frame, *_) in frames.items()}
        assert all(np.array_equal(x, y) for x, y in zip(ends["linear"], ends["spherical"])), model  # same ends
        assert not np.array_equal(middles["linear"], middles["spherical"]), model  # another way between them
        assert pixels(app.between(frames["spherical"][3], 0.5)).tolist() == middles["spherical"].tolist()


def test_a_walk_sends_its_frames_back_through_the_model_as_often_as_asked(tmp_path: Path) -> None:
    need_weights("mnist", LATENT)
    a, b = digit(tmp_path / "a.png"), digit(tmp_path / "b.png", (20, 28))
    plain, projected = (app.walk("mnist", a, b, 0.5, LATENT, "linear", passes) for passes in (0, 3))
    assert (plain[3].passes, projected[3].passes) == (0, 3)
    walker = denoiser.load("mnist", model=LATENT)
    z_a, z_b = projected[3].latents
    expected = pixels(app.view(walker.decode_between(z_a, z_b, 0.5, "linear", passes=3)[0]))
    assert np.array_equal(pixels(projected[0]), expected)  # the frame at t is the projected decoding
    assert not np.array_equal(pixels(projected[0]), pixels(plain[0]))
    assert np.array_equal(pixels(app.between(projected[3], 0.5)), pixels(projected[0]))  # the slider keeps the passes
    for wrong in (app.MAX_PASSES + 1, 0.5):
        with pytest.raises(gr.Error, match=f"whole number from 0 to {app.MAX_PASSES}"):
            app.walk("mnist", a, b, 0.5, LATENT, "linear", wrong)


def test_walking_a_model_without_a_latent_space_says_which_can(ring: str) -> None:
    need_weights("mnist", ALL_ROUNDER)
    with pytest.raises(gr.Error, match="no latent space to walk.*latent_ae"):
        app.walk("mnist", ring, ring, 0.5, ALL_ROUNDER)
    with pytest.raises(gr.Error, match="Unknown interpolation"):
        app.walk("mnist", ring, ring, 0.5, LATENT, "zigzag")
    with pytest.raises(gr.Error, match="Unknown model 0"):
        app.walk("mnist", ring, ring, 0.5, 0)  # not the default
    with pytest.raises(gr.Error, match=r"Unknown dataset 'photos'; choose one of mnist, fashion_mnist, cifar10\."):
        app.walk("photos", ring, ring, 0.5)  # no latent models


def test_the_walk_apis_default_model_is_the_default_of_the_dataset_it_names(ring: str) -> None:
    """README: every argument but the files has the page's default; the page's own is the dataset's."""
    parameters = app.demo.get_api_info()["named_endpoints"]["/interpolate"]["parameters"]
    default = next(p["parameter_default"] for p in parameters if p["parameter_name"] == "model")
    for dataset in ("mnist", "cifar10"):
        need_weights(dataset, denoiser.latent_models(dataset)[0] if denoiser.latent_models(dataset) else LATENT)
        assert app.walk(dataset, ring, ring, 0.5, default)[3].model == denoiser.latent_models(dataset)[0]
    loads = [fn for fn in app.demo.fns.values() if any(t[1] == "load" for t in fn.targets)]
    assert any(fn.fn is app.latent_menu for fn in loads)  # the page chooses its default when it opens


def test_interpolation_waits_for_both_images(ring: str) -> None:
    assert app.walk("mnist", ring, None, 0.5) == (None, [], None, None)
    assert app.between(None, 0.5) is None


def test_interpolation_of_a_dataset_without_weights_says_so(ring: str, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    need_weights("cifar10", LATENT)
    app.walk("cifar10", ring, ring, 0.5)  # loads, and caches, the real weights
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(gr.Error, match="No weights"):
        app.walk("cifar10", ring, ring, 0.5)


# About


def test_about_shows_results_or_says_they_are_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    assert app.results_section() == ("No results yet: run `python -m training.evaluate`.", None)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / RESULTS_TABLE).write_text("| method | PSNR |\n")
    Image.new("RGB", (4, 4)).save(tmp_path / "results" / RESULTS_PLOT)
    text, plot = app.results_section()
    assert text == "| method | PSNR |\n" and Path(plot).is_file()


@pytest.mark.parametrize("figure", [SHARP_CROPS, STUDY_CURVES, CAPACITY_LADDER])
def test_about_shows_a_figure_for_every_dataset_drawn(figure: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    assert app.figures(figure) == []
    (tmp_path / "results").mkdir()
    for dataset in ("mnist", "cifar10"):
        Image.new("RGB", (4, 4)).save(tmp_path / "results" / figure.format(dataset=dataset))
    Image.new("RGB", (4, 4)).save(tmp_path / "results" / "unrelated.png")
    assert [(Path(path).name, title) for path, title in app.figures(figure)] == [
        (figure.format(dataset="mnist"), "MNIST"), (figure.format(dataset="cifar10"), "CIFAR-10")]


def test_about_shows_the_capacity_ladders_table_beside_its_plot(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    (tmp_path / "results").mkdir()
    assert app.ladder_tables() == ""
    plot = tmp_path / "results" / CAPACITY_LADDER.format(dataset="cifar10")
    Image.new("RGB", (4, 4)).save(plot)
    plot.with_suffix(".md").write_text("| filters | latent |\n")
    assert app.ladder_tables() == "#### CIFAR-10: the capacity ladder\n\n| filters | latent |\n"
    # the committed one: the table diagnose drew, with its verdict
    monkeypatch.delenv("DENOISER_WEIGHTS_DIR")
    assert "| 32, 64 | 256 | 2,177,923 |" in app.ladder_tables() and "covers it" in app.ladder_tables()


def test_about_shows_the_midpoints_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    assert app.midpoints_table() == ""  # not measured yet: nothing shown
    # the committed one: training.midpoints' table, with the real images' row and the VAE-GAN's
    monkeypatch.delenv("DENOISER_WEIGHTS_DIR")
    text = app.midpoints_table()
    assert text.startswith("#### Walking the latent space") and "| MNIST | real test images |" in text
    assert "| Fashion-MNIST | `latent_vae_gan` | spherical |" in text


def test_model_cards_show_every_trained_model(use_weights: Path) -> None:
    entries = denoiser.list_models()
    cards = app.model_cards().split("#### ")[1:]
    assert len(cards) == len(entries) == 5  # conftest's tiny weights: never an empty manifest
    for card, entry in zip(cards, entries):
        assert f"(`{entry.model}`)" in card and f"{entry.params:,} parameters" in card
        psnr = entry.gaussian(0.3)["psnr"]
        assert f"Gaussian σ 0.3: {psnr:.2f} dB" in card


def test_about_tells_the_readmes_story() -> None:
    text = app.story()
    assert text.strip().startswith("**The 2020 study**") and "res_unet_gaussian" in text
    assert text in app.README.read_text() and "<!--" not in text


# Speed


def test_warm_up_loads_every_model_the_app_opens_with(monkeypatch: pytest.MonkeyPatch, ring: str) -> None:
    for dataset in SAMPLED:
        need_weights(dataset, denoiser.best_model(dataset, app.NOISE))
        need_weights(dataset, app.default_walker(dataset))
    inference._load.cache_clear()
    app.warm_up()

    def not_again(*args, **kwargs):
        raise AssertionError("a model was loaded after the warm-up")

    monkeypatch.setattr(inference.keras.models, "load_model", not_again)
    for dataset in SAMPLED:
        assert "PSNR" in run(ring, dataset=dataset, model=app.AUTO, kind=app.NOISE)[3]
        app.walk(dataset, ring, ring, 0.5)


def test_without_weights_the_app_still_starts_and_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path / "nowhere"))
    app.warm_up()
    err = capsys.readouterr().err
    assert all(f"Not warmed up for {DATASETS[name].title}: No weights for dataset {name!r}" in err for name in SAMPLED)


def test_a_wrong_setting_stops_the_app_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(Path(app.__file__))], env={**os.environ, "DENOISER_TILE": "250"},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        "error: DENOISER_TILE='250': it must be a whole number ≥ 32 divisible by 4 (default 256)."]


def test_the_gan_is_offered_and_compared_where_trained_but_never_auto(gan_weights: Path, tmp_path: Path) -> None:
    assert ("Sharp (GAN)", "res_unet_gan") in app.model_menu("cifar10").choices
    assert "res_unet_gan" not in [name for _, name in app.model_menu("mnist").choices]  # not trained there
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(photo)
    _, items = app.compare(str(photo), "cifar10", "gaussian", 0.3, 0, True)
    assert "Sharp (GAN)" in {caption.split(":")[0] for _, caption in items}
    assert denoiser.best_model("cifar10", "gaussian") != "res_unet_gan"
