from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from stream.models import MAX_TEXT_CHARS, SCHEMA_MODELS, Alert, Article, DatePrecision, parse_published


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-03", dt.datetime(2024, 1, 3, tzinfo=dt.UTC)),
        ("2024-01-04T18:40:27Z", dt.datetime(2024, 1, 4, 18, 40, 27, tzinfo=dt.UTC)),
        ("2017-10-02T21:10", dt.datetime(2017, 10, 2, 21, 10, tzinfo=dt.UTC)),
        (1704393627, dt.datetime(2024, 1, 4, 18, 40, 27, tzinfo=dt.UTC)),
        (None, None),
    ],
)
def test_parse_published(raw: object, expected: dt.datetime | None) -> None:
    assert parse_published(raw) == expected


@pytest.mark.parametrize(
    ("raw", "published", "precision"),
    [
        ("2024-03-05T10:00:00Z", dt.datetime(2024, 3, 5, 10, tzinfo=dt.UTC), DatePrecision.SECOND),
        ("2024-03-05T12:00:00+02:00", dt.datetime(2024, 3, 5, 10, tzinfo=dt.UTC), DatePrecision.SECOND),
        ("2024-03-05", dt.datetime(2024, 3, 5, tzinfo=dt.UTC), DatePrecision.DAY),
        ("2024-03", dt.datetime(2024, 3, 1, tzinfo=dt.UTC), DatePrecision.MONTH),
        ("2017/5", dt.datetime(2017, 5, 1, tzinfo=dt.UTC), DatePrecision.MONTH),
        ("2017", dt.datetime(2017, 1, 1, tzinfo=dt.UTC), DatePrecision.YEAR),
        (1704300000, dt.datetime(2024, 1, 3, 16, 40, tzinfo=dt.UTC), DatePrecision.SECOND),
        ("1704300000", dt.datetime(2024, 1, 3, 16, 40, tzinfo=dt.UTC), DatePrecision.SECOND),
        (1704300000000, dt.datetime(2024, 1, 3, 16, 40, tzinfo=dt.UTC), DatePrecision.SECOND),  # milliseconds
        (None, None, None),
    ],
)
def test_published_is_read_as_outlets_give_it_with_its_precision(
    raw: object, published: dt.datetime | None, precision: DatePrecision | None
) -> None:
    article = Article(id="a", text="x", published=raw)
    assert (article.published, article.published_precision) == (published, precision)
    again = Article.model_validate_json(article.model_dump_json())
    assert (again.published, again.published_precision) == (published, precision)


def test_only_a_day_precise_date_dates_an_article_to_the_day() -> None:
    assert Article(id="a", text="x", published="2024-03").dated_to_the_day is None
    assert Article(id="a", text="x", published="2024").dated_to_the_day is None
    assert Article(id="a", text="x", published="2024-03-05").dated_to_the_day == dt.datetime(2024, 3, 5, tzinfo=dt.UTC)


def test_an_unreadable_date_keeps_the_article_undated_instead_of_rejecting_it(caplog: pytest.LogCaptureFixture) -> None:
    article = Article(id="a", text="x", published="last tuesday")
    assert article.published is None and article.published_precision is None
    assert "last tuesday" in caplog.text


def test_a_published_of_the_wrong_type_is_invalid() -> None:
    with pytest.raises(ValidationError, match="published must be"):
        Article(id="a", text="x", published=["2024"])
    with pytest.raises(ValidationError, match="published must be"):
        Article(id="a", text="x", published=True)


def test_article_rejects_blank_and_oversized_text() -> None:
    with pytest.raises(ValidationError):
        Article(id="a", text="   ")
    with pytest.raises(ValidationError):
        Article(id="a", text="x" * (MAX_TEXT_CHARS + 1))


def test_alert_id_is_a_function_of_the_fact() -> None:
    one = Alert.make_id("k", "revised_down", "killed", 84, "exact")
    assert one == Alert.make_id("k", "revised_down", "killed", 84, "exact")
    assert one != Alert.make_id("k", "revised_down", "killed", 85, "exact")
    assert one != Alert.make_id("other", "revised_down", "killed", 84, "exact")


def test_every_model_exports_a_json_schema() -> None:
    for name, model in SCHEMA_MODELS.items():
        schema = model.model_json_schema()
        assert schema["type"] == "object" and schema["properties"], name


@pytest.mark.parametrize(("field", "limit"), [("title", 2_000), ("url", 4_096), ("source", 512)])
def test_fields_copied_into_every_alert_are_bounded(field: str, limit: int) -> None:
    """A megabyte-long source went into the incident state and every alert, and grew a
    country's table value past the producer's 8 MB (tollwatch fuzz)."""
    Article(id="a", text="t", **{field: "x" * limit})
    with pytest.raises(ValidationError, match=f"{field}\n  String should have at most {limit} characters"):
        Article(id="a", text="t", **{field: "x" * (limit + 1)})


def test_an_article_with_a_huge_source_is_dead_lettered() -> None:
    from stream.models import DeadLetter
    from stream.pipeline import process_article

    payload = b'{"id": "a", "text": "Ten people were killed.", "source": "' + b"s" * 1_000_000 + b'"}'
    result = process_article(payload, topic="articles", timestamp=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert isinstance(result, DeadLetter) and result.reason == "invalid_article"
    assert "source" in result.detail
