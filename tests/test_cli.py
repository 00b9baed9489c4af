import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import denoiser.__main__ as cli
from denoiser import ResizedWarning, __version__, inference
from denoiser.__main__ import main


def test_batch_cli_denoises_files_and_folders_and_skips_broken_ones(use_weights, tmp_path, capsys):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(np.full((40, 60, 3), 120, np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((20, 20), 200, np.uint8)).save(folder / "sub" / "b.jpg")
    (folder / "broken.png").write_bytes(b"not really a png")
    single = tmp_path / "c.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(single)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "c.jpg")  # same name, other format

    status = main([str(folder), str(single), str(tmp_path / "c.jpg"), "--out", str(tmp_path / "out"),
                   "--add-noise", "gaussian:0.2"])

    assert status == 1
    assert "broken.png" in capsys.readouterr().err
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png"))
    assert written == ["a.png", "a_noisy.png", "c.jpg.png", "c.jpg_noisy.png", "c.png.png", "c.png_noisy.png",
                       "sub/b.png", "sub/b_noisy.png"]
    assert Image.open(tmp_path / "out" / "a.png").size == (60, 40)
    assert Image.open(tmp_path / "out" / "sub" / "b.png").mode == "L"


def test_folders_are_searched_for_every_picture_format_and_the_other_files_are_named(use_weights, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    picture = Image.fromarray(np.full((8, 8, 3), 90, np.uint8))
    picture.save(folder / "chrome.jfif", "JPEG")  # as browsers save a JPEG
    picture.save(folder / "scan.ppm")
    picture.save(folder / "web.avif")
    (folder / "phone.heic").write_bytes(b"not decodable here")
    (folder / "notes.txt").write_text("a sidecar")
    (folder / ".DS_Store").write_bytes(b"")  # hidden: passed over
    (folder / "._chrome.jpg").write_bytes(b"Mac metadata")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main")

    assert main([str(folder), "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["chrome.png", "scan.png", "web.png"]
    assert "Left out 2 file(s) that are not images by their suffix (.heic: 1, .txt: 1)" in capsys.readouterr().err


def test_a_batch_stopped_with_ctrl_c_says_how_to_go_on(use_weights, tmp_path, capsys, monkeypatch):
    for name in "ab":
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / f"{name}.png")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "denoise_file", interrupted)
    assert main([str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--out", str(tmp_path / "out")]) == 130
    assert "run the same command again to go on" in capsys.readouterr().err
    monkeypatch.setattr(cli, "load", interrupted)  # still loading the model
    assert main([str(tmp_path / "a.png"), "--out", str(tmp_path / "out"), "--overwrite"]) == 130
    assert "run the same command without --overwrite to go on" in capsys.readouterr().err


def test_batch_cli_all_good_exits_zero_and_bad_flags_explain(use_weights, tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    assert main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o")]) == 0
    with pytest.raises(SystemExit):
        main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o"), "--add-noise", "blur:1"])
    assert "KIND:LEVEL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o"), "--add-noise", "gaussian:0.9"])
    assert "must lie in [0, 0.5], got 0.9" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o"), "--dataset", "fashion_mnist"])
    assert "No weights" in capsys.readouterr().err


def test_batch_cli_says_which_model_it_runs_and_which_file_it_resized(use_weights, tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResizedWarning)  # a bare warning, without the file's name, would fail here
        assert main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o"), "--dataset", "mnist", "--model",
                     "latent_ae", "--add-noise", "speckle:0.2"]) == 0
    err = capsys.readouterr().err
    assert f"Denoising 1 image(s) with mnist/latent_ae after adding speckle noise at 0.2 into {tmp_path / 'o'}." in err
    assert f"{tmp_path / 'x.png'}: latent_ae takes 28×28 images; the 8×8 input was resized" in err


