"""The incidents table's value codec (``stream.book_codec``) and the caches behind the fold's speed:
byte-identical JSON, a parsed book reused only for the very bytes it encodes, and folds that
give the same books and alerts as uncached ones."""

from __future__ import annotations

import datetime as dt
import json
import os
import weakref

import pytest
from faust.serializers import codecs

from stream import book_codec, metrics
from stream.agents import publish_figures
from stream.bench_stream import distinct_incident_articles, rss_kib
from stream.incidents import IncidentBook, _stored_profile, fold, incident_profile
from stream.pipeline import replay_offline
from tests.test_incidents import article, fig

NOW = dt.datetime(2031, 5, 20, tzinfo=dt.UTC)


def _books(count: int = 300) -> dict[str, IncidentBook]:
    _, books = replay_offline(distinct_incident_articles(count), received_at=NOW)
    return books


def test_book_json_is_model_dump_json_byte_for_byte() -> None:
    books = _books()
    assert len(books) > 50
    for book in books.values():
        assert book_codec.book_json(book) == book.model_dump_json().encode()
    odd = IncidentBook(partition='côte-d\'ivoire "x"\\y')
    assert book_codec.book_json(odd) == odd.model_dump_json().encode()
    remembering = odd.model_copy(update={"passed": ["i:0123", "c:4567"]})  # every field is stored
    assert book_codec.book_json(remembering) == remembering.model_dump_json().encode()
    assert IncidentBook.model_validate_json(book_codec.book_json(remembering)).passed == ["i:0123", "c:4567"]


def test_load_reuses_the_book_only_for_the_bytes_it_encodes() -> None:
    book = next(iter(_books(20).values()))
    data = book_codec.dump_book(book)
    assert book_codec.dump_book(book) is data  # store and changelog share one serialization
    assert book_codec.load_book(bytes(data)) is book
    # What an older worker wrote (Faust's json codec: blanks) or another worker's bytes: parsed.
    older = json.dumps(book.model_dump(mode="json")).encode()
    parsed = book_codec.load_book(older)
    assert parsed is not book and parsed == book
    changed = data.replace(b'"articles":1', b'"articles":2', 1)
    assert changed != data
    reread = book_codec.load_book(changed)
    assert reread is not book and reread.incidents[0].articles == 2
    book_codec.forget(book.partition)
    assert book_codec.load_book(bytes(data)) is not book


def test_the_codec_is_registered_with_faust() -> None:
    name = book_codec.register()
    book = IncidentBook(partition="atlantis")
    encoded = codecs.dumps(name, book)
    assert codecs.loads(name, encoded) == book
    assert json.loads(codecs.dumps(name, {"partition": "atlantis", "incidents": []})) == {
        "partition": "atlantis", "incidents": []}


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
    book_codec.forget_all()
    monkeypatch.setattr(book_codec, "MAX_REMEMBERED_BYTES", 1000)
    books = [IncidentBook(partition=f"country-{i}", passed=[f"i:{i:0200d}"]) for i in range(20)]
    for book in books:
        book_codec.dump_book(book)
    assert 0 < book_codec.remembered_bytes() <= 1000
    assert book_codec.load_book(book_codec.book_json(books[-1])) is books[-1]  # the newest is kept
    assert book_codec.load_book(book_codec.book_json(books[0])) is not books[0]  # the oldest went first
    book_codec.forget_all()
    assert book_codec.remembered_bytes() == 0
