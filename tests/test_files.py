import pytest

from denoiser.files import write_whole


def test_a_write_that_fails_midway_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "state.json"
    write_whole(path, lambda partial: partial.write_text("old"))

    def half_then_crash(partial):
        partial.write_text("ne")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_whole(path, half_then_crash)
    assert path.read_text() == "old"
    write_whole(path, lambda partial: partial.write_text("new"))
    assert path.read_text() == "new"