def test_batch_cli_keeps_a_16_bit_scans_depth(use_weights, tmp_path):
    Image.fromarray((np.linspace(0, 1, 64).reshape(8, 8) * 65535).astype(np.uint16)).save(tmp_path / "scan.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "plain.png")
    assert main([str(tmp_path / "scan.png"), str(tmp_path / "plain.png"), "--out", str(tmp_path / "o"), "--dataset",
                 "mnist", "--add-noise", "gaussian:0.1"]) == 0
    modes = {p.name: Image.open(p).mode for p in (tmp_path / "o").iterdir()}
    assert modes == {"scan.png": "I;16", "scan_noisy.png": "I;16", "plain.png": "L", "plain_noisy.png": "L"}


def test_batch_cli_with_the_committed_model_removes_most_of_the_noise(tmp_path):
    y, x = np.mgrid[:64, :64]
    original = np.stack([x * 4, y * 4, np.full_like(x, 128)], axis=-1).astype(np.uint8)  # smooth colour ramps
    Image.fromarray(original).save(tmp_path / "ramp.png")
    assert main([str(tmp_path / "ramp.png"), "--out", str(tmp_path / "out"), "--add-noise", "gaussian:0.2"]) == 0
    noisy, denoised = (np.asarray(Image.open(tmp_path / "out" / name), np.float32)
                       for name in ("ramp_noisy.png", "ramp.png"))
    error = {name: np.sqrt(np.mean((image - original) ** 2)) for name, image in (("noisy", noisy), ("out", denoised))}
    assert error["out"] < error["noisy"] / 3


def test_batch_cli_runs_the_photo_models_by_default(tmp_path, monkeypatch):
    """Issue #10: ordinary pictures go through the models trained on photos, the all-rounder for
    already noisy ones and the Gaussian specialist for added Gaussian noise."""
    used = []

    def load(*args, **kwargs):  # the library's own, recorded
        used.append(inference.load(*args, **kwargs))
        return used[-1]

    monkeypatch.setattr(cli, "load", load)
    Image.new("RGB", (40, 24), (90, 140, 200)).save(tmp_path / "flat.png")
    for extra in ([], ["--add-noise", "gaussian:0.1"]):
        assert main([str(tmp_path / "flat.png"), "--out", str(tmp_path / "out"), *extra]) == 0
    assert [(den.entry.dataset, den.name) for den in used] == [("photos", "res_unet"), ("photos", "res_unet_gaussian")]


def test_batch_cli_never_writes_one_result_over_another_or_over_an_input(use_weights, tmp_path, capsys):
    for folder in "abc":  # three inputs of one name
        (tmp_path / folder).mkdir()
        Image.fromarray(np.full((8, 8, 3), 60 * "abc".index(folder), np.uint8)).save(tmp_path / folder / "y.png")
    status = main([str(tmp_path / f / "y.png") for f in "abc"] + ["--out", str(tmp_path / "o")])
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["y.png-2.png", "y.png-3.png", "y.png.png"]

    # x's noisy copy and the denoised input that is itself named x_noisy must not share a file
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "a" / "x.png")
    Image.fromarray(np.full((8, 8, 3), 255, np.uint8)).save(tmp_path / "a" / "x_noisy.png")
    assert main([str(tmp_path / "a"), "--out", str(tmp_path / "n"), "--add-noise", "gaussian:0.1"]) == 0
    assert np.asarray(Image.open(tmp_path / "n" / "x_noisy.png")).mean() < 60  # x's noisy copy, dark
    assert np.asarray(Image.open(tmp_path / "n" / "x_noisy-2.png")).mean() > 200  # the white input, denoised

    before = {p: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "a"), "--out", str(tmp_path / "a")])  # results over their own inputs
    assert stop.value.code == 2 and "would replace the input" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (tmp_path / "a").iterdir()} == before


def test_batch_cli_explains_an_unusable_out_and_skips_a_file_it_cannot_write(use_weights, tmp_path, capsys):
    for name in ("gray.png", "rgb.png"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / name)
    inputs = [str(tmp_path / "gray.png"), str(tmp_path / "rgb.png")]
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as stop:
        main(inputs + ["--out", str(tmp_path / "file")])
    assert stop.value.code == 2 and "cannot write to --out" in capsys.readouterr().err

    (tmp_path / "out" / "gray.png").mkdir(parents=True)  # a folder where the first result would go
    assert main(inputs + ["--out", str(tmp_path / "out"), "--overwrite"]) == 1
    assert "could not write the result of" in capsys.readouterr().err
    assert (tmp_path / "out" / "rgb.png").is_file()  # the next file was still done
    assert [p.name for p in (tmp_path / "out").iterdir() if "partial" in p.name] == []

    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 1
    assert "No images found" in capsys.readouterr().err


def test_batch_cli_leaves_earlier_results_inside_an_input_folder_alone(use_weights, tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    for _ in range(2):  # the second run must not denoise the first run's result again
        assert main([str(tmp_path), "--out", str(tmp_path / "clean")]) == 0
        assert "Left out" not in capsys.readouterr().err  # its own results go unmentioned
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png")) == ["clean/x.png", "x.png"]
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "clean" / "mine.jpg")  # a picture of the user's
    assert main([str(tmp_path), "--out", str(tmp_path / "clean")]) == 0
    assert f"Left out 1 image(s) inside --out {tmp_path / 'clean'}, such as {tmp_path / 'clean' / 'mine.jpg'}" in (
        capsys.readouterr().err)


