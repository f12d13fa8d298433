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


def _date(text: str, published: str | None = "2024-05-16") -> dt.date | None:  # 2024-05-16 is a Thursday
    from stream.extract import extract
    from stream.models import Article

    e = extract(Article(id="d", text=text, published=published))
    assert (e.incident.date_basis == "text") == (e.incident.date is not None)
    return e.incident.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two bombs exploded at a bus station in Quetta on Wednesday, killing 11 people.", dt.date(2024, 5, 15)),
        ("Police said Wednesday's blasts at a bus station in Quetta killed 11 people.", dt.date(2024, 5, 15)),
        ("A gunman killed six people at a bar in Toledo late Tuesday, police said.", dt.date(2024, 5, 14)),
        ("A gunman killed six people at a bar in Toledo on Tuesday night.", dt.date(2024, 5, 14)),
        ("A bomb exploded at a market in Kano yesterday, killing nine people.", dt.date(2024, 5, 15)),
        ("A bomb exploded at a market in Kano last night, killing nine people.", dt.date(2024, 5, 15)),
        ("A bomb exploded at a market in Kano on Thursday, killing nine people.", dt.date(2024, 5, 16)),
        ("A bomb exploded at a market in Kano on Sunday, killing nine people.", dt.date(2024, 5, 12)),
        ("A bomb that exploded at a market in Kano earlier this month killed nine people.", None),
        ("The bombing of a market in Kano last month killed nine people, officials said.", None),
    ],
)
def test_relative_incident_dates(text: str, expected: dt.date | None) -> None:
    assert _date(text) == expected


def test_the_day_of_the_report_is_not_the_incident_date() -> None:
    # The only dated words are about the report and the toll update: no date rather than a wrong one.
    assert _date("The death toll rose to 40, police said on Thursday. Funerals were held on Wednesday.") is None
    assert _date(
        "Officials on Thursday revised the toll to 40. The blast ripped through the market on Monday."
    ) == dt.date(2024, 5, 13)


def test_wire_dateline_and_photo_caption_dates_are_not_the_incident_date() -> None:
    assert _date("May 16 (Wire) -- The toll from Monday's bombing in Kano rose to 40.") == dt.date(2024, 5, 13)
    assert _date(
        "Rescuers search the rubble after the bombing at a market in Kano, Nigeria, May 16, 2024. "
        "The bomb went off on Tuesday, killing 40 people."
    ) == dt.date(2024, 5, 14)
    assert _date("Mourners gather after the bombing in Kano, Nigeria, May 15, 2024.") is None


def test_named_holidays_date_the_incident() -> None:
    from stream.extract.dates import easter, holiday_on_or_before

    assert [easter(y) for y in (2019, 2024, 2025)] == [dt.date(2019, 4, 21), dt.date(2024, 3, 31), dt.date(2025, 4, 20)]
    assert holiday_on_or_before("easter-2", dt.date(2025, 4, 30)) == dt.date(2025, 4, 18)  # Good Friday
    assert holiday_on_or_before("12-31", dt.date(2027, 1, 2)) == dt.date(2026, 12, 31)  # last year's eve


def test_an_attributive_day_beats_a_day_named_for_something_else() -> None:
    # "the Easter Sunday bombings" names the incident's day; "Thursday's blast" here is another event.
    e = run(
        "Officials lowered the death toll from the Easter Sunday bombings at three churches in Colombo to 180 "
        "on Thursday. Thursday's blast near a courthouse caused no casualties.",
        published="2031-04-17",
    )
    assert e.incident.date == dt.date(2031, 4, 13) and e.incident.date_basis == "text"
