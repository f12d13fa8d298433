"""When an incident happened: explicit dates, weekdays and "yesterday" against the publication day.

``resolve_date`` fills ``incident.date`` when the text allows, so that the incident-state stage
can split two incidents with one key a week apart; a publication date is only a reference (the
date never falls back to it). A date is only taken next to incident words ("Tuesday's blast",
"exploded on Monday"); wire datelines, page timestamps, photo-caption dates and the days of
reports and toll updates ("police said on Wednesday", "on Saturday revised the toll") are not
the incident's: a missing date is much better than a wrong one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from functools import cache

from stream.extract import lexicon
from stream.extract.text import Document, Sentence

logger = logging.getLogger(__name__)

# --- date -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DateRules:
    explicit_mdy: re.Pattern[str]
    explicit_dmy: re.Pattern[str]
    iso: re.Pattern[str]
    weekday: re.Pattern[str]
    relative: re.Pattern[str]
    holiday: re.Pattern[str]
    holidays: dict[str, str]
    months: dict[str, int]
    weekdays: dict[str, int]
    relative_days: dict[str, int]
    penalty: re.Pattern[str]
    bonus: re.Pattern[str]
    dateline: re.Pattern[str]
    report: re.Pattern[str]
    timestamp: re.Pattern[str]
    furniture: re.Pattern[str]
    prefilter: re.Pattern[str]


@cache
def _date_rules(ascii_text: bool = False) -> _DateRules:
    """The compiled rules; with ``ascii_text``, the variant for ``lexicon.plain_ascii`` text."""
    data = lexicon.load("incident")

    def rx(source: str, flags: int = 0) -> re.Pattern[str]:
        return lexicon.compile_rule(source, flags, ascii_text=ascii_text)

    months = {k.lower(): int(v) for k, v in data["months"].items()}
    month_alt = lexicon.alternation([re.escape(m) for m in months])
    weekdays = {d.lower(): i for i, d in enumerate(data["weekdays"])}
    relative = {k.lower(): int(v) for k, v in data["relative_days"].items()}
    holidays = {k.lower(): v for k, v in data["holidays"].items()}
    return _DateRules(
        explicit_mdy=rx(
            rf"\b(?P<month>{month_alt})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>(?:19|20)\d\d)\b)?",
            re.IGNORECASE,
        ),
        explicit_dmy=rx(
            rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{month_alt})\b\.?(?:,?\s+(?P<year>(?:19|20)\d\d)\b)?",
            re.IGNORECASE,
        ),
        # ``\b(?:19|20)`` with the word-boundary check after the first digit, so that re skips to digits
        iso=rx(r"(?P<year>(?:1(?<!\w1)9|2(?<!\w2)0)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b"),
        weekday=rx(r"\b(?P<weekday>" + lexicon.alternation(list(weekdays)) + r")(?:'s)?\b", re.IGNORECASE),
        relative=rx(r"\b(?P<rel>" + lexicon.literal_alternation(list(relative)) + r")\b", re.IGNORECASE),
        holiday=rx(r"\b(?P<holiday>" + lexicon.literal_alternation(list(holidays)) + r")\b", re.IGNORECASE),
        holidays=holidays,
        months=months,
        weekdays=weekdays,
        relative_days=relative,
        penalty=rx(lexicon.guarded(data["date_penalty_context"]), re.IGNORECASE),
        bonus=rx(lexicon.guarded(data["date_bonus_context"]), re.IGNORECASE),
        dateline=rx(data["date_dateline"]),
        report=rx(lexicon.guarded(data["date_report_context"]), re.IGNORECASE),
        timestamp=rx(data["date_timestamp"], re.IGNORECASE),
        furniture=rx(data["date_furniture"]),
        prefilter=rx(r"\d"),
    )


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if day > [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30,
              31, 30, 31][month - 1]:
        return None
    return dt.date(year, month, day)


_MONTH_STEMS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RELATIVE_TRIGGERS = ("day", "night", "morning", "afternoon", "evening")


_HOLIDAY_TRIGGERS = ("easter", "christmas", "boxing", "new year", "good friday", "palm sunday", "halloween")


def easter(year: int) -> dt.date:
    """Western Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the computus' own names
    m = (a + 11 * h + 19 * l) // 433
    month = (h + l - 7 * m + 90) // 25
    return dt.date(year, month, (h + l - 7 * m + 33 * month + 19) % 32)


