"""Well-formedness of the held-out evaluation set tests/data/holdout.jsonl (see tests/data/README.md).

Checks the schema of ../shared/corpus/ANNOTATION.md: key order, figure objects, qualifiers,
canonical responsibility names, and that every gold number (value, superseded, also) appears in
the article text as digits (with or without thousands separators) or as English number words.
It does not run the extractor.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

HOLDOUT = Path(__file__).resolve().parent / "data" / "holdout.jsonl"

KEYS = ["id", "event", "source", "url", "published", "title", "text", "gold", "notes"]
GOLD_KEYS = ["killed", "injured", "hospitalized", "claimed_by", "suspected", "denied_by"]
FIGURE_KEYS = ["value", "qualifier", "superseded", "also"]
QUALIFIERS = {"exact", "at_least", "about"}
CANONICAL = {
    "Islamic State",
    "Islamic State Khorasan Province",
    "al-Shabaab",
    "Tehrik-i-Taliban Pakistan",
    "Jamaat-ul-Ahrar",
    "National Thowheeth Jama'ath",
    "Jammiyathul Millathu Ibrahim",
    "Hezbollah",
    "Ukraine",
    "United States",
    "United Kingdom",
    "Israel",
}

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _words(n: int) -> set[str]:
    """English spellings of n (below 100, plus 'a dozen' for 12)."""
    if n < 20:
        out = {_ONES[n]}
    elif n < 100:
        tens, ones = divmod(n, 10)
        out = {_TENS[tens]} if ones == 0 else {f"{_TENS[tens]}-{_ONES[ones]}", f"{_TENS[tens]} {_ONES[ones]}"}
    else:
        out = set()
    if n == 12:
        out.add("a dozen")
    return out


def _appears(n: int, text: str) -> bool:
    digits = {str(n), f"{n:,}"}
    for form in digits:
        if re.search(rf"(?<![\d,.]){re.escape(form)}(?![\d]|,\d)", text):
            return True
    low = text.lower()
    return any(re.search(rf"\b{re.escape(w)}\b", low) for w in _words(n))


def _records() -> list[dict[str, Any]]:
    with HOLDOUT.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _figure_numbers(gold: dict[str, Any]) -> list[tuple[str, int]]:
    out = []
    for field in ("killed", "injured", "hospitalized"):
        fig = gold[field]
        if fig is None:
            continue
        out.append((f"{field}.value", fig["value"]))
        out += [(f"{field}.superseded", v) for v in fig["superseded"]]
        out += [(f"{field}.also", v) for v in fig["also"]]
    return out


RECORDS = _records() if HOLDOUT.exists() else []


def test_file_exists_and_has_articles() -> None:
    assert HOLDOUT.exists()
    assert len(RECORDS) >= 30
    assert len({r["event"] for r in RECORDS}) >= 8


def test_every_line_parses_and_ids_unique() -> None:
    with HOLDOUT.open(encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    for line in lines:
        assert isinstance(json.loads(line), dict)
    ids = [r["id"] for r in RECORDS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r["id"])
def test_record_schema(rec: dict[str, Any]) -> None:
    assert list(rec) == KEYS
    assert re.fullmatch(r"[a-z0-9-]+-\d{2}", rec["id"])
    assert re.fullmatch(r"[a-z0-9-]+", rec["event"])
    assert isinstance(rec["source"], str) and rec["source"]
    assert rec["url"] is None or isinstance(rec["url"], str)
    if rec["published"] is not None:
        datetime.fromisoformat(rec["published"].replace("Z", "+00:00"))
    if rec["title"] is not None:
        assert rec["title"] in rec["text"]
    assert isinstance(rec["text"], str) and len(rec["text"]) > 200
    assert isinstance(rec["notes"], str) and rec["notes"]
    gold = rec["gold"]
    assert list(gold) == GOLD_KEYS
    for field in ("killed", "injured", "hospitalized"):
        fig = gold[field]
        if fig is None:
            continue
        assert list(fig) == FIGURE_KEYS
        assert isinstance(fig["value"], int) and fig["value"] >= 0
        assert fig["qualifier"] in QUALIFIERS
        assert all(isinstance(v, int) for v in fig["superseded"] + fig["also"])
        assert fig["value"] not in fig["superseded"] + fig["also"]
    for field in ("claimed_by", "suspected", "denied_by"):
        names = gold[field]
        assert isinstance(names, list) and len(names) == len(set(names))
        assert set(names) <= CANONICAL, set(names) - CANONICAL
    assert not set(gold["claimed_by"]) & set(gold["suspected"]), "a claimant is not also 'suspected'"


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r["id"])
def test_gold_numbers_appear_in_text(rec: dict[str, Any]) -> None:
    missing = [(where, n) for where, n in _figure_numbers(rec["gold"]) if not _appears(n, rec["text"])]
    assert not missing, missing


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r["id"])
def test_unix_timestamp_and_date_lines_match_published(rec: dict[str, Any]) -> None:
    text = rec["text"]
    m = re.match(r" date (\d{4}-\d{2}-\d{2}) ", text)
    if m:
        assert rec["published"] == m.group(1)
    m = re.match(r"(\d{10}) ", text)
    if m:
        stamp = datetime.fromtimestamp(int(m.group(1)), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert rec["published"] == stamp
