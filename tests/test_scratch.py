"""The app's temporary folder: bounded as it fills, gone when its process is, however that ends."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from denoiser import scratch as module
from denoiser.scratch import LOCK, Scratch, disk_bytes, remove_stale

# Child processes load scratch.py alone: importing the denoiser package would start TensorFlow.
LOAD = (f"import importlib.util as u, sys, time; from pathlib import Path; "
        f"spec = u.spec_from_file_location('scratch', {module.__file__!r}); m = u.module_from_spec(spec); "
        f"spec.loader.exec_module(m); ")


def cost(tmp_path: Path, size: int) -> int:
    """What a file of `size` bytes costs the budget on this disk."""
    probe = tmp_path / f"probe-{size}"
    probe.write_bytes(bytes(size))
    return disk_bytes(probe.stat())


def test_old_and_excess_files_are_pruned_oldest_first(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path / "root", keep_seconds=3600, keep_bytes=cost(tmp_path, 1000) * 5 // 2, fresh_seconds=0)
    paths = [scratch.write("f.bin", lambda path: path.write_bytes(bytes(1000))) for _ in range(5)]
    assert [p.exists() for p in paths] == [False, False, False, True, True]
    assert len([f for f in scratch.folder.iterdir() if f.is_dir()]) == 2  # their sub-folders went too
    scratch.keep_seconds = 0.05
    time.sleep(0.1)
    newest = scratch.write("g.bin", lambda path: path.write_bytes(b"x"))
    assert newest.exists() and not any(p.exists() for p in paths)
    scratch.remove()
    assert not scratch.folder.exists()


def test_files_used_in_the_last_moments_are_never_pruned_for_bytes(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path / "root", keep_seconds=3600, keep_bytes=cost(tmp_path, 1000), fresh_seconds=60)
    paths = [scratch.write("view.png", lambda path: path.write_bytes(bytes(1000))) for _ in range(3)]
    assert all(p.exists() for p in paths)  # a page may still be fetching them


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
    unit = cost(tmp_path, 1000)
    scratch = Scratch(tmp_path / "root", keep_seconds=3600, keep_bytes=unit * 5 // 2, fresh_seconds=0)
    old, fresh = upload(scratch, "old.png", 1000), upload(scratch, "fresh.png", 1000)
    scratch.use(old)  # read by an event: it now counts from here
    scratch.use(fresh)
    scratch.use(old)  # read again, by the page's next event
    scratch.write("view.png", lambda path: path.write_bytes(bytes(1000)))
    assert old.exists() and not fresh.exists()  # three files: the least recently used went
    scratch.discard(old)
    assert not old.parent.exists()
    scratch.write("more.png", lambda path: path.write_bytes(bytes(1000)))  # the discarded file no longer counts
    assert len([f for f in scratch.folder.iterdir() if f.is_dir()]) == 2
    scratch.use(tmp_path / "probe-1000")  # outside the folder: ignored
    scratch.use(old)  # gone: ignored


def test_a_sweep_finds_files_nobody_used_and_prunes_them_first(tmp_path: Path) -> None:
    unit = cost(tmp_path, 1000)
    scratch = Scratch(tmp_path / "root", keep_seconds=60, keep_bytes=unit * 4, fresh_seconds=30)
    examples = scratch.folder / "examples"
    examples.mkdir()
    (examples / "photo.png").write_bytes(bytes(50_000))
    scratch.keep_current()  # the page's own files: never pruned, never counted
    view = scratch.write("view.png", lambda path: path.write_bytes(bytes(1000)))
    stale = upload(scratch, "stale.png", 10, age=120)  # unused past keep_seconds
    unread = [upload(scratch, f"junk{i}.bin", 1000, age=30 - i) for i in range(4)]  # oldest first
    deep = scratch.folder / "deep_links" / "abc" / "state.json"  # Gradio's own, two folders down
    deep.parent.mkdir(parents=True)
    deep.write_bytes(bytes(1000))
    cut_off = scratch.folder / "tmpcut"  # an upload that stopped midway, at the top
    cut_off.write_bytes(bytes(1000))
    receiving = scratch.folder / "tmpnow"  # one still arriving
    receiving.write_bytes(bytes(1000))
    os.utime(cut_off, (time.time() - 40, time.time() - 40))
    refused, making = scratch.folder / "hash-refused", scratch.folder / "hash-making"  # empty: one left by an
    refused.mkdir()  # upload that Gradio refused after making its folder, one about to receive its file
    making.mkdir()
    os.utime(refused, (time.time() - 40, time.time() - 40))
    assert stale.exists() and all(p.exists() for p in unread)  # a write alone does not look at the disk
    scratch.sweep()
    # 1 used + 6 unused + the one arriving over a budget of 4: the oldest unused go, the used view stays
    assert not stale.exists() and [p.exists() for p in unread] == [False, False, True, True]
    assert view.exists() and receiving.exists() and not cut_off.exists() and deep.exists()
    assert not refused.exists() and making.exists()
    assert (examples / "photo.png").exists() and (scratch.folder / LOCK).exists()
    deep.unlink()  # deleted by someone else: its bytes no longer count
    late = upload(scratch, "late.bin", 1000)
    scratch.sweep()
    assert all(p.exists() for p in [*unread[2:], late, view])


def test_a_background_sweep_runs_on_its_own(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path / "root", keep_seconds=60, keep_bytes=cost(tmp_path, 100))
    first, second = upload(scratch, "a.bin", 100, age=2), upload(scratch, "b.bin", 100, age=1)
    swept = threading.Event()
    scratch.sweep_every(0.05, then=swept.set)
    deadline = time.time() + 10
    while first.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not first.exists() and second.exists()  # over the bytes by one: the older went
    assert swept.wait(10)  # and what follows each sweep ran


def test_uploads_of_one_content_under_many_names_are_pruned_one_by_one(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path / "root", keep_seconds=60, keep_bytes=cost(tmp_path, 1000) * 5 // 2)
    copies = [upload(scratch, f"copy{i}.png", 1000, age=10 - i, content="same") for i in range(5)]
    scratch.sweep()
    assert [p.exists() for p in copies] == [False, False, False, True, True]  # one folder, not one unit
    for path in copies[3:]:
        scratch.discard(path)
    assert not copies[0].parent.exists()  # gone with its last file


def test_beyond_the_bytes_files_nobody_used_go_before_those_in_use(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path / "root", keep_seconds=3600, keep_bytes=cost(tmp_path, 1000) * 2, fresh_seconds=0)
    view = scratch.write("view.png", lambda path: path.write_bytes(bytes(1000)))
    flood = [upload(scratch, f"flood{i}.bin", 1000) for i in range(3)]  # newer than the view, but nobody's
    scratch.sweep()
    assert view.exists() and [p.exists() for p in flood] == [False, False, True]


def test_uploads_read_in_a_flood_are_not_spared_for_being_recent(tmp_path: Path) -> None:
    """Only the app's own recent files are spared: a visitor's uploads, read or not, are held to the bytes."""
    scratch = Scratch(tmp_path / "root", keep_seconds=3600, keep_bytes=cost(tmp_path, 1000) * 2, fresh_seconds=60)
    view = scratch.write("view.png", lambda path: path.write_bytes(bytes(1000)))
    flood = [upload(scratch, f"big{i}.png", 1000) for i in range(4)]
    for path in flood:
        scratch.use(path)  # each read by an event
    assert view.exists() and [p.exists() for p in flood] == [False, False, False, True]