def _holiday_in(rule: str, year: int) -> dt.date | None:
    if rule.startswith("easter"):
        offset = int(rule[len("easter"):] or 0)
        return easter(year) + dt.timedelta(days=offset)
    month, day = (int(part) for part in rule.split("-"))
    return _safe_date(year, month, day)


def holiday_on_or_before(rule: str, published: dt.date) -> dt.date | None:
    """The latest day named by ``rule`` ('easter', 'easter-2', 'MM-DD') on or before ``published``
    (a day of slack for time zones)."""
    for year in (published.year, published.year - 1):
        day = _holiday_in(rule, year)
        if day is not None and day <= published + dt.timedelta(days=1):
            return day
    return None


@dataclass(frozen=True, slots=True)
class DateMention:
    date: dt.date
    sentence: int
    start: int
    strength: float
    end: int = -1  # end of the date words (-1: not recorded)


def find_dates(sentence: Sentence, *, published: dt.date | None, year_hint: int | None) -> list[DateMention]:
    """Resolvable dates in one sentence: explicit ones, weekdays and relative days."""
    text = sentence.text
    rules = _date_rules(sentence.plain_ascii)
    found: list[DateMention] = []
    lowered = sentence.lowered
    has_digit = rules.prefilter.search(text) is not None
    has_month = has_digit and lexicon.contains_any(lowered, _MONTH_STEMS)
    taken: list[tuple[int, int]] = []
    patterns = (rules.iso, rules.explicit_mdy, rules.explicit_dmy) if has_month else (rules.iso,) if has_digit else ()
    for pattern in patterns:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            month_token = m.group("month")
            month = int(month_token) if month_token.isdigit() else rules.months[month_token.lower()]
            day = int(m.group("day"))
            year_text = m.group("year")
            year = int(year_text) if year_text else (published.year if published else year_hint)
            if year is None or (not year_text and published is None):
                continue
            if year is None:
                continue
            date = _safe_date(year, month, day)
            if date is None:
                continue
            if not year_text and published and date > published + dt.timedelta(days=1):
                date = _safe_date(year - 1, month, day)
                if date is None:
                    continue
            taken.append((m.start(), m.end()))
            found.append(DateMention(date, sentence.index, m.start(), 1.0 if year_text else 0.9, m.end()))
    if published is not None and "day" in lowered:
        for m in rules.weekday.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            back = (published.weekday() - rules.weekdays[m.group("weekday").lower()]) % 7
            found.append(DateMention(published - dt.timedelta(days=back), sentence.index, m.start(), 0.8, m.end()))
    if published is not None and lexicon.contains_any(lowered, _HOLIDAY_TRIGGERS):
        for m in rules.holiday.finditer(text):
            named = holiday_on_or_before(rules.holidays[m.group("holiday").lower()], published)
            if named is not None:
                found.append(DateMention(named, sentence.index, m.start(), 0.85, m.end()))
    if published is not None and lexicon.contains_any(lowered, _RELATIVE_TRIGGERS):
        for m in rules.relative.finditer(text):
            offset = rules.relative_days[m.group("rel").lower()]
            found.append(DateMention(published + dt.timedelta(days=offset), sentence.index, m.start(), 0.7, m.end()))
    return found


#: Incident dates are looked for this far before the publication date; older dates in a
#: dated article are background (anniversaries, earlier attacks).
MAX_DATE_AGE = dt.timedelta(days=120)
_DATE_TAIL = re.compile(r"[\w ,.]*")


def _date_tail(text: str, start: int) -> str:
    """The words running on from a date ("3, 2024, at ..."): the pattern matches the empty string too."""
    found = _DATE_TAIL.match(text, start)
    return found.group(0).rstrip(" ,.") if found else ""
#: "Tuesday, after", "Jan. 31, a day after the blast": the date of a later day than the incident's.
_AFTER_DATE = re.compile(r"^\W*(?:\w+\W+){0,2}(?:after|following|since)\b", re.IGNORECASE)
#: A full date with its year closing the sentence after a comma or "on": the style of photo
#: captions ("... in Urgun district, Paktika province, July 16, 2014."), which date the photo.
_CAPTION_BEFORE = re.compile(r"(?:,|\bon)\s*$")
_CAPTION_AFTER = re.compile(r"[\s.)\]]*$")  # used with match(text, pos): no "^", it would not match at pos
_DATELINE_REACH = 45
#: The best date must score this much: a date with neither incident words nor an event's
#: possessive near it ("police said on Wednesday") is not taken (a wrong date is worse than none).
MIN_DATE_SCORE = 0.0
_POSSESSIVE_EVENT = re.compile(r"^(?:'s)?\s+(?:[\w.-]+\s+){0,2}?(?:attacks?|bombings?|blasts?|explosions?|shootings?|"
                               r"massacre|earthquake|quake|tremor|temblor|assault|siege|floods?|fire)\b", re.IGNORECASE)


