"""The server's limits: upload requests capped in size and number, lanes for small and large work."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from denoiser.serving import Busy, Lane, Lanes, UploadsCapped


def attempt(work: Callable[[], contextlib.AbstractContextManager]) -> str:
    """What became of entering `work` from another thread within a second: ran, busy (turned away) or waiting."""
    outcome = []

    def enter() -> None:
        try:
            with work():
                outcome.append("ran")
        except Busy:
            outcome.append("busy")

    thread = threading.Thread(target=enter, daemon=True)
    thread.start()
    thread.join(1)
    return outcome[0] if outcome else "waiting"


def test_a_full_lane_turns_work_away_at_once_until_a_place_is_free() -> None:
    lane = Lane(slots=1, waiting=1)
    with lane.enter():
        assert attempt(lane.enter) == "waiting"  # the one place to wait, taken until the first is done
        assert attempt(lane.enter) == "busy"
    assert attempt(lane.enter) == "ran"


def test_small_work_runs_while_the_large_lane_is_full_and_waits_rather_than_be_turned_away() -> None:
    lanes = Lanes(small=Lane(slots=1), large=Lane(slots=1, waiting=0), large_pixels=100)
    with lanes.run(101):
        assert attempt(lambda: lanes.run(10_000)) == "busy"
        assert attempt(lambda: lanes.run(100)) == "ran"  # at the threshold: small
        with lanes.run(1):
            assert attempt(lambda: lanes.run(1)) == "waiting"


def test_the_queue_holds_every_large_request_that_may_run_or_wait_and_the_small_lanes() -> None:
    assert Lanes(small=Lane(slots=2), large=Lane(slots=1, waiting=4)).places == 7


def test_uploads_received_at_once_are_capped_and_each_upload_is_held_to_one_files_worth() -> None:
    """UploadsCapped against a stand-in for Gradio that holds each upload open until told to finish."""
    finish, refusals = asyncio.Event(), []

    async def gradio(scope: dict, receive, send) -> None:
        while (await receive()).get("more_body"):
            pass
        await finish.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    capped = UploadsCapped(gradio, file_bytes=90, at_once=2, form_bytes=10)  # a 100-byte request

    async def upload(chunks: list[bytes], path: str = "/gradio_api/upload", length: str | None = None) -> int:
        messages = [{"type": "http.request", "body": chunk, "more_body": i + 1 < len(chunks)}
                    for i, chunk in enumerate(chunks)]
        sent = []

        async def receive() -> dict:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        headers = [(b"content-length", length.encode())] if length else []
        await capped({"type": "http", "path": path, "headers": headers}, receive, send)
        refusals.extend(message["body"].decode() for message in sent[1:] if sent[0]["status"] == 413)
        return sent[0]["status"]

    async def scenario() -> list[int]:
        held = [asyncio.create_task(upload([b"x" * 60])) for _ in range(2)]  # two slow uploads, in flight
        await asyncio.sleep(0.01)
        third = await asyncio.wait_for(upload([b"x" * 10]), 5)  # one too many while they last
        other = asyncio.create_task(upload([b"x" * 10], path="/gradio_api/queue/join"))  # not an upload
        finish.set()
        statuses = [*await asyncio.gather(*held), third, await other]
        after = [await upload([b"x" * 60, b"x" * 60]), await upload([b"x"], length="101"), await upload([b"x" * 99])]
        return statuses + after

    # 503 for the third at once; then 413 for a body past the limit, streamed or declared; 200 within it
    assert asyncio.run(scenario()) == [200, 200, 503, 200, 413, 413, 200]
    assert refusals == [capped.too_large] * 2
    for megabytes in (50, 1000, 0.5):
        assert UploadsCapped(gradio, file_bytes=megabytes * 2**20).too_large == f"An upload may hold at most " \
            f"{megabytes} MB."
