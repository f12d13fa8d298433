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
        fetch_wait.install(20, prefetch_backoff_ms=10)
        consumer = fetch_wait._create_worker_consumer(None, None)  # type: ignore[arg-type]
        asyncio.run(consumer.start())
        assert consumer._fetcher._prefetch_backoff == 0.01
        assert consumer._fetch_max_wait_ms == 20
    finally:
        fetch_wait.install()
