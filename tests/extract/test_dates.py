"""Dates: the incident date from the text, relative to the publication day."""

from __future__ import annotations

import datetime as dt

import pytest

from stream.extract import extract
from stream.models import Article, Extraction


def run(text: str, *, published: str | None = "2024-01-04", title: str | None = None) -> Extraction:
    return extract(Article(id="i", text=text, published=published, title=title))


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("The bombing on Wednesday killed 30 people in Kerman.", "2024-01-04", dt.date(2024, 1, 3)),
        ("The attack on Thursday killed 30 people in Kerman.", "2024-01-04", dt.date(2024, 1, 4)),
        ("A bomb exploded yesterday in Kerman, killing 30.", "2024-01-04", dt.date(2024, 1, 3)),
        ("A bomb exploded in Kerman on January 3, 2024, killing 30.", None, dt.date(2024, 1, 3)),
        ("A bomb exploded in Kerman on 3 January 2024, killing 30.", None, dt.date(2024, 1, 3)),
        ("A bomb exploded in Kerman on Wednesday, killing 30.", None, None),
        ("A bomb exploded in Kerman on January 3, killing 30.", None, None),
    ],
)
def test_incident_date(text: str, published: str | None, expected: dt.date | None) -> None:
    assert run(text, published=published).incident.date == expected


def test_date_next_to_the_incident_wins_over_a_later_funeral() -> None:
    e = run("Funerals were held on Friday. The twin blasts on Wednesday killed 91 people in Kerman.",
            published="2024-01-06")
    assert e.incident.date == dt.date(2024, 1, 3)
