"""The consumer's fetch wait: how long the broker may hold a fetch that finds no new records.

Faust creates its worker consumer with ``fetch_max_wait_ms=1500`` and no setting to change it.
A Kafka broker answers a waiting fetch as soon as records arrive, so the wait costs nothing
there; the embedded broker (tansu) answers when the wait is over, so every hop of the
pipeline (articles, the re-keyed extractions) added up to 1.5 s of latency at a steady rate
(``tollwatch bench --stream --rate``: p50 0.4 s through a bare Faust pass-through).

:func:`install` makes Faust's consumers wait ``TOLLWATCH_FETCH_MAX_WAIT_MS`` (default
:data:`DEFAULT_MS`) instead: called once per worker process (``tollwatch worker`` and the
benchmark's baseline worker), before the app starts. An idle worker then polls the broker
every ~20 ms, a few small requests per second per broker connection.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

logger = logging.getLogger(__name__)

ENV = "TOLLWATCH_FETCH_MAX_WAIT_MS"
DEFAULT_MS = 20
_FAUST_MS = 1500


def wait_ms(env: dict[str, str] | None = None) -> int:
    raw = (os.environ if env is None else env).get(ENV, "")
    if not raw:
        return DEFAULT_MS
    value = int(raw)
    if value < 0:
        raise ValueError(f"{ENV} must be >= 0, not {value}")
    return value


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    fetch_max_wait_ms: int = DEFAULT_MS

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka hands this to its Fetcher when the consumer starts.
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms
        return consumer


def install(milliseconds: int | None = None) -> int:
    """Make this process's Faust worker consumers wait at most ``milliseconds`` (default from
    the environment) for records; returns the value. Faust's 1500 ms when ``milliseconds`` is
    1500 or the environment says so."""
    value = wait_ms() if milliseconds is None else milliseconds
    _ConsumerThread.fetch_max_wait_ms = value

    def _new_consumer_thread(self: faust_aiokafka.Consumer) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    faust_aiokafka.Consumer._new_consumer_thread = _new_consumer_thread  # type: ignore[method-assign]
    if value != _FAUST_MS:
        logger.info("consumer fetch wait %d ms (Faust's default: %d ms)", value, _FAUST_MS)
    return value
