"""The app's temporary folder: bounded as it fills, gone when its process is, however that ends."""

import os
import subprocess
import sys
import time
from pathlib import Path

from denoiser import scratch as module
from denoiser.scratch import LOCK, Scratch, remove_stale

# Child processes load scratch.py alone: importing the denoiser package would start TensorFlow.
LOAD = (f"import importlib.util as u, sys, time; from pathlib import Path; "
        f"spec = u.spec_from_file_location('scratch', {module.__file__!r}); m = u.module_from_spec(spec); "
        f"spec.loader.exec_module(m); ")


def test_old_and_excess_files_are_pruned_oldest_first(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path, keep_seconds=3600, keep_bytes=2500)
    paths = [scratch.write("f.bin", lambda path: path.write_bytes(bytes(1000))) for _ in range(5)]
    assert [p.exists() for p in paths] == [False, False, False, True, True]
    assert len([f for f in scratch.folder.iterdir() if f.is_dir()]) == 2  # their sub-folders went too
    scratch.keep_seconds = 0
    time.sleep(0.01)
    newest = scratch.write("g.bin", lambda path: path.write_bytes(b"x"))
    assert newest.exists() and not any(p.exists() for p in paths)
    scratch.remove()
    assert not scratch.folder.exists()


def test_a_new_process_removes_the_folders_of_dead_ones_only(tmp_path: Path) -> None:
    hold = LOAD + "s = m.Scratch(Path(sys.argv[1]), 60, 10**6); print(s.folder, flush=True); time.sleep(60)"
    live = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        live_folder = Path(live.stdout.readline().strip())
        killed = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        dead_folder = Path(killed.stdout.readline().strip())
        killed.kill()  # no exit handler runs: the folder stays behind
        killed.wait()
        assert dead_folder.is_dir() and (dead_folder / LOCK).is_file()
        assert remove_stale(tmp_path) == [dead_folder]
        assert live_folder.is_dir() and not dead_folder.exists()
    finally:
        live.kill()
        live.wait()


def test_a_normal_exit_removes_the_folder(tmp_path: Path) -> None:
    code = LOAD + "print(m.Scratch(Path(sys.argv[1]), 60, 10**6).folder)"
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    folder = Path(out.stdout.strip())
    assert folder.parent == tmp_path and not folder.exists()


def test_discard_deletes_a_file_of_the_folder_and_nothing_outside_it(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path / "root", keep_seconds=60, keep_bytes=2**20)
    upload = scratch.folder / "abc123" / "refused.png"
    upload.parent.mkdir()
    upload.write_bytes(b"not an image")
    outside = tmp_path / "mine.png"
    outside.write_bytes(b"keep me")
    scratch.discard(upload)
    scratch.discard(outside)
    scratch.discard(scratch.folder / ".." / "mine.png")  # no way out through ".."
    assert not upload.exists() and outside.read_bytes() == b"keep me"
    scratch.discard(upload)  # already gone: no error


def upload(scratch: Scratch, name: str, size: int, age: float = 0.0, content: str = "") -> Path:
    """A file written into the folder the way Gradio copies an upload, not by write(): in a sub-folder named
    after its content, which uploads of one content share whatever their names."""
    path = scratch.folder / f"hash-{content or name}" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(bytes(size))
    written = time.time() - age
    os.utime(path, (written, written))
    return path


def test_uploads_count_from_their_last_use_and_go_least_recently_used_first(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path, keep_seconds=3600, keep_bytes=2500)
    old, fresh = upload(scratch, "old.png", 1000), upload(scratch, "fresh.png", 1000)
    scratch.use(old)  # read by an event: it now counts from here
    scratch.use(fresh)
    scratch.use(old)  # read again, by the page's next event
    scratch.write("view.png", lambda path: path.write_bytes(bytes(1000)))
    assert old.exists() and not fresh.exists()  # 3000 bytes: the least recently used went
    scratch.discard(old)
    assert not old.parent.exists()
    scratch.write("more.png", lambda path: path.write_bytes(bytes(1400)))  # the discarded bytes no longer count
    assert len([f for f in scratch.folder.iterdir() if f.is_dir()]) == 2


def test_a_sweep_finds_uploads_no_event_read_and_prunes_them_by_when_they_were_written(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path, keep_seconds=60, keep_bytes=2500)
    examples = scratch.lasting("examples")
    (examples / "photo.png").write_bytes(bytes(5000))  # never pruned, never counted
    scratch.use(examples / "photo.png")
    stale = upload(scratch, "stale.png", 10, age=120)  # unused past keep_seconds
    unread = [upload(scratch, f"junk{i}.bin", 1000, age=30 - i) for i in range(3)]  # oldest first
    view = scratch.write("view.png", lambda path: path.write_bytes(bytes(100)))
    assert stale.exists() and all(p.exists() for p in unread)  # a write alone does not look at the disk
    scratch.sweep()
    assert not stale.exists() and [p.exists() for p in unread] == [False, True, True] and view.exists()
    assert (examples / "photo.png").exists()


def test_a_background_sweep_runs_on_its_own(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path, keep_seconds=60, keep_bytes=10)
    first, second = upload(scratch, "a.bin", 100, age=2), upload(scratch, "b.bin", 100, age=1)
    scratch.sweep_every(0.05)
    deadline = time.time() + 10
    while first.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not first.exists() and second.exists()  # over the bytes: all but the most recent


def test_uploads_of_one_content_under_many_names_are_pruned_one_by_one(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path, keep_seconds=60, keep_bytes=2500)
    copies = [upload(scratch, f"copy{i}.png", 1000, age=10 - i, content="same") for i in range(5)]
    scratch.sweep()
    assert [p.exists() for p in copies] == [False, False, False, True, True]  # one folder, not one unit
    for path in copies[3:]:
        scratch.discard(path)
    assert not copies[0].parent.exists()  # gone with its last file
