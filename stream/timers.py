"""Timers: ``request_expiry`` (close idle incidents) and ``report_gauges`` (lag, open incidents).

Timers only read the table: a timer runs outside any stream event, so it may not write a
table partition (Faust would not know which changelog partition the write belongs to, and
the owning agent could be folding the same book). ``request_expiry`` therefore sends an
:class:`~stream.pipeline.ExpireRequest` keyed like the book to the extractions topic, and
the fold agent (:mod:`stream.agents`) closes the incidents in order with the articles.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from stream import metrics
from stream.incidents import expire
from stream.pipeline import ExpireRequest

if TYPE_CHECKING:
    from stream.app import Components

logger = logging.getLogger(__name__)

#: How often the lag and open-incident gauges are refreshed.
LAG_INTERVAL_S = 5.0


def register(components: Components) -> dict[str, Callable[[], Awaitable[None]]]:
    """Attach both timers to the app; returns them by name (tests call them directly)."""
    app, settings, books, extractions = (
        components.app, components.settings, components.books, components.topics.extractions,
    )

    async def request_expiry() -> None:
        """Find idle incidents (read-only) and ask the fold agent to close them."""
        now = dt.datetime.now(dt.UTC)
        ttl = dt.timedelta(days=settings.incident_ttl_days)
        for book in list(books.books()):
            _, closed = expire(book, now=now, ttl=ttl)
            if closed:
                request = ExpireRequest(now=now, ttl_seconds=ttl.total_seconds())
                await extractions.send(key=book.partition.encode(), value=request.model_dump_json().encode())

    async def report_gauges() -> None:
        metrics.OPEN_INCIDENTS.set(sum(len(book.incidents) for book in components.local_books()))
        monitor = app.monitor
        for tp, end in dict(monitor.tp_end_offsets).items():
            read = monitor.tp_read_offsets.get(tp, -1)
            metrics.CONSUMER_LAG.labels(topic=tp.topic, partition=str(tp.partition)).set(max(end - read - 1, 0))

    app.timer(interval=settings.expiry_interval_s, name="stream.timers.request_expiry")(request_expiry)
    app.timer(interval=LAG_INTERVAL_S, name="stream.timers.report_gauges")(report_gauges)
    return {"request_expiry": request_expiry, "report_gauges": report_gauges}
