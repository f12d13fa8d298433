"""How the incidents table stores books (``stream.incident_store``) and the caches behind the
fold's speed: only changed incidents written, the index last, every crash prefix a whole book,
and a parsed book reused only for the very bytes it was read or written as."""

from __future__ import annotations

import datetime as dt
import json
import os
import weakref

import pytest

from stream import incident_store, incidents, metrics
from stream.agents import publish_figures
from stream.bench_stream import distinct_incident_articles, rss_kib
from stream.incident_store import BookStore
from stream.incidents import IncidentBook, _stored_profile, expire, fold, incident_profile, partition_key
from stream.models import Article, Extraction
from stream.pipeline import ExtractionMessage, process_article, replay_offline
from tests.test_incidents import article, fig

NOW = dt.datetime(2031, 5, 20, tzinfo=dt.UTC)


def _extractions(articles: list[Article]) -> list[Extraction]:
    results = [process_article(a.model_dump_json().encode(), topic="articles", timestamp=NOW) for a in articles]
    return [r.extraction for r in results if isinstance(r, ExtractionMessage)]


def _books(count: int = 300) -> dict[str, IncidentBook]:
    _, books = replay_offline(distinct_incident_articles(count), received_at=NOW)
    return books


class RecordingTable(dict[str, bytes]):
    """A dict that logs every write and delete in order, as the changelog would hold them."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, bytes | None]] = []

    def __setitem__(self, key: str, value: bytes) -> None:
        self.log.append((key, value))
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.log.append((key, None))
        super().__delitem__(key)


def _replayed(log: list[tuple[str, bytes | None]]) -> dict[str, bytes]:
    table: dict[str, bytes] = {}
    for key, value in log:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


def test_books_read_back_equal_and_remembered_books_are_reused() -> None:
    table = RecordingTable()
    store = BookStore(table)
    books = _books()
    assert len(books) > 50
    for book in books.values():
        store.put(book)
        assert store.get(book.partition) is book  # the fold's read after its own write: no parsing
    fresh = BookStore(dict(table))  # another worker, or this one after a restart
    for book in books.values():
        again = fresh.get(book.partition)
        assert again is not book and again == book
    assert sorted(b.partition for b in fresh.books()) == sorted(books)
    assert all(incident_store.is_index_key(p) for p in fresh.partitions())


def _biggest() -> IncidentBook:
    """A country with a dozen open incidents (copies of real fold output under other keys)."""
    states = [s for book in _books(40).values() for s in book.incidents]
    return IncidentBook(partition="atlantis", incidents=[
        states[i % len(states)].model_copy(update={"event_key": f"atlantis-{i}"}) for i in range(12)])


def _touched(book: IncidentBook, index: int, articles: int) -> IncidentBook:
    """The book as a fold leaves it after changing one incident (copy-on-write)."""
    incidents = list(book.incidents)
    incidents[index] = incidents[index].model_copy(update={"articles": articles})
    return book.model_copy(update={"incidents": incidents})


def test_a_fold_writes_the_incident_it_changed_and_the_index_not_the_book() -> None:
    table = RecordingTable()
    store = BookStore(table)
    book = _biggest()
    assert len(book.incidents) >= 10
    store.put(book)
    table.log.clear()
    changed = _touched(book, 3, 7)
    store.put(changed)
    written = [(key, value) for key, value in table.log if value is not None]
    deleted = [key for key, value in table.log if value is None]
    assert [key for key, _ in written][-1] == book.partition  # the index after the incident it names
    assert len(written) == 2 and len(deleted) == 1  # one new version and the index; the old version goes
    assert table.log[-1][1] is None  # the tombstone after the index
    assert sum(len(value) for _, value in written) < len(book.model_dump_json()) / 4
    assert BookStore(dict(table)).get(book.partition) == changed
    table.log.clear()
    store.put(changed.model_copy(update={"passed": ["i:0123"]}))  # no incident changed: the index only
    assert [key for key, _ in table.log] == [book.partition]


def test_every_prefix_of_the_writes_reads_as_a_whole_book() -> None:
    """What survives a crash is a prefix of the changelog: it must read as one of the books put,
    never as an index paired with other versions of its incidents."""
    table = RecordingTable()
    store = BookStore(table)
    book = _biggest()
    put = [book]
    store.put(book)
    for step, index in enumerate([0, 2, 0, -1, 1]):
        book = _touched(book, index, 100 + step)
        store.put(book)
        put.append(book)
    book = book.model_copy(update={"incidents": [*book.incidents[1:], put[0].incidents[0].model_copy()]})
    store.put(book)  # one closed, one (re)opened
    put.append(book)
    book = book.model_copy(update={"incidents": book.incidents[2:]})
    store.put(book)
    put.append(book)
    store.delete(book.partition)
    seen = []
    for end in range(len(table.log) + 1):
        read = BookStore(_replayed(table.log[:end])).get(book.partition)
        assert read is None or read in put, f"the first {end} writes read as a book never put"
        seen.append(read)
    assert all(book in seen for book in put)
    assert _replayed(table.log) == {}  # nothing left behind once the country's book is deleted


def test_a_restarted_worker_never_names_records_only_its_own_store_has() -> None:
    """kill -9 between the RocksDB writes and the changelog sends: the state directory is ahead
    of the changelog. Whatever the restarted worker writes next must read back whole from the
    changelog alone (another worker's recovery), at every crash point."""
    local = RecordingTable()
    before = BookStore(local)
    book = _biggest()
    for step, index in enumerate([0, 2, 0, -1]):
        before.put(book)
        book = _touched(book, index, 200 + step)
    before.put(book)
    for crash in range(len(local.log) + 1):
        changelog = list(local.log[:crash])
        restarted_table = RecordingTable()
        restarted_table.update(local)  # the state directory kept everything written locally
        restarted = BookStore(restarted_table)
        kept = restarted.get(book.partition)
        assert kept == book
        later = _touched(kept, 1, 999)  # the next article after the restart
        restarted.put(later)
        recovered = BookStore(_replayed(changelog + restarted_table.log)).get(book.partition)
        assert recovered == later, f"crash after {crash} changelog records"


def test_a_book_stored_whole_by_an_older_version_is_read_and_converted() -> None:
    book = next(iter(_books(20).values()))
    table = {book.partition: book.model_dump_json().encode()}
    store = BookStore(table)
    assert store.get(book.partition) == book
    store.put(store.get(book.partition))  # type: ignore[arg-type]
    assert "incidents" not in json.loads(table[book.partition])
    assert len(table) == 1 + len(book.incidents)
    assert BookStore(dict(table)).get(book.partition) == book


def test_an_index_naming_a_missing_incident_is_read_without_it_and_said(caplog: pytest.LogCaptureFixture) -> None:
    book = _biggest()
    table: dict[str, bytes] = {}
    BookStore(table).put(book)
    lost = json.loads(table[book.partition])["states"][4]
    del table[lost]
    store = BookStore(table)
    read = store.get(book.partition)
    assert read is not None and read.incidents == [*book.incidents[:4], *book.incidents[5:]]
    assert f"names {lost!r}, which is not in the table" in caplog.text
    store.put(read)  # the next write names only records that are there
    assert BookStore(dict(table)).get(book.partition) == read


def test_fold_returns_the_given_book_when_nothing_changes() -> None:
    first = article("a1", at="2031-05-06T10:00:00Z", killed=fig(10))
    book, alerts = fold(None, first, partition="atlantis", received_at=NOW)
    assert alerts
    again, alerts = fold(book, first, partition="atlantis", received_at=NOW)
    assert again is book and alerts == []
    newer, _ = fold(book, article("a2", at="2031-05-06T12:00:00Z", killed=fig(12)), partition="atlantis",
                    received_at=NOW)
    assert newer is not book


def test_stored_profiles_are_per_object_and_go_with_it() -> None:
    book = next(iter(_books(20).values()))
    state = book.incidents[0]
    assert _stored_profile(state) == incident_profile(state)
    assert _stored_profile(state) is _stored_profile(state)
    copy = state.model_copy()
    assert _stored_profile(copy) == incident_profile(state)
    ref = weakref.ref(copy)
    del copy
    assert ref() is None


def test_published_figures_are_set_again_once_dropped() -> None:
    book = next(b for b in _books(20).values() if any(s.figures for s in b.incidents))
    state = next(s for s in book.incidents if s.figures)
    publish_figures(book)
    assert metrics.has_figures(state.event_key)
    publish_figures(book)  # the same objects: nothing to do
    metrics.drop_incident(state.event_key)
    assert not metrics.has_figures(state.event_key)
    publish_figures(book)
    assert metrics.has_figures(state.event_key)
    metrics.drop_incident(state.event_key)


def test_distinct_incident_articles_are_one_sequence_whatever_the_batches() -> None:
    whole = distinct_incident_articles(40)
    assert [a.model_dump() for a in distinct_incident_articles(20, start=20)] == [a.model_dump() for a in whole[20:]]
    assert len({a.id for a in whole}) == 40


def test_rss_of_this_process() -> None:
    assert rss_kib(os.getpid()) > 1000


def test_remembered_books_are_bounded_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incident_store, "MAX_REMEMBERED_BYTES", 20_000)
    store = BookStore({})
    books = list(_books(300).values())
    for book in books:
        store.put(book)
    assert 0 < store.remembered_bytes() <= 20_000
    assert store.get(books[-1].partition) is books[-1]  # the newest is kept
    assert store.get(books[0].partition) == books[0] and store.get(books[0].partition) is not books[0]
    store.forget_all()
    assert store.remembered_bytes() == 0


