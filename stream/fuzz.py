"""Hostile input for the ``articles`` topic: a pure, seeded generator (no Kafka here).

``tollwatch fuzz`` publishes what this module generates and checks that the worker survives
it: every hostile message must end on the dead-letter topic with a reason or be processed as
an article, and every good article interleaved with them must still produce its alert. The
same seed always yields the same messages (each message has its own ``random.Random`` seeded
from the run seed and its index), so a failure found by a run can be replayed exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from collections.abc import Iterator
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)

MIB = 1024 * 1024


class Category(StrEnum):
    RANDOM_BYTES = "random_bytes"
    TRUNCATED_JSON = "truncated_json"
    DEEP_NESTING = "deep_nesting"
    HUGE_STRING = "huge_string"
    WRONG_TYPE = "wrong_type"
    NUL_BYTES = "nul_bytes"
    INVALID_UTF8 = "invalid_utf8"
    INVISIBLE_CHARS = "invisible_chars"  # right-to-left marks, zero-width characters inside numbers
    ODD_DATE = "odd_date"
    PAYLOAD_1MB = "payload_1mb"
    PAYLOAD_10MB = "payload_10mb"
    GOOD = "good"


#: Categories drawn at random for ordinary hostile slots (the big payloads have fixed slots).
SMALL_HOSTILE: tuple[Category, ...] = (
    Category.RANDOM_BYTES, Category.TRUNCATED_JSON, Category.DEEP_NESTING, Category.HUGE_STRING,
    Category.WRONG_TYPE, Category.NUL_BYTES, Category.INVALID_UTF8, Category.INVISIBLE_CHARS,
    Category.ODD_DATE,
)


class FuzzMessage(BaseModel):
    """One record to publish; ``article_id`` is set only for good articles (they must alert)."""

    model_config = ConfigDict(frozen=True)

    index: int
    category: Category
    variant: str
    key: bytes | None
    payload: bytes | None
    article_id: str | None = None


class FuzzPlan(BaseModel):
    """How many of what: the defaults are the full run; tests use small counts."""

    seed: int = 0
    count: int = 10_000
    good_every: int = 10
    one_mb_every: int = 500
    ten_mb_every: int = 5000
    include_10mb: bool = True


# Good articles: one incident per (city, date), so each must produce its own first report.
GOOD_CITIES: tuple[tuple[str, str], ...] = (
    ("Iraqi", "Mosul"), ("Iraqi", "Basra"), ("Nigerian", "Maiduguri"), ("Nigerian", "Kano"),
    ("Pakistani", "Quetta"), ("Pakistani", "Peshawar"), ("Afghan", "Kandahar"), ("Afghan", "Herat"),
    ("Somali", "Mogadishu"), ("Syrian", "Aleppo"), ("Syrian", "Homs"), ("Indian", "Mumbai"),
    ("Turkish", "Ankara"), ("Yemeni", "Aden"), ("Malian", "Bamako"), ("Egyptian", "Cairo"),
    ("Libyan", "Tripoli"), ("Kenyan", "Nairobi"), ("Colombian", "Cali"), ("Mexican", "Tijuana"),
    ("Filipino", "Cotabato"), ("Sudanese", "Khartoum"), ("Lebanese", "Beirut"), ("Iranian", "Zahedan"),
    ("Congolese", "Goma"), ("Burkinabe", "Ouagadougou"), ("Bangladeshi", "Dhaka"), ("Thai", "Yala"),
    ("Ethiopian", "Gondar"), ("Cameroonian", "Maroua"),
)
_GOOD_BASE_DATE = dt.date(2020, 1, 6)
#: Days between two good incidents in the same city: far more than the matcher's 3-day window.
_GOOD_SPACING_DAYS = 10

#: Hostile but readable text: a city no good article uses, so it cannot steal a good incident.
_HOSTILE_TEXT = (
    "A bomb exploded at a market in the Chadian capital N'Djamena on Friday, killing at least {n} "
    "people and wounding {m}, officials said."
)

_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d",
              "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u2060", "\ufeff", "\u00ad", "\u061c")

ODD_DATES: tuple[object, ...] = (
    "31/02/2024", "2024-13-45", "yesterday", "Tuesday", "   ", "2024-00", "2024-W05-3", "0000", "99999",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00", "0001-01-01", "9999-12-31",
    "\u00b2\u2070\u00b2\u2074", "\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0663",  # superscript, Arabic digits
    "2024-01-03T25:61:61Z", "03 Jan 2024", "Jan 3, 2024", "2024/1/3", "3.1.2024", "1704240000000",
    "-62135596800", "1e30", "2024-01-03T10:00:00+05:30", "2024-01-03 10:00", "20240103",
    -62135596800, 1e20, -1e20, 0, 2**63, True, 1.5,
)

ARTICLE_FIELDS: tuple[str, ...] = ("id", "title", "text", "published", "published_precision", "url", "source",
                                   "language")
WRONG_VALUES: tuple[object, ...] = (0, -1, 3.25, True, False, None, [], ["a"], {}, {"text": "x"}, [[["deep"]]],
                                    2**70, "")


def good_article(seed: int, number: int) -> tuple[str, bytes]:
    """Good article ``number`` of the run: (id, JSON) for a short report with a killed figure."""
    adjective, city = GOOD_CITIES[number % len(GOOD_CITIES)]
    date = _GOOD_BASE_DATE + dt.timedelta(days=_GOOD_SPACING_DAYS * (number // len(GOOD_CITIES)))
    killed = 5 + number % 90
    article_id = f"fuzz-good-{seed}-{number}"
    text = (f"A bomb exploded at a market in the {adjective} city of {city} on {date.day} {date:%B %Y}, "
            f"killing at least {killed} people and wounding {killed + 20}, police said.")
    record = {"id": article_id, "text": text, "published": f"{date.isoformat()}T18:00:00Z",
              "source": "fuzz.example", "title": f"Bomb kills {killed} in {city}"}
    return article_id, json.dumps(record).encode()


def _hostile_record(rng: random.Random, index: int) -> dict[str, object]:
    n = rng.randint(1, 500)
    return {"id": f"fuzz-{index}", "text": _HOSTILE_TEXT.format(n=n, m=n + rng.randint(0, 50)),
            "published": "2030-06-07T12:00:00Z", "source": "hostile.example"}


def _dumps(record: object) -> bytes:
    """JSON as a real producer writes it (UTF-8); escaped only when a lone surrogate forbids UTF-8."""
    try:
        return json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(record).encode("ascii")


def _random_bytes(rng: random.Random, index: int) -> tuple[str, bytes | None]:
    roll = rng.random()
    if roll < 0.05:
        return "tombstone", None
    if roll < 0.1:
        return "empty", b""
    return "random", rng.randbytes(rng.randint(1, 2048))


def _truncated_json(rng: random.Random, index: int) -> tuple[str, bytes]:
    full = _dumps(_hostile_record(rng, index))
    return "cut", full[: rng.randint(1, len(full) - 1)]


def _deep_nesting(rng: random.Random, index: int) -> tuple[str, bytes]:
    depth = rng.choice((100, 1000, 10_000, 100_000))
    variant = rng.choice(("array", "object", "in_field", "unclosed"))
    if variant == "array":
        return f"array_{depth}", b"[" * depth + b"]" * depth
    if variant == "object":
        return f"object_{depth}", b'{"a":' * depth + b"1" + b"}" * depth
    if variant == "unclosed":
        return f"unclosed_{depth}", b"[" * depth
    record = _dumps(_hostile_record(rng, index))
    field = rng.choice((b'"title"', b'"text"', b'"published"', b'"extra"'))
    nested = b"[" * depth + b'"x"' + b"]" * depth
    return f"in_field_{depth}", record[:-1] + b"," + field + b":" + nested + b"}"


def _huge_string(rng: random.Random, index: int) -> tuple[str, bytes]:
    record = _hostile_record(rng, index)
    variant = rng.choice(("text", "title", "id", "source", "numbers", "digits", "no_spaces"))
    size = rng.choices((20_000, 100_000, 400_000), weights=(16, 3, 1))[0]
    if variant in ("text", "title", "id", "source"):
        record[variant] = (record["text"] + " ") * (size // 120)  # type: ignore[operator]
    elif variant == "numbers":  # one endless sentence full of figures
        record["text"] = "1 killed " * (size // 9)
    elif variant == "digits":  # a number longer than Python's int-from-string limit
        record["text"] = f"Officials said {'9' * rng.choice((50, 5000, 50_000))} people were killed."
    else:
        record["text"] = "x" * size
    return f"{variant}_{size}", _dumps(record)


def _wrong_type(rng: random.Random, index: int) -> tuple[str, bytes]:
    record = _hostile_record(rng, index)
    field = ARTICLE_FIELDS[index % len(ARTICLE_FIELDS)] if rng.random() < 0.5 else rng.choice(ARTICLE_FIELDS)
    roll = rng.random()
    if roll < 0.1:  # numbers JSON allows but Python reads badly: 5000 digits, infinity
        body = rng.choice((b"9" * 5000, b"1e999", b"-1e999", b"NaN"))
        raw = _dumps(record)
        return f"{field}_bignum", raw[:-1] + b',"' + field.encode() + b'":' + body + b"}"
    value = rng.choice(WRONG_VALUES)
    record[field] = value
    if rng.random() < 0.1:  # the whole record the wrong type
        return "record_not_object", _dumps(rng.choice(([record], "article", 42, None, True)))
    return f"{field}_{type(value).__name__}", _dumps(record)


def _nul_bytes(rng: random.Random, index: int) -> tuple[str, bytes]:
    record = _hostile_record(rng, index)
    if rng.random() < 0.5:  # escaped: valid JSON holding NUL characters
        field = rng.choice(("id", "text", "source", "title"))
        base = str(record.get(field) or "headline")
        cut = rng.randint(0, len(base))
        record[field] = base[:cut] + "\x00" * rng.randint(1, 5) + base[cut:]
        return f"escaped_{field}", _dumps(record)
    raw = _dumps(record)
    cut = rng.randint(0, len(raw))
    return "raw", raw[:cut] + b"\x00" * rng.randint(1, 5) + raw[cut:]


_BAD_UTF8 = (b"\xff", b"\xfe", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc", b"\xc0\xaf",
             b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80")


def _invalid_utf8(rng: random.Random, index: int) -> tuple[str, bytes]:
    record = _hostile_record(rng, index)
    if rng.random() < 0.3:  # a lone surrogate as a JSON escape: valid JSON, not a valid string
        record["text"] = str(record["text"]).replace("killing", "kill\ud800ing")
        return "escaped_surrogate", _dumps(record)
    raw = _dumps(record)
    cut = raw.index(b"killing") + rng.randint(0, 7)
    return "raw", raw[:cut] + rng.choice(_BAD_UTF8) + raw[cut:]


def _invisible_chars(rng: random.Random, index: int) -> tuple[str, bytes]:
    record = _hostile_record(rng, index)
    mark = rng.choice(_INVISIBLE)
    n = rng.randint(10, 999)
    digits = str(n)
    spot = rng.randint(1, len(digits) - 1)
    figure = digits[:spot] + mark + digits[spot:]
    variant = rng.choice(("in_number", "around_number", "in_id", "everywhere"))
    if variant == "in_number":  # "1\u200b00 killed"
        record["text"] = f"A bomb exploded in the Chadian capital N'Djamena, {figure} killed, officials said."
    elif variant == "around_number":
        record["text"] = f"A bomb exploded in the Chadian capital N'Djamena, killing {mark}{n}{mark} people."
    elif variant == "in_id":
        record["id"] = f"{mark}fuzz{mark}-{index}"
    else:
        record["text"] = mark.join(str(record["text"]))
    return f"{variant}_U+{ord(mark):04X}", _dumps(record)


def _odd_date(rng: random.Random, index: int) -> tuple[str, bytes]:
    record = _hostile_record(rng, index)
    value = rng.choice(ODD_DATES)
    record["published"] = value
    if rng.random() < 0.5:  # a relative date in the text, resolved against the odd publication date
        record["text"] = str(record["text"]).replace("on Friday", rng.choice(("yesterday", "on Monday", "last week")))
    return f"published_{type(value).__name__}", _dumps(record)


def _big_payload(rng: random.Random, index: int, size: int) -> tuple[str, bytes]:
    variant = rng.choice(("valid_text", "text_over_limit", "random"))
    if variant == "random":
        return variant, rng.randbytes(size)
    record = _hostile_record(rng, index)
    sentence = str(record["text"]) + " "
    room = size - len(_dumps({**record, "text": ""}))
    filler = sentence * (room // len(sentence) + 1)
    if variant == "text_over_limit":
        record["text"] = filler[:room]
    else:  # text within the model's 1,000,000-character limit, a headline (unlimited) for the rest
        record["text"] = filler[:min(room, 999_000)]
        record["title"] = filler[: max(room - 999_000 - len(',"title":""'), 0)]
    return variant, _dumps(record)


_GENERATORS = {
    Category.RANDOM_BYTES: _random_bytes,
    Category.TRUNCATED_JSON: _truncated_json,
    Category.DEEP_NESTING: _deep_nesting,
    Category.HUGE_STRING: _huge_string,
    Category.WRONG_TYPE: _wrong_type,
    Category.NUL_BYTES: _nul_bytes,
    Category.INVALID_UTF8: _invalid_utf8,
    Category.INVISIBLE_CHARS: _invisible_chars,
    Category.ODD_DATE: _odd_date,
}


def category_at(plan: FuzzPlan, index: int, rng: random.Random) -> Category:
    """The slot schedule: good articles every ``good_every``-th, big payloads at fixed slots, the
    first hostile slots cycle through every small category (so even a small run covers each)."""
    position = index + 1
    if plan.good_every and position % plan.good_every == 0:
        return Category.GOOD
    # Offsets 3 and 1 past the middle keep the big slots off the good ones (multiples of 10, 20...).
    if plan.include_10mb and plan.ten_mb_every and position % plan.ten_mb_every == plan.ten_mb_every // 2 + 3:
        return Category.PAYLOAD_10MB
    if plan.one_mb_every and position % plan.one_mb_every == plan.one_mb_every // 2 + 1:
        return Category.PAYLOAD_1MB
    if index < len(SMALL_HOSTILE) * 2:
        return SMALL_HOSTILE[index % len(SMALL_HOSTILE)]
    return rng.choice(SMALL_HOSTILE)


def generate(plan: FuzzPlan) -> Iterator[FuzzMessage]:
    """The run's messages, lazily (a 10 MB payload is built only when it is about to be sent)."""
    good_number = 0
    for index in range(plan.count):
        rng = random.Random(f"tollwatch-fuzz:{plan.seed}:{index}")
        category = category_at(plan, index, rng)
        if category is Category.GOOD:
            article_id, payload = good_article(plan.seed, good_number)
            good_number += 1
            yield FuzzMessage(index=index, category=category, variant="short_report", key=article_id.encode(),
                              payload=payload, article_id=article_id)
            continue
        hostile: bytes | None
        if category is Category.PAYLOAD_1MB:
            variant, hostile = _big_payload(rng, index, MIB)
        elif category is Category.PAYLOAD_10MB:
            variant, hostile = _big_payload(rng, index, 10 * MIB)
        else:
            variant, hostile = _GENERATORS[category](rng, index)
        key: bytes | None = None
        if rng.random() >= 0.2:  # the draws in this order keep a seed's messages as they were
            key = rng.choice((f"fuzz-{index}".encode(), rng.randbytes(8), b""))
        if hostile is None and key is None:
            key = f"fuzz-{index}".encode()  # Kafka needs a key or a value: a tombstone has a key
        yield FuzzMessage(index=index, category=category, variant=variant, key=key, payload=hostile)
