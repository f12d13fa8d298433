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


_original_create = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
_wait_ms = DEFAULT_MS


def _create_worker_consumer(self: faust_aiokafka.AIOKafkaConsumerThread, transport: Any) -> Any:
    consumer = _original_create(self, transport)
    # aiokafka hands this to its Fetcher when the consumer starts.
    consumer._fetch_max_wait_ms = _wait_ms
    return consumer


def install(milliseconds: int | None = None) -> int:
    """Make this process's Faust worker consumers wait at most ``milliseconds`` (default from
    the environment) for records; returns the value. Faust's 1500 ms when ``milliseconds`` is
    1500 or the environment says so.

    The method is replaced on Faust's consumer-thread class itself, so consumer threads that
    already exist (an app whose consumer was touched while it was built) get the wait too when
    they start: an earlier version replaced the factory of new threads only, and the worker,
    whose consumer exists once the app is built, kept Faust's 1500 ms.
    """
    global _wait_ms
    value = wait_ms() if milliseconds is None else milliseconds
    _wait_ms = value
    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
    if value != _FAUST_MS:
        logger.info("consumer fetch wait %d ms (Faust's default: %d ms)", value, _FAUST_MS)
    return value