def test_an_index_with_an_outbox_is_the_json_pydantic_writes() -> None:
    """The index's alerts are spliced in from their cached JSON: the bytes must be exactly
    ``model_dump_json()``'s, whatever the alerts' text (quotes, a '"outbox":[]' inside a string)."""
    alerts, _ = replay_offline(distinct_incident_articles(5), received_at=NOW)
    tricky = alerts[0].model_copy(update={"evidence": 'he said "outbox":[] and \\ left\n', "source": "ünï"})
    for outbox in ([], alerts[:1], [*alerts, tricky]):
        index = incident_store.BookIndex(partition="atlantis", seq=7, states=['atlantis|"a"|1'], outbox=outbox,
                                         passed=["i:1"])
        assert incident_store.index_json(index) == index.model_dump_json().encode()
        assert incident_store.BookIndex.model_validate_json(incident_store.index_json(index)) == index
    assert incident_store.alert_json(tricky) is incident_store.alert_json(tricky)  # computed once


class _ForgetfulViews(incidents._Views):
    """Views built from scratch on every fold, never derived from the one before."""

    def of(self, book: IncidentBook) -> incidents._BookView:
        self.drop(book.partition)
        return super().of(book)


def _with_resends(count: int) -> list[Article]:
    """Distinct incidents, then every tenth again (a redelivery) and re-sent with other content."""
    base = distinct_incident_articles(count)
    again = base[::10]
    changed = [a.model_copy(update={"text": a.text.replace("police said", "officials said")}) for a in base[5::10]]
    return [*base, *again, *changed]