def resolve_date(doc: Document, *, published: dt.date | None, skip: frozenset[int] = frozenset()) -> dt.date | None:
    """The incident date: the resolvable date best placed next to the incident's verbs.

    Without a publication date only dates with a year count (a bare "Wednesday" or "Jan 3"
    cannot be placed); with one, dates more than ``MAX_DATE_AGE`` before it are background.
    A wrong date is worse than none (it would split one incident in two downstream).
    """
    scored = scored_dates(doc, published=published, skip=skip)
    best = max(scored, key=lambda c: c[0], default=None)  # the first of equal scores, as before
    return best[1] if best and best[0] >= MIN_DATE_SCORE else None


def scored_dates(
    doc: Document, *, published: dt.date | None, skip: frozenset[int] = frozenset()
) -> list[tuple[float, dt.date, DateMention]]:
    """Every candidate incident date with its score (see ``resolve_date``), in text order."""
    scored: list[tuple[float, dt.date, DateMention]] = []
    per_sentence = [
        (s, find_dates(s, published=published, year_hint=None))
        for s in doc.sentences if s.index not in skip and s.kind != "title"
    ]
    explicit_years = [m.date.year for _, found in per_sentence for m in found if m.strength >= 1.0]
    latest_year = max(explicit_years) if explicit_years else None
    for sentence, found in per_sentence:
        text = sentence.text
        rules = _date_rules(sentence.plain_ascii)  # the context slices are as ASCII as the sentence
        for mention in found:
            if published is not None and not (published - MAX_DATE_AGE <= mention.date <= published):
                continue
            if published is None and latest_year is not None and mention.date.year < latest_year:
                continue
            end = (
                mention.end if mention.end >= 0
                else mention.start + 1 + len(_date_tail(text, mention.start + 1))
            )
            before = text[max(0, mention.start - 50):mention.start]
            after = text[end:end + 30]
            score = mention.strength - 0.01 * sentence.index
            context = False
            if rules.bonus.search(before) or rules.bonus.search(after):
                score += 1.0
                context = True
            if _POSSESSIVE_EVENT.match(text[end - 2:end + 40]) or _POSSESSIVE_EVENT.match(after):
                score += 0.6
                context = True
            if not context:
                continue  # no incident word near it: the day of a report, a funeral, a photo
            if rules.penalty.search(before[-35:]) or rules.penalty.search(after[:20]):
                score -= 0.8
            if _AFTER_DATE.match(after):
                score -= 1.0
            if sentence.kind == "caption":
                score -= 0.3
            if mention.end >= 0:
                if mention.start < _DATELINE_REACH and rules.dateline.match(text, mention.end):
                    score -= 2.0  # "Sept. 15 (UPI) --": the day the story was filed
                if rules.timestamp.match(text, mention.end):
                    score -= 2.0  # "16th August 2018, 19:07 GMT": when the page was stamped
                if rules.report.search(before[-15:]) or rules.report.search(after[:20]):
                    score -= 0.8  # "on Saturday revised down the toll": the day of the report
                if (
                    mention.strength >= 1.0
                    and _CAPTION_AFTER.match(text, mention.end)
                    and _CAPTION_BEFORE.search(text, 0, mention.start)
                ):
                    continue  # a photo caption's date: when the photo was taken
            if rules.furniture.search(text):
                score -= 2.0
            scored.append((score, mention.date, mention))
    return scored


# A year not glued to a number before it: ``(?<![\d,.:$])((?:19|20)\d\d)`` with the lookbehind
# moved after the first digit (``1(?<![\d,.:$]1)``) so that ``re`` can skip to a '1' or '2'.
YEAR = re.compile(r"((?:1(?<![\d,.:$]1)9|2(?<![\d,.:$]2)0)\d\d)(?!\d|[,:]\d|\s*(?:GMT|UTC|hrs|hours|local|[ap]\.?m\b))")


def may_hold_year(text: str) -> bool:
    """Cheap test before ``YEAR``: every year it matches starts with '19' or '20'."""
    return "19" in text or "20" in text
