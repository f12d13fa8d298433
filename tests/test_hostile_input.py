"""Regression tests for what ``tollwatch fuzz`` found: each of these used to raise in the worker
(killing the Faust agent), be dead-lettered as an extractor failure, or stall it for minutes."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from stream import pipeline
from stream.extract import extract
from stream.extract.numbers import find_numbers
from stream.extract.text import MAX_SENTENCE_CHARS, clean
from stream.models import Article, DeadLetter, parse_published_with_precision

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
MOSUL = "A bomb exploded at a market in the Iraqi city of Mosul{when}, killing at least 12 people, police said."


def _process(payload: bytes) -> pipeline.ExtractionMessage | DeadLetter | None:
    return pipeline.process_article(payload, topic="articles", partition=0, offset=3, timestamp=NOW)


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b"[" * 100_000,
        b'{"id": "a", "text": "x", "title": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    ],
    ids=["arrays", "objects", "unclosed", "in_a_field"],
)
def test_deep_nesting_is_invalid_json_not_a_recursion_error(payload: bytes) -> None:
    result = _process(payload)
    assert isinstance(result, DeadLetter) and result.reason == "invalid_json"
    assert "nested too deeply" in result.detail


def test_integer_beyond_pythons_digit_limit_is_invalid_json() -> None:
    result = _process(b'{"id": "a", "text": "x", "published": ' + b"9" * 5000 + b"}")
    assert isinstance(result, DeadLetter) and result.reason == "invalid_json" and "4300" in result.detail


def test_an_unexpected_parser_error_is_dead_lettered(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(pipeline, "parse_article", broken)
    result = _process(b"{}")
    assert isinstance(result, DeadLetter) and result.reason == "processing_error" and "boom" in result.detail


@pytest.mark.parametrize(
    "published",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00", "0001-01-01", "9999-12-31", -62135596800,
     "-62135596800", "\u00b2\u2070\u00b2\u2074"],
)
def test_out_of_range_or_odd_publication_dates_keep_the_article_undated(published: object) -> None:
    assert parse_published_with_precision(published) == (None, None)
    for when in ("", " yesterday", " on Monday"):
        payload = json.dumps({"id": "a", "text": MOSUL.format(when=when), "published": published}).encode()
        result = _process(payload)
        assert isinstance(result, pipeline.ExtractionMessage), (published, when, result)
        assert result.extraction.published is None and result.extraction.killed is not None


def test_plausible_dates_still_read() -> None:
    assert parse_published_with_precision("1850-06-01")[0] == dt.datetime(1850, 6, 1, tzinfo=dt.UTC)
    assert parse_published_with_precision("2024-01-03T10:00:00+05:30")[0] == dt.datetime(
        2024, 1, 3, 4, 30, tzinfo=dt.UTC)


def test_a_number_longer_than_ints_digit_limit_is_no_number() -> None:
    assert find_numbers("Officials said " + "9" * 5000 + " people were killed.") == []
    extraction = extract(Article(id="a", text=MOSUL.format(when="") + " Officials said " + "9" * 5000 + " died."))
    assert extraction.killed is not None and extraction.killed.value == 12


def test_one_endless_sentence_of_numbers_is_cut_and_fast() -> None:
    text = "1 killed " * 40_000  # 360 kB, no sentence end: took minutes before the cut
    doc = clean(text)
    assert all(len(s.text) <= MAX_SENTENCE_CHARS for s in doc.sentences)
    started = time.perf_counter()
    extract(Article(id="a", text=text, title="1 killed " * 200))  # titles are capped at 2,000 characters
    assert time.perf_counter() - started < 30  # generous on a busy machine; it was ~250 s


def test_short_sentences_are_not_cut() -> None:
    doc = clean(MOSUL.format(when=" on Sunday") + " Another sentence follows here.")
    assert [s.text for s in doc.sentences] == [MOSUL.format(when=" on Sunday"), "Another sentence follows here."]


def test_book_is_bounded_in_bytes_so_its_changelog_record_can_be_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The full fuzz run stopped the worker: 200 hostile incidents in one country made an
    8.5 MB book, over the 8 MB producer limit of the table's changelog."""
    from stream import incidents
    from tests.test_incidents import DAY0, KEY, PLACE, T0, article, fig

    book = None
    sizes = []
    for week in range(4):
        desc = PLACE.model_copy(update={"date": DAY0 + dt.timedelta(days=7 * week)})
        at = T0 + dt.timedelta(days=7 * week)
        book, _ = incidents.fold(book, article(f"w{week}", at=at, killed=fig(week + 1), incident=desc),
                                 partition=KEY, received_at=at)
        sizes.append(len(book.incidents[-1].model_dump_json()))
        if week == 0:
            monkeypatch.setattr(incidents, "MAX_BOOK_BYTES", int(2.5 * sizes[0]))  # room for two
    assert book is not None and len(book.incidents) == 2
    assert sum(len(s.model_dump_json()) for s in book.incidents) <= incidents.MAX_BOOK_BYTES
    assert book.incidents[-1].event_key.endswith(str(DAY0 + dt.timedelta(days=21)))  # the newest stays
