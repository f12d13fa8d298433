"""The two agents: ``extract_articles`` and ``fold_incidents`` (see :mod:`stream.app` for the topology).

They only move messages: extraction is :func:`stream.pipeline.process_article`, incident state
is :func:`stream.incidents.fold` / :func:`stream.incidents.expire`. What is left here is what
needs the stream: the record's partition, offset and timestamp, the table, and the sends.

The agent bodies are methods of :class:`IncidentAgents` (one instance per app, holding the
app's topics and table) rather than module-level functions decorated at import time, because
the app is built per settings by :func:`stream.app.create_app`. Unit tests drive them with
Faust's ``agent.test_context()`` and the memory store (tests/test_agents.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import faust
from faust.types import FutureMessage
from pydantic import ValidationError

from stream import log_end, metrics, outbox
from stream.dropped_records import InOrder, Verdict
from stream.incident_store import SEPARATOR, alert_json, is_index_key
from stream.incidents import IncidentBook, IncidentState, expire, fold, partition_key
from stream.models import Alert
from stream.pipeline import (
    ExpireRequest,
    ExtractionMessage,
    dead_letter,
    parse_internal,
    process_article,
)

if TYPE_CHECKING:
    from stream.app import Components

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: A folded record that wrote the table: its alerts (maybe none), the article's time and the
#: futures of the table records the fold wrote (acked and alerted once those are on the broker).
_Outgoing = tuple[faust.types.EventT, list[Alert], "dt.datetime | None", list[FutureMessage]]
#: Seconds between attempts when the broker refuses a flush or a send.
RETRY_SECONDS = 1.0


async def _retrying(what: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()`` until it succeeds: an alert already in an outbox is never given up on."""
    while True:
        try:
            return await attempt()
        except Exception as err:  # the broker is down or refusing; Faust's own producer waits too
            logger.warning("could not %s (%s: %s); retrying in %.0f s", what, type(err).__name__, err,
                           RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)


#: A book's outbox (alerts in flight) larger than this makes the fold wait for their delivery:
#: the outbox is part of the country's index record, which must stay under the producer's 8 MB.
MAX_OUTBOX_BYTES = 1024 * 1024


def _json_bytes(alerts: list[Alert]) -> int:
    return sum(len(alert_json(alert)) for alert in alerts)


#: Acknowledged alert ids a worker remembers (about 5 MB): an outbox entry older than these is
#: checked against the alerts topic, which is correct, only slower.
MAX_DELIVERED_IDS = 65_536


def record_time(event: faust.types.EventT) -> dt.datetime:
    """The Kafka record timestamp (stable across replays); now when the record has none."""
    timestamp = event.message.timestamp
    if not timestamp:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


