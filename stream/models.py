"""Message schemas: every payload on every topic validates against one of these.

The models are the contract between stages and with subscribers, so they are strict
(unknown keys are rejected on input models) and their JSON Schemas are exported by
``tollwatch schema``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

logger = logging.getLogger(__name__)

#: Articles longer than this are refused (dead-lettered): no real news article is this long,
#: and a runaway payload must not stall the extractor.
MAX_TEXT_CHARS = 1_000_000

FIGURE_FIELDS: tuple[str, ...] = ("killed", "injured", "hospitalized")
RESPONSIBILITY_FIELDS: tuple[str, ...] = ("claimed_by", "suspected", "denied_by")


class Qualifier(StrEnum):
    """How firm a figure is, from the words next to the number."""

    EXACT = "exact"
    AT_LEAST = "at_least"
    ABOUT = "about"


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_published(value: Any) -> dt.datetime | None:
    """Accept ISO dates, ISO datetimes (naive = UTC) and unix timestamps; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _as_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text), tz=dt.UTC)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            return _as_utc(dt.datetime.fromisoformat(text))
        except ValueError as err:
            raise ValueError(
                f"published {value!r} is not an ISO date/datetime or a unix timestamp"
            ) from err
    raise ValueError(f"published must be a string, number or null, not {type(value).__name__}")


class Article(BaseModel):
    """One news article as it arrives on the ``articles`` topic."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=512, description="Stable id of the article.")
    title: str | None = Field(default=None, description="Headline, if known.")
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="Body text as stored.")
    published: dt.datetime | None = Field(
        default=None, description="Publication time (UTC); null when the source does not state it."
    )
    url: str | None = None
    source: str | None = Field(default=None, description="Publishing outlet (domain or name).")
    language: str = Field(default="en", description="ISO 639-1 code.")

    @field_validator("published", mode="before")
    @classmethod
    def _published(cls, value: Any) -> dt.datetime | None:
        return parse_published(value)

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


class IncidentDescriptor(BaseModel):
    """What the article is about: where, when and what happened."""

    place: str | None = None
    country: str | None = None
    date: dt.date | None = Field(default=None, description="Incident date, resolved if relative.")
    kind: str | None = Field(default=None, description="bombing, shooting, earthquake, ...")


class Extraction(BaseModel):
    """Everything the extractors found in one article.

    ``id`` is the article id so that the offline ``extract --json`` output and the stream
    carry the same key; the flat figure and responsibility fields are the public contract.
    """

    id: str
    source: str | None = None
    url: str | None = None
    title: str | None = None
    published: dt.datetime | None = None
    killed: Figure | None = None
    injured: Figure | None = None
    hospitalized: Figure | None = None
    claimed_by: list[str] = Field(default_factory=list)
    suspected: list[str] = Field(default_factory=list)
    denied_by: list[str] = Field(default_factory=list)
    attributions: list[Attribution] = Field(default_factory=list)
    incident: IncidentDescriptor = Field(default_factory=IncidentDescriptor)
    event_key: str | None = None

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
    emitted_at: dt.datetime | None = Field(default=None, description="When the worker emitted it.")

    @staticmethod
    def make_id(event_key: str, kind: str, field: str, current: int | str, qualifier: str | None) -> str:
        """Hash of the fact itself (not of the article), so a replayed or re-sent fact keeps its id."""
        fact = "|".join([event_key, kind, field, str(current), qualifier or ""])
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
