"""The consumer fetch wait reaches the aiokafka consumer Faust builds for the worker.

tansu holds a fetch that finds nothing for the whole wait, so Faust's fixed 1500 ms put up to
~0.75 s on each hop of the pipeline. The first version of ``install`` replaced the factory of
new consumer threads only; the worker's thread already existed once the app was built, and
its consumers kept 1500 ms (seen in ``tollwatch bench --stream --rate 5``: p50 1.1 s).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from stream import fetch_wait
from stream.app import create_components
from stream.config import Settings


def test_worker_consumer_gets_the_wait() -> None:
    async def waits() -> list[int]:
        app = create_components(Settings(bootstrap_servers="127.0.0.1:9", store="memory://"), prometheus=False).app
        thread = app.consumer._thread  # the thread exists before install(), as in the worker
        seen = []
        for milliseconds in (20, 1500, 0):
            fetch_wait.install(milliseconds)
            seen.append(int(thread._create_worker_consumer(app.transport)._fetch_max_wait_ms))
        return seen

    try:
        assert asyncio.run(waits()) == [20, 1500, 0]
    finally:
        fetch_wait.install()


@pytest.mark.parametrize(
    ("read", "name", "default", "value"),
    [
        (fetch_wait.wait_ms, fetch_wait.ENV, fetch_wait.DEFAULT_MS, 5),
        (fetch_wait.backoff_ms, fetch_wait.BACKOFF_ENV, fetch_wait.DEFAULT_BACKOFF_MS, 100),
        (fetch_wait.active_ms, fetch_wait.ACTIVE_ENV, fetch_wait.DEFAULT_ACTIVE_MS, 7),
    ],
)
def test_milliseconds_from_environment(read: Callable[[dict[str, str]], int], name: str, default: int,
                                       value: int) -> None:
    assert read({}) == default
    assert read({name: str(value)}) == value
    with pytest.raises(ValueError, match=name):
        read({name: "-1"})


def test_worker_consumer_gets_the_prefetch_backoff_once_started(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiokafka builds its fetcher in ``start()`` with a fixed 100 ms backoff; the worker's
    consumer has the configured one as soon as it has started."""

    class Consumer:
        _fetcher: Any = None

        async def start(self) -> None:
            self._fetcher = SimpleNamespace(_prefetch_backoff=0.1)  # aiokafka's default

    monkeypatch.setattr(fetch_wait, "_original_create", lambda thread, transport: Consumer())
    try:
        fetch_wait.install(20, active_milliseconds=20, prefetch_backoff_ms=10)
        consumer = fetch_wait._create_worker_consumer(None, None)  # type: ignore[arg-type]
        asyncio.run(consumer.start())
        assert consumer._fetcher._prefetch_backoff == 0.01
        assert consumer._fetch_max_wait_ms == 20
    finally:
        fetch_wait.install()


class _Fetcher:
    """The two attributes of aiokafka's Fetcher the adaptive wait uses; each fetch "adds
    records" or not as the test says."""

    def __init__(self) -> None:
        self._fetch_max_wait_ms = 1500
        self.next_adds = False
        self.requests: list[int] = []

    async def _proc_fetch_request(self, assignment: Any, node_id: int, request: Any) -> bool:
        self.requests.append(self._fetch_max_wait_ms)
        return self.next_adds


def test_active_wait_is_at_least_a_millisecond() -> None:
    with pytest.raises(ValueError, match=f"{fetch_wait.ACTIVE_ENV} must be >= 1"):
        fetch_wait.active_ms({fetch_wait.ACTIVE_ENV: "0"})
    with pytest.raises(ValueError, match=f"{fetch_wait.ACTIVE_ENV} must be >= 1"):
        fetch_wait.install(20, active_milliseconds=0)  # refused before anything is installed


def test_adaptive_wait_is_short_while_records_flow_and_long_once_idle() -> None:
    fetcher = _Fetcher()
    now = [100.0]
    adaptive = fetch_wait.AdaptiveWait(fetcher, idle_ms=20, active_ms=5, hold=1.0, clock=lambda: now[0])
    fetcher._proc_fetch_request = adaptive  # type: ignore[method-assign]

    async def fetch(adds: bool, *, at: float) -> bool:
        now[0] = at
        fetcher.next_adds = adds
        return await fetcher._proc_fetch_request(None, 0, None)

    async def scenario() -> list[bool]:
        return [
            await fetch(False, at=100.0),  # idle from the start: the long wait
            await fetch(True, at=100.02),  # records: the next fetch waits briefly
            await fetch(False, at=100.5),  # nothing for 0.48 s: still brief
            await fetch(False, at=101.1),  # nothing for 1.08 s: long again
            await fetch(True, at=105.0),
        ]

    assert asyncio.run(scenario()) == [False, True, False, False, True]
    assert fetcher.requests == [20, 20, 5, 5, 20]
    assert fetcher._fetch_max_wait_ms == 5


def test_worker_consumer_adapts_its_wait_once_started(monkeypatch: pytest.MonkeyPatch) -> None:
    class Consumer:
        _fetcher: Any = None

        async def start(self) -> None:
            self._fetcher = _Fetcher()

    monkeypatch.setattr(fetch_wait, "_original_create", lambda thread, transport: Consumer())
    try:
        fetch_wait.install(20, active_milliseconds=5, prefetch_backoff_ms=10)
        adaptive = fetch_wait._create_worker_consumer(None, None)  # type: ignore[arg-type]
        asyncio.run(adaptive.start())
        assert isinstance(adaptive._fetcher._proc_fetch_request, fetch_wait.AdaptiveWait)
        assert adaptive._fetcher._fetch_max_wait_ms == 20
        fetch_wait.install(20, active_milliseconds=20, prefetch_backoff_ms=10)  # not shorter: fixed
        fixed = fetch_wait._create_worker_consumer(None, None)  # type: ignore[arg-type]
        asyncio.run(fixed.start())
        assert not isinstance(fixed._fetcher._proc_fetch_request, fetch_wait.AdaptiveWait)
    finally:
        fetch_wait.install()
