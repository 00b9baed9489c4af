import multiprocessing
from dataclasses import replace
from pathlib import Path

import pytest

from denoiser import weights
from denoiser.weights import WeightsEntry, WeightsError, find_entry, metric_key, read_manifest, write_entry


def _entry(model: str, psnr: float = 20.0) -> WeightsEntry:
    return WeightsEntry("mnist", model, f"python -m training.train --model {model}", {}, 1, 1.0, 10,
                        {"gaussian_0.1": {"psnr": psnr}})


def test_manifest_add_and_replace(tmp_path):
    write_entry(_entry("res_unet"), tmp_path)
    write_entry(_entry("cnn_pool"), tmp_path)
    write_entry(_entry("res_unet", psnr=30.0), tmp_path)
    entries = read_manifest(tmp_path)
    assert [e.model for e in entries] == ["cnn_pool", "res_unet"]
    assert entries[1].metrics["gaussian_0.1"]["psnr"] == 30.0


def test_the_manifest_is_parsed_once_per_version(tmp_path, monkeypatch):
    write_entry(_entry("res_unet"), tmp_path)
    parsed = []
    loads = weights.json.loads
    monkeypatch.setattr(weights.json, "loads", lambda text: parsed.append(text) or loads(text))
    assert read_manifest(tmp_path) == read_manifest(tmp_path) and len(parsed) == 1
    edited = (tmp_path / "manifest.json").read_text().replace('"epochs": 1,', '"epochs": 12,')  # by hand, elsewhere
    (tmp_path / "manifest.json").write_text(edited)
    assert read_manifest(tmp_path)[0].epochs == 12 and len(parsed) == 2
    write_entry(_entry("res_unet", psnr=30.0), tmp_path)  # back to the first size, maybe within one clock tick
    assert read_manifest(tmp_path)[0].gaussian(0.1) == {"psnr": 30.0}


def test_missing_file_offline_names_file_source_and_command(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("DENOISER_HUB_REPO", "someone/denoiser-weights")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    write_entry(_entry("res_unet"), tmp_path)
    with pytest.raises(WeightsError) as error:
        weights.weights_file(find_entry("mnist", "res_unet"))
    message = str(error.value)
    assert "mnist/res_unet.keras" in message and "someone/denoiser-weights" in message
    assert "python -m training.train --model res_unet" in message


def test_a_model_trained_in_stages_names_its_first_step_not_the_whole_chain(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    staged = replace(_entry("res_unet"), command=" && ".join(f"python -m training.train --stage {i}" for i in range(9)))
    with pytest.raises(WeightsError) as error:
        weights.weights_file(staged)
    assert str(error.value).endswith("python -m training.train --stage 0 && ... (8 more steps: the manifest's "
                                     "command, or training/train_all.sh)")


def test_a_missing_manifest_names_its_path_and_the_setting_and_a_wrong_name_lists_the_datasets_models(
        tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(WeightsError, match=f"{tmp_path / 'nowhere' / 'manifest.json'} does not exist. Point "
                                           "DENOISER_WEIGHTS_DIR at a weights folder"):
        find_entry("mnist", "res_unet")
    (tmp_path / "manifest.json").write_text("[]")
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsError, match=f"{tmp_path / 'manifest.json'} lists no models. Point"):
        find_entry("mnist", "res_unet")
    write_entry(_entry("res_unet"), tmp_path)
    write_entry(replace(_entry("cnn_pool"), dataset="cifar10"), tmp_path)
    with pytest.raises(WeightsError, match=r"and model 'cnn_deep'\. Trained mnist models: res_unet\.$"):
        find_entry("mnist", "cnn_deep")


def test_local_file_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "res_unet.keras").write_bytes(b"x")
    assert weights.weights_file(_entry("res_unet")) == tmp_path / "mnist" / "res_unet.keras"


def test_downloads_from_the_hub_when_missing(tmp_path, monkeypatch):
    calls = []

    def fake_download(repo_id, filename):
        calls.append((repo_id, filename))
        return str(tmp_path / "cache" / filename)

    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    path = weights.weights_file(_entry("res_unet"))
    assert calls == [("the-denoiser/denoiser-weights", "mnist/res_unet.keras")]
    assert path.name == "res_unet.keras"


def test_one_owner_for_the_metric_key_and_the_weights_path(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    photos_sigma = round(15 / 255, 4)  # the photos' levels are not tenths
    entry = WeightsEntry("photos", "res_unet", "cmd", {}, 1, 1.0, 10,
                         {metric_key(0.1): {"psnr": 30.0}, metric_key(photos_sigma): {"psnr": 31.5}})
    assert set(entry.metrics) == {"gaussian_0.1", "gaussian_0.0588"}
    assert entry.gaussian(photos_sigma) == {"psnr": 31.5} and entry.gaussian(0.5) is None
    assert entry.gaussian_scores() == {0.1: {"psnr": 30.0}, 0.0588: {"psnr": 31.5}}
    assert entry.path() == tmp_path / "photos" / "res_unet.keras"
    assert entry.path(tmp_path / "other") == tmp_path / "other" / "photos" / "res_unet.keras"


def _write_entries(folder: str, worker: int, count: int) -> None:
    for i in range(count):
        write_entry(_entry(f"model_{worker}_{i}"), Path(folder))


def test_runs_writing_the_manifest_at_once_lose_no_entry(tmp_path):
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_entries, args=(str(tmp_path), worker, 30)) for worker in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0] * 4
    assert len(read_manifest(tmp_path)) == 4 * 30
    assert sorted(path.name for path in tmp_path.iterdir()) == ["manifest.json", "manifest.json.lock"]  # no leftovers