def test_batch_cli_keeps_files_already_in_out_unless_told_to_overwrite(use_weights, tmp_path, capsys):
    """A rerun after an interrupted one writes only what is missing, and never replaces what it finds."""
    for name in ("a.png", "b.png", "c.png"):
        Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(tmp_path / name)
    out = tmp_path / "o"
    out.mkdir()
    (out / "a.png").write_bytes(b"precious")  # not ours: it must survive
    (out / "b_noisy.png").write_bytes(b"also precious")  # as if a run had stopped between b's two files
    inputs = [str(tmp_path / name) for name in ("a.png", "b.png", "c.png")]
    assert main(inputs + ["--out", str(out), "--add-noise", "gaussian:0.1"]) == 0
    assert "2 input(s) had results already in" in capsys.readouterr().err
    assert (out / "a.png").read_bytes() == b"precious" and (out / "b_noisy.png").read_bytes() == b"also precious"
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "a_noisy.png", "b.png", "b_noisy.png", "c.png",
                                                     "c_noisy.png"]
    written = {name: (out / name).stat().st_mtime_ns for name in ("a_noisy.png", "b.png", "c.png", "c_noisy.png")}
    assert main(inputs + ["--out", str(out), "--add-noise", "gaussian:0.1"]) == 0  # all there: nothing is redone
    assert {name: (out / name).stat().st_mtime_ns for name in written} == written
    assert main(inputs + ["--out", str(out), "--add-noise", "gaussian:0.1", "--overwrite"]) == 0
    assert Image.open(out / "a.png").size == (8, 8) and Image.open(out / "b_noisy.png").size == (8, 8)


def test_batch_cli_refuses_an_input_folder_as_out(use_weights, tmp_path, capsys):
    """Results written among the inputs would be taken for inputs on the next run."""
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "c.jpg")
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path), "--out", str(tmp_path / ".")])
    assert stop.value.code == 2 and "--out is the input folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["c.jpg"]


def test_batch_cli_refuses_an_unusable_seed_and_reads_no_pipe_or_folder_as_an_image(use_weights, tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o"), "--seed", "9" * 23])
    assert stop.value.code == 2 and "whole number from" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "x.png"), "--out", ""])
    assert stop.value.code == 2 and "--out needs a folder name" in capsys.readouterr().err
    album = tmp_path / "album.jpg"  # a folder with an image's name: searched, not read
    album.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(album / "y.png")
    os.mkfifo(tmp_path / "pipe.png")  # reading it would wait for a writer forever
    assert main([str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "pipe.png is not a file" in err and "album" not in err
    assert sorted(p.relative_to(tmp_path / "o").as_posix() for p in (tmp_path / "o").rglob("*.png")) == [
        "album.jpg/y.png", "x.png"]


def test_the_library_installs_as_a_package_with_its_command(use_weights, tmp_path):
    """`pip install .` gives the library (samples included) and the `denoiser` command, away from the checkout."""
    pytest.importorskip("setuptools")
    source, site, root = tmp_path / "source", tmp_path / "site", Path(__file__).parent.parent
    source.mkdir()  # a copy of what the package is built from, so the build leaves nothing in the checkout
    for name in ("pyproject.toml", "requirements.txt"):
        shutil.copy(root / name, source)
    shutil.copytree(root / "denoiser", source / "denoiser", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
                    str(site), str(source)], check=True, capture_output=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    env = {**os.environ, "PYTHONPATH": str(site), "DENOISER_WEIGHTS_DIR": str(use_weights)}
    done = subprocess.run([str(site / "bin" / "denoiser"), "x.png", "--dataset", "mnist", "--out", "o"], cwd=tmp_path,
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "o" / "x.png").size == (8, 8)
    where = subprocess.run([sys.executable, "-c", "import denoiser, denoiser.samples; print(denoiser.__file__); "
                            "print(len(denoiser.samples.load_samples('mnist').images))"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert Path(where[0]).is_relative_to(site) and int(where[1]) == 100
    version = subprocess.run([str(site / "bin" / "denoiser"), "--version"], env=env, capture_output=True, text=True)
    assert version.stdout == f"denoiser {__version__}\n"