class IncidentAgents:
    """The agents' bodies and the helpers they share, bound to one app's topics and table."""

    def __init__(self, components: Components) -> None:
        self.app = components.app
        self.settings = components.settings
        self.topics = components.topics
        self.books = components.books
        self.incidents = components.incidents
        #: alert_ids this process has sent and the broker has not acknowledged yet ...
        self._in_flight: set[str] = set()
        #: ... and those it acknowledged (the most recent MAX_DELIVERED_IDS): an outbox entry in
        #: either set needs no replay; a restarted process knows neither and asks the topic.
        self._delivered: OrderedDict[str, None] = OrderedDict()
        #: Folded records with alerts, waiting for :meth:`_deliver_queued`.
        self._outgoing: asyncio.Queue[_Outgoing] = asyncio.Queue()

    async def extract_articles(self, stream: faust.StreamT) -> None:
        """articles -> extractions re-keyed by partition key (country), or the dead-letter topic.

        Acked by hand so that a record :meth:`_in_order` holds back is not acknowledged."""
        acking = stream.noack()  # type: ignore[attr-defined]  # on Stream, not in StreamT
        order = InOrder()
        async for event in acking.events():
            if not await self._in_order(event, order):
                continue
            message = event.message
            result = process_article(
                event.value,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                timestamp=record_time(event),
            )
            if isinstance(result, ExtractionMessage):
                key = partition_key(result.extraction) or ""
                await self.topics.extractions.send(key=key.encode(), value=result.model_dump_json().encode())
            elif result is not None:
                logger.warning("dead letter (%s) at %s:%s: %s", result.reason, message.partition,
                               message.offset, result.detail)
                await self.topics.dead_letter.send(key=event.key, value=result.model_dump_json().encode())
            await acking.ack(event)
            metrics.LAST_PROCESSED.set(time.time())

    async def _in_order(self, event: faust.types.EventT, order: InOrder) -> bool:
        """Whether to process ``event``: each partition's records are taken in offset order with
        none missing; where some were dropped, the partition is read again from the first of
        them, and this record waits for its turn (:class:`stream.dropped_records.InOrder`)."""
        message = event.message
        consumer = cast(log_end.Consumer, self.app.consumer)
        verdict = order.decide(message.tp, message.offset, generation=message.generation_id,
                               committed=consumer.committed_offset)
        if verdict is Verdict.REWIND:
            metrics.REWINDS.labels(topic=message.topic).inc()
            start = order.rewound_to(message.tp)
            assert start is not None
            await consumer.rewind(message.tp, start, fetched_to=message.offset)
        return verdict is Verdict.PROCESS

    async def fold_incidents(self, stream: faust.StreamT) -> None:
        """extractions -> the country's IncidentBook in the table, and alerts.

        Alerts leave from a separate task (:meth:`_deliver_queued`), so the fold of the next
        extraction does not wait for the table records that must precede them. The records are
        acked by hand: one that wrote the table only once those table records are acknowledged
        and its alerts handed to the producer, so no offset is committed past an article whose
        state or alerts have not left, and a rebalance waits for them.
        """
        acking = stream.noack()  # type: ignore[attr-defined]  # on Stream, not in StreamT
        self._outgoing = asyncio.Queue()
        deliverer = asyncio.ensure_future(self._deliver_queued(acking, self._outgoing))
        order = InOrder()
        try:
            async for event in acking.events():
                if not await self._in_order(event, order):
                    continue
                self.incidents.take_sent()  # what earlier writes sent is not this record's
                alerts, article_time = await self._fold_event(event)
                written = self.incidents.take_sent()
                if alerts or written:
                    # Acked once the table records are on the broker (and the alerts handed
                    # over), not before: Faust's flush before a commit gives up on its send
                    # buffer after 0.1 s without progress, so a commit could pass an article
                    # whose state was still in the buffer; a kill -9 then lost that state
                    # (tollwatch chaos --seed 7: 112 alerts lost).
                    self._in_flight.update(alert.alert_id for alert in alerts)
                    self._outgoing.put_nowait((event, alerts, article_time, written))
                else:
                    await acking.ack(event)
                metrics.LAST_PROCESSED.set(time.time())
        finally:
            deliverer.cancel()
            # Alerts never handed to the producer: their records stay unacked (read again after
            # a restart or rebalance), and their books' next fold must ask the topic about them.
            while not self._outgoing.empty():
                _, alerts, _, _ = self._outgoing.get_nowait()
                self._in_flight.difference_update(alert.alert_id for alert in alerts)

    async def _fold_event(self, event: faust.types.EventT) -> tuple[list[Alert], dt.datetime | None]:
        """Fold one extraction into its book; the alerts to send (already in the book's outbox)."""
        partition = (event.key or b"").decode("utf-8", errors="replace")
        try:
            message = parse_internal(event.value)
        except ValidationError as err:
            await self._park(event, f"unreadable record on the internal topic: {err.errors()[0]['msg']}")
            return [], None
        if not is_index_key(partition):
            await self._park(event, f"partition key {partition!r} contains {SEPARATOR!r}, which the incidents "
                                    "table reserves for incident records")
            return [], None
        book = self.books.get(partition)
        if book is not None and book.outbox:
            book = await self._settle_outbox(book)
            if _json_bytes(book.outbox) > MAX_OUTBOX_BYTES:
                book = await self._wait_for_delivery(book)
        if isinstance(message, ExpireRequest):
            self._expire(partition, now=message.now, ttl=dt.timedelta(seconds=message.ttl_seconds))
            return [], None
        started = time.perf_counter()
        unchanged = book
        try:
            book, alerts = fold(
                book, message.extraction, partition=partition, received_at=message.article_timestamp
            )
        except Exception as err:
            logger.exception("fold failed for %s (article %s)", partition, message.extraction.id)
            await self._park(event, f"incident update failed: {type(err).__name__}: {err}")
            return [], None
        now = dt.datetime.now(dt.UTC)
        alerts = [alert.model_copy(update={"emitted_at": now}) for alert in alerts]
        # fold hands back the book it was given when nothing changed: no write then. Otherwise
        # the states and the alerts they caused are stored together with the alerts still in
        # flight (stream.outbox): the alerts in the country's index, which is written after the
        # incidents it names (stream.incident_store).
        # A book this process has not written yet is written even so: the state directory of a
        # worker killed mid-write can be ahead of the changelog, and the replayed article, a
        # no-op here, is then committed; the write puts the changelog level with the store
        # before that commit (the record is acked once its table records are acknowledged).
        if alerts or book is not unchanged or (unchanged is not None and not self.books.written_here(partition)):
            self.books.put(book.model_copy(update={"outbox": [*book.outbox, *alerts]}))
        metrics.FOLD_SECONDS.observe(time.perf_counter() - started)
        for evicted in _keys_gone(unchanged, book):
            metrics.drop_incident(evicted)
        publish_figures(book)
        return alerts, message.article_timestamp

    async def _deliver_queued(self, acking: faust.StreamT, outgoing: asyncio.Queue[_Outgoing]) -> None:
        """Send queued alerts, all that have queued up, then ack their records (also those that
        wrote the table without alerting).

        The table records holding these alerts (and the states that caused them) are on the
        broker before any alert leaves: their own futures are awaited, not a flush of the
        producer, which waits until Faust's send buffer is empty, and with the fold writing
        behind it that took seconds at 100 articles/s.
        """
        unsent: set[str] = set()
        try:
            while True:
                batch = [await outgoing.get()]
                while not outgoing.empty():
                    batch.append(outgoing.get_nowait())
                unsent = {alert.alert_id for _, alerts, _, _ in batch for alert in alerts}
                await self._written([future for *_, written in batch for future in written])
                for event, alerts, article_time, _ in batch:
                    for alert in alerts:
                        await self._hand_over(alert, article_time=article_time)
                        unsent.discard(alert.alert_id)
                    await acking.ack(event)
                    outgoing.task_done()
        finally:
            # Stopped mid-batch: what was not handed to the producer is not in flight.
            self._in_flight.difference_update(unsent)

    async def _written(self, futures: list[FutureMessage]) -> None:
        """Wait until the broker has acknowledged these table records (the alerts wait for the
        producer either way; a refused record is logged, and the books are written whole next)."""
        if not futures:
            return
        await asyncio.wait(futures)
        refused = [f for f in futures if f.cancelled() or f.exception() is not None]
        if refused:
            first = refused[0]
            logger.warning("%d table record(s) not acknowledged (%s); flushing the producer before the alerts",
                           len(refused), "cancelled" if first.cancelled() else first.exception())
            # Records the changelog may lack must not be named by the next indexes: the next
            # write of each book writes all its incidents again (stream.incident_store).
            self.books.forget_all()
            await _retrying("flush the producer", self.app.producer.flush)

    async def _wait_for_delivery(self, book: IncidentBook) -> IncidentBook:
        """Let the alerts in flight be acknowledged before the book takes more.

        The outbox carries a book's alerts until they are acknowledged; when delivery falls
        behind a burst on one country, it would grow the table value past what the producer
        may send (``MAX_TABLE_VALUE_BYTES``: the worker died of that, a 8.7 MB book in
        ``tollwatch fuzz``)."""
        logger.info("outbox of %s holds %d alerts in flight; waiting for their delivery",
                    book.partition, len(book.outbox))
        await self._outgoing.join()
        await self.app.producer.flush()
        await asyncio.sleep(0)  # the acknowledgements' callbacks
        return await self._settle_outbox(book)

    async def _park(self, event: faust.types.EventT, detail: str) -> None:
        """Dead-letter a record of the internal topic the fold stage could not use."""
        message = event.message
        letter = dead_letter("processing_error", detail, event.value or b"", topic=message.topic,
                             partition=message.partition, offset=message.offset)
        metrics.DEAD_LETTERS.labels(reason=letter.reason).inc()
        await self.topics.dead_letter.send(key=event.key, value=letter.model_dump_json().encode())

    async def _hand_over(self, alert: Alert, *, article_time: dt.datetime | None) -> None:
        """Give one alert of an outbox to the producer, without waiting for the broker: it is
        marked delivered when the broker acknowledges it (:meth:`_acknowledged`), and the next
        fold of its book then drops it from the outbox."""
        self._in_flight.add(alert.alert_id)
        sent = await _retrying(f"send alert {alert.alert_id}",
                               functools.partial(self._emit, alert, article_time=article_time))
        sent.add_done_callback(functools.partial(self._acknowledged, alert.alert_id, time.perf_counter()))

    def _acknowledged(self, alert_id: str, handed: float, sent: asyncio.Future[Any]) -> None:
        metrics.ALERT_ACK_SECONDS.observe(time.perf_counter() - handed)
        self._in_flight.discard(alert_id)
        if sent.cancelled() or sent.exception() is not None:
            # Left out of both sets: the next fold of its book asks the alerts topic.
            logger.warning("alert %s not acknowledged: %s", alert_id,
                           "cancelled" if sent.cancelled() else sent.exception())
            return
        self._mark_delivered(alert_id)

    def _mark_delivered(self, alert_id: str) -> None:
        """Remember an alert as on the topic (the most recent MAX_DELIVERED_IDS)."""
        self._delivered[alert_id] = None
        while len(self._delivered) > MAX_DELIVERED_IDS:
            self._delivered.popitem(last=False)

    async def _settle_outbox(self, book: IncidentBook) -> IncidentBook:
        """The book with its outbox reduced to this process's alerts still in flight.

        Entries acknowledged are dropped. Entries this process does not know were written by a
        worker that died (or by this one before a restart) while delivering them: the alerts
        topic says which are there, and only the others are sent.
        """
        pending = [a for a in book.outbox if a.alert_id not in self._delivered]
        unknown = [a for a in pending if a.alert_id not in self._in_flight]
        if not unknown:
            return book if len(pending) == len(book.outbox) else book.model_copy(update={"outbox": pending})
        since = min((a.emitted_at for a in unknown if a.emitted_at), default=dt.datetime.now(dt.UTC))
        present = await asyncio.to_thread(
            outbox.delivered, self.settings, [a.alert_id for a in unknown], since=since
        )
        missing = [a for a in unknown if a.alert_id not in present]
        logger.warning("outbox of %s: %d alert(s) pending after a restart, %d already delivered, sending %d",
                       book.partition, len(unknown), len(present), len(missing))
        for alert_id in present:
            self._mark_delivered(alert_id)
        carried = [a for a in pending if a.alert_id in self._in_flight]
        book = book.model_copy(update={"outbox": [*carried, *missing]})
        self.books.put(book)
        if missing:
            # The records with the outbox just written are on the broker before any alert
            # leaves (their own acknowledgements: Faust's flush can give up on its buffer).
            await self._written(self.incidents.take_sent())
            for alert in missing:
                await self._hand_over(alert, article_time=None)
        return book

    async def _emit(self, alert: Alert, *, article_time: dt.datetime | None) -> asyncio.Future[Any]:
        """Send one alert; returns the future the producer resolves when the broker acknowledges it."""
        sent = await self.topics.alerts.send(key=alert.event_key.encode(), value=alert_json(alert))
        metrics.ALERTS.labels(kind=alert.kind.value).inc()
        if article_time is not None and alert.emitted_at is not None:
            latency = (alert.emitted_at - article_time).total_seconds()
            metrics.ALERT_LATENCY_SECONDS.observe(max(latency, 0.0))
        logger.info("alert %s", alert.headline)
        return sent  # type: ignore[return-value]  # Faust's FutureMessage is an asyncio.Future

    def _expire(self, partition: str, *, now: dt.datetime, ttl: dt.timedelta) -> None:
        """Close the partition's idle incidents (asked for by the expiry timer, run here so that
        only the agent writes the table)."""
        stored = self.books.get(partition)
        if stored is None:
            return
        book, closed = expire(stored, now=now, ttl=ttl)
        for state in closed:
            logger.info("incident %s closed after %s without articles", state.event_key, ttl)
            metrics.drop_incident(state.event_key)
            for former in state.former_keys:
                metrics.drop_incident(former)
        if not closed:
            return
        if book is None:
            self.books.delete(partition)
        else:
            self.books.put(book)


