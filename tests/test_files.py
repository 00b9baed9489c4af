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


def test_a_name_as_long_as_names_can_be_is_written_and_nothing_is_left_beside_it(tmp_path):
    path = tmp_path / ("a" * 251 + ".png")  # 255 bytes: a temporary name that adds to it is too long
    partials = []
    write_whole(path, lambda partial: (partials.append(partial), partial.write_bytes(b"png")))
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and path.read_bytes() == b"png"
    assert partials[0].suffix == ".png"  # Keras's save, for one, takes the format from the suffix
