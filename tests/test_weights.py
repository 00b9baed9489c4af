import pytest

from denoiser import weights
from denoiser.weights import WeightsEntry, WeightsError, find_entry, read_manifest, write_entry


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
