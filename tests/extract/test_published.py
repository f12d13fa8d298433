"""How ``extract`` uses the publication date: relative dates need a day, not a month or a year."""

from __future__ import annotations

import datetime as dt

import pytest

from stream.extract import extract
from stream.models import Article, DatePrecision

TEXT = (
    "A car bomb exploded at a market in the Iraqi city of Mosul on Tuesday, killing at least 14 "
    "people and wounding 30, police said."
)


def test_day_precision_resolves_the_weekday() -> None:
    extraction = extract(Article(id="a", text=TEXT, published="2024-03-07"))
    assert extraction.incident.date == dt.date(2024, 3, 5)
    assert extraction.published_precision is DatePrecision.DAY


@pytest.mark.parametrize(("published", "precision"), [("2024-03", DatePrecision.MONTH), ("2024", DatePrecision.YEAR)])
def test_coarse_date_is_not_a_day_to_count_back_from(published: str, precision: DatePrecision) -> None:
    # Read as 1 March 2024 (a Friday), "on Tuesday" would become 27 February: an invented date.
    extraction = extract(Article(id="a", text=TEXT, published=published))
    assert extraction.incident.date is None
    assert extraction.incident.place == "Mosul" and extraction.killed is not None
    assert extraction.published_precision is precision  # kept for consumers