def _keys_gone(before: IncidentBook | None, after: IncidentBook) -> set[str]:
    """Event keys of ``before``'s incidents that ``after`` has not (evicted, merged away, renamed),
    found from the states that differ (by identity: a fold copies what it changes), not by
    walking every open incident's key."""
    if before is None:
        return set()
    old = dict(zip(map(id, before.incidents), before.incidents, strict=True))
    new = dict(zip(map(id, after.incidents), after.incidents, strict=True))
    return ({old[key].event_key for key in old.keys() - new.keys()}
            - {new[key].event_key for key in new.keys() - old.keys()})


#: Incident states whose gauges are set, by ``id(state)`` (weakly: an entry goes with its state).
_PUBLISHED: dict[int, weakref.ref[IncidentState]] = {}


def publish_figures(book: IncidentBook) -> None:
    """Set the per-incident figure gauges of a book (and drop the series of renamed keys).

    A state object already published is skipped while its series stand: stored states are
    never modified (``fold`` changes copies), so only the incidents an article changed, now
    new objects, are set again, not every open incident of the country on every message.
    """
    for state in book.incidents:
        key = id(state)
        seen = _PUBLISHED.get(key)
        if seen is not None and seen() is state and metrics.has_figures(state.event_key):
            continue
        for former in state.former_keys:
            metrics.drop_incident(former)
        metrics.set_incident_figures(
            state.event_key, state.label,
            {field: figure.value for field, figure in state.figures.items()},
        )
        if state.figures:
            _PUBLISHED[key] = weakref.ref(state, functools.partial(_unpublished, key))


def _unpublished(key: int, _ref: weakref.ref[IncidentState]) -> None:
    _PUBLISHED.pop(key, None)


def register(components: Components) -> tuple[faust.types.AgentT, faust.types.AgentT]:
    """Attach both agents to the app; returns (extract_articles, fold_incidents)."""
    app, topics = components.app, components.topics
    bodies = IncidentAgents(components)
    extract = app.agent(topics.articles, name="stream.agents.extract_articles")(bodies.extract_articles)
    fold_agent = app.agent(topics.extractions, name="stream.agents.fold_incidents")(bodies.fold_incidents)
    return extract, fold_agent
