from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from stream.models import MAX_TEXT_CHARS, SCHEMA_MODELS, Alert, Article, parse_published


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


def test_bad_published_says_what_is_accepted() -> None:
    with pytest.raises(ValidationError, match="ISO date"):
        Article(id="a", text="x", published="last tuesday")


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
