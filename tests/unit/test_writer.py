"""The store writer: every write on one thread, in submission order; errors reach the submitter; clean stop."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from app.errors import StoreError
from app.sync.writer import StoreWriter


@pytest.fixture
def writer():
    writer = StoreWriter()
    yield writer
    writer.shutdown(timeout=5)


def test_writes_from_many_threads_all_run_on_the_one_writer_thread_in_order(writer: StoreWriter) -> None:
    seen: list[tuple[str, int, int]] = []

    def record(source: int, n: int) -> None:
        seen.append((threading.current_thread().name, source, n))

    def submitter(source: int) -> None:
        futures = [writer.submit(record, source, n) for n in range(50)]
        for future in futures:
            future.result(timeout=5)

    threads = [threading.Thread(target=submitter, args=(source,)) for source in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert {name for name, _, _ in seen} == {writer.thread_name}
    assert len(seen) == 200
    for source in range(4):
        assert [n for _, s, n in seen if s == source] == list(range(50))


def test_a_failing_write_raises_in_the_submitter_and_the_writer_keeps_going(writer: StoreWriter) -> None:
    def broken() -> None:
        raise StoreError("disk full")

    with pytest.raises(StoreError, match="disk full"):
        writer.call(broken)
    assert writer.call(lambda: 42) == 42


def test_nothing_is_taken_after_shutdown(writer: StoreWriter) -> None:
    assert writer.shutdown(timeout=5)
    with pytest.raises(StoreError, match="shut down"):
        writer.submit(lambda: None)


def test_shutdown_can_cancel_queued_writes_while_one_is_running(writer: StoreWriter) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow() -> str:
        entered.set()
        release.wait(5)
        return "done"

    running = writer.submit(slow)
    assert entered.wait(5)
    queued = writer.submit(lambda: "never")
    assert writer.shutdown(timeout=0.05, cancel_pending=True) is False  # the running write is not abandoned
    release.set()
    assert running.result(timeout=5) == "done"
    with pytest.raises(CancelledError):
        queued.result(timeout=5)
    assert writer.shutdown(timeout=5) is True
