import pytest

from denoiser.config import settings


def test_defaults_work_on_a_fresh_clone(monkeypatch):
    for name in ("DENOISER_DATA_DIR", "DENOISER_TILE", "DENOISER_MAX_PIXELS", "DENOISER_ENSEMBLE_MAX_PIXELS",
                 "DENOISER_APP_DISK_MB"):
        monkeypatch.delenv(name, raising=False)
    s = settings()
    assert s.data_dir is None and (s.tile, s.ensemble_max_pixels, s.app_disk_mb) == (256, 65536, 1024)
    assert (s.weights_dir / "manifest.json").is_file()


@pytest.mark.parametrize("name, value", [("DENOISER_TILE", "250"), ("DENOISER_TILE", "0"), ("DENOISER_TILE", "-64"),
                                         ("DENOISER_MAX_PIXELS", "lots"), ("DENOISER_ENSEMBLE_MAX_PIXELS", "-1"),
                                         ("DENOISER_APP_DISK_MB", "0")])
def test_a_bad_setting_is_named_with_what_it_needs(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name}='{value}': it must be a whole number"):
        settings()


def test_settings_are_read_from_the_environment_when_asked(monkeypatch):
    """That the library then denoises that way is in test_inference (self-ensemble limit, tiles)."""
    monkeypatch.setenv("DENOISER_ENSEMBLE_MAX_PIXELS", "0")
    monkeypatch.setenv("DENOISER_TILE", "128")
    assert (settings().ensemble_max_pixels, settings().tile) == (0, 128)