def test_a_fold_with_views_derived_from_the_last_fold_is_a_fold_with_fresh_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The books' views are derived from the previous fold's (stream.incidents._BookView): the
    alerts and books must be those of views built from scratch, through evictions, merges and
    redelivered articles."""
    monkeypatch.setattr(incidents, "MAX_INCIDENTS", 6)  # every country's book full and evicting
    articles = _with_resends(700)
    derived = replay_offline(articles, received_at=NOW)
    monkeypatch.setattr(incidents, "_VIEWS", _ForgetfulViews())
    fresh = replay_offline(articles, received_at=NOW)
    assert [a.model_dump() for a in derived[0]] == [a.model_dump() for a in fresh[0]]
    assert {k: b.model_dump() for k, b in derived[1].items()} == {k: b.model_dump() for k, b in fresh[1].items()}
    assert sum(a.kind.value == "first_report" for a in derived[0]) > 600  # not all no-ops
    assert max(len(b.incidents) for b in derived[1].values()) == 6


def test_a_derived_view_counts_what_a_fresh_one_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incidents, "MAX_INCIDENTS", 5)
    books: dict[str, IncidentBook] = {}
    derivations = advanced = 0
    for extraction in _extractions(_with_resends(400)):
        key = partition_key(extraction)
        assert key is not None
        before = books.get(key)
        books[key], _ = fold(before, extraction, partition=key, received_at=NOW)
        if before is None or books[key] is before:
            continue
        left = incidents._VIEWS._views.get(key)  # the fold's own view, advanced to its book
        advanced += left is not None and left.source is books[key].incidents
        derived = incidents._VIEWS.of(books[key])
        fresh = incidents._BookView(books[key].incidents, None)
        assert (derived.states, derived.fingerprints, derived.keys, derived.size, derived.dates,
                derived.activities, list(map(id, derived.states)), set(derived.by_id)) == (
            fresh.states, fresh.fingerprints, fresh.keys, fresh.size, fresh.dates, fresh.activities,
            list(map(id, fresh.states)), set(fresh.by_id))
        derivations += 1
    assert derivations > 200
    assert advanced > 0.9 * derivations  # not derived again from the last book's view (O(book))


def test_views_are_bounded_and_closed_incidents_leave_them() -> None:
    views = incidents._Views(max_views=3, max_bytes=10**9)
    books = list(_books(40).values())
    for book in books:
        views.of(book)
    assert len(views) == 3
    bounded = incidents._Views(max_views=100, max_bytes=1)
    for book in books:
        bounded.of(book)
    assert len(bounded) == 1  # the last one is kept whatever its size
    book = books[-1]
    incidents._VIEWS.of(book)
    assert book.partition in incidents._VIEWS._views
    expire(book, now=NOW + dt.timedelta(days=400), ttl=dt.timedelta(days=1))
    assert book.partition not in incidents._VIEWS._views
