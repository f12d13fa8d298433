"""Well-formedness of the second blind held-out set tests/data/holdout2.jsonl (see tests/data/README.md).

Checks the schema of ../shared/corpus/ANNOTATION.md only: key order, figure objects, qualifiers,
canonical responsibility names, every gold number (value, superseded, also) present in the article
text as digits (with or without thousands separators) or as English number words, date lines and
unix-timestamp lines matching `published`, and that no incident of the development corpus is reused.
It does not run the extractor.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
HOLDOUT2 = HERE / "data" / "holdout2.jsonl"
CORPUS = HERE.parent.parent / "shared" / "corpus" / "articles.jsonl"

KEYS = ["id", "event", "source", "url", "published", "title", "text", "gold", "notes"]
GOLD_KEYS = ["killed", "injured", "hospitalized", "claimed_by", "suspected", "denied_by"]
FIGURE_KEYS = ["value", "qualifier", "superseded", "also"]
QUALIFIERS = {"exact", "at_least", "about"}
CANONICAL = {
    # names fixed by ANNOTATION.md
    "Islamic State",
    "Islamic State Khorasan Province",
    "al-Shabaab",
    "Tehrik-i-Taliban Pakistan",
    "Taliban",
    # other groups by their usual English name
    "Jamaat-ul-Ahrar",
    "Jamaat-ul-Mujahideen Bangladesh",
    "Lashkar-e-Jhangvi Al-Alami",
    "Boko Haram",
    "Islamic State West Africa Province",
    "East Turkestan Islamic Movement",
    "World Uyghur Congress",
    # states by country name
    "India",
    "Pakistan",
    "United States",
    "Israel",
}

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _spellings(n: int) -> set[str]:
    """English number words for n below 100, plus 'a dozen' for 12."""
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


def _in_text(n: int, text: str) -> bool:
    for form in {str(n), f"{n:,}"}:
        if re.search(rf"(?<![\d,.]){re.escape(form)}(?!\d|,\d)", text):
            return True
    low = text.lower()
    return any(re.search(rf"\b{re.escape(w)}\b", low) for w in _spellings(n))


def _load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


RECORDS = _load(HOLDOUT2) if HOLDOUT2.exists() else []


def _numbers(gold: dict[str, Any]) -> list[tuple[str, int]]:
    out = []
    for field in ("killed", "injured", "hospitalized"):
        fig = gold[field]
        if fig is None:
            continue
        out.append((f"{field}.value", fig["value"]))
        out += [(f"{field}.superseded", v) for v in fig["superseded"]]
        out += [(f"{field}.also", v) for v in fig["also"]]
    return out


def test_file_shape() -> None:
    assert HOLDOUT2.exists()
    with HOLDOUT2.open(encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    for line in lines:
        assert isinstance(json.loads(line), dict)
    assert len(RECORDS) >= 30
    assert len({r["event"] for r in RECORDS}) >= 8
    ids = [r["id"] for r in RECORDS]
    assert len(ids) == len(set(ids))


def test_events_are_contiguous_and_ids_numbered_in_order() -> None:
    seen: list[str] = []
    for rec in RECORDS:
        if not seen or seen[-1] != rec["event"]:
            assert rec["event"] not in seen, f"{rec['event']} split in the file"
            seen.append(rec["event"])
    by_prefix: dict[str, list[int]] = {}
    for rec in RECORDS:
        prefix, nn = rec["id"].rsplit("-", 1)
        by_prefix.setdefault(prefix, []).append(int(nn))
    for prefix, nums in by_prefix.items():
        assert nums == list(range(1, len(nums) + 1)), prefix


def test_no_development_corpus_incident_reused() -> None:
    if not CORPUS.exists():
        pytest.skip("development corpus not present")
    corpus_events = {r["event"] for r in _load(CORPUS)}
    assert not corpus_events & {r["event"] for r in RECORDS}


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r["id"])
def test_record_schema(rec: dict[str, Any]) -> None:
    assert list(rec) == KEYS
    assert re.fullmatch(r"[a-z0-9-]+-\d{2}", rec["id"])
    assert re.fullmatch(r"[a-z0-9-]+-\d{4}-\d{2}", rec["event"])
    assert isinstance(rec["source"], str) and rec["source"]
    assert rec["url"] is None
    if rec["published"] is not None:
        datetime.fromisoformat(rec["published"].replace("Z", "+00:00"))
    if rec["title"] is not None:
        assert rec["title"] in rec["text"]
    assert isinstance(rec["text"], str) and len(rec["text"]) > 400
    assert isinstance(rec["notes"], str) and rec["notes"]
    gold = rec["gold"]
    assert list(gold) == GOLD_KEYS
    for field in ("killed", "injured", "hospitalized"):
        fig = gold[field]
        if fig is None:
            continue
        assert list(fig) == FIGURE_KEYS
        assert isinstance(fig["value"], int) and not isinstance(fig["value"], bool) and fig["value"] >= 0
        assert fig["qualifier"] in QUALIFIERS
        assert all(isinstance(v, int) for v in fig["superseded"] + fig["also"])
        assert fig["value"] not in fig["superseded"] + fig["also"]
        assert len(set(fig["superseded"] + fig["also"])) == len(fig["superseded"] + fig["also"])
    for field in ("claimed_by", "suspected", "denied_by"):
        names = gold[field]
        assert isinstance(names, list) and len(names) == len(set(names))
        assert set(names) <= CANONICAL, set(names) - CANONICAL
    assert not set(gold["claimed_by"]) & set(gold["suspected"]), "a claimant is not also 'suspected'"


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r["id"])
def test_gold_numbers_appear_in_text(rec: dict[str, Any]) -> None:
    missing = [(where, n) for where, n in _numbers(rec["gold"]) if not _in_text(n, rec["text"])]
    assert not missing, missing


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: r["id"])
def test_date_and_timestamp_lines_match_published(rec: dict[str, Any]) -> None:
    text = rec["text"]
    m = re.match(r" date (\d{4}-\d{2}-\d{2}) ", text)
    if m:
        assert rec["published"] == m.group(1)
    m = re.match(r"(\d{10}) ", text)
    if m:
        stamp = datetime.fromtimestamp(int(m.group(1)), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert rec["published"] == stamp


def test_coverage_of_hard_cases() -> None:
    """The set keeps the mix it was written for (see tests/data/README.md)."""
    golds = [r["gold"] for r in RECORDS]
    assert sum(1 for g in golds if g["claimed_by"]) >= 10
    assert sum(1 for g in golds if g["suspected"]) >= 8
    assert sum(1 for g in golds if g["denied_by"]) >= 2
    assert sum(1 for g in golds if g["killed"] and g["killed"]["superseded"]) >= 10
    assert sum(1 for g in golds for f in ("killed", "injured") if g[f] and g[f]["also"]) >= 4
    assert sum(1 for g in golds if g["hospitalized"]) >= 8
    assert sum(1 for r in RECORDS if r["published"] is None) >= 6
    assert sum(1 for r in RECORDS if '"difficulty": "hard"' in r["notes"]) >= 8
    assert any("\u00a0" in r["text"] for r in RECORDS)
