"""Well-formedness of the held-out evaluation sets in tests/data/ (see tests/data/README.md).

Checks the schema of ../shared/corpus/ANNOTATION.md: key order, figure objects, qualifiers,
canonical responsibility names, every gold number (value, superseded, also) present in the article
text as digits (with or without thousands separators) or as English number words, date lines and
unix-timestamp lines matching `published`, events contiguous in the file, and that no incident of
the development corpus is reused. Each set has its own canonical names and stricter rules where it
was written to them (set 2: blind, no urls, longer texts, a fixed mix of hard cases). It does not run
the extractor: the scores are in test_holdout_floor.py and the README.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "articles.jsonl"

KEYS = ["id", "event", "source", "url", "published", "title", "text", "gold", "notes"]
GOLD_KEYS = ["killed", "injured", "hospitalized", "claimed_by", "suspected", "denied_by"]
FIGURE_KEYS = ["value", "qualifier", "superseded", "also"]
FIGURE_FIELDS = ("killed", "injured", "hospitalized")
NAME_FIELDS = ("claimed_by", "suspected", "denied_by")
QUALIFIERS = {"exact", "at_least", "about"}

# names fixed by ANNOTATION.md, used by both sets
_ANNOTATION_NAMES = {"Islamic State", "Islamic State Khorasan Province", "al-Shabaab", "Tehrik-i-Taliban Pakistan"}


@dataclass(frozen=True)
class HoldoutSet:
    """One held-out file and the rules it was written to."""

    name: str
    path: Path
    canonical: frozenset[str]
    event_pattern: str
    min_text_chars: int
    urls_allowed: bool
    blind: bool  # written without looking at the extractor's output; carries the coverage checks


SETS = [
    HoldoutSet(
        name="holdout1",
        path=HERE / "data" / "holdout.jsonl",
        canonical=frozenset(_ANNOTATION_NAMES | {
            "Jamaat-ul-Ahrar", "National Thowheeth Jama'ath", "Jammiyathul Millathu Ibrahim", "Hezbollah",
            "Ukraine", "United States", "United Kingdom", "Israel",
        }),
        event_pattern=r"[a-z0-9-]+",
        min_text_chars=200,
        urls_allowed=True,
        blind=False,
    ),
    HoldoutSet(
        name="holdout2",
        path=HERE / "data" / "holdout2.jsonl",
        canonical=frozenset(_ANNOTATION_NAMES | {
            "Taliban", "Jamaat-ul-Ahrar", "Jamaat-ul-Mujahideen Bangladesh", "Lashkar-e-Jhangvi Al-Alami",
            "Boko Haram", "Islamic State West Africa Province", "East Turkestan Islamic Movement",
            "World Uyghur Congress", "India", "Pakistan", "United States", "Israel",
        }),
        event_pattern=r"[a-z0-9-]+-\d{4}-\d{2}",
        min_text_chars=400,
        urls_allowed=False,
        blind=True,
    ),
]

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


def _numbers(gold: dict[str, Any]) -> list[tuple[str, int]]:
    out = []
    for field in FIGURE_FIELDS:
        fig = gold[field]
        if fig is None:
            continue
        out.append((f"{field}.value", fig["value"]))
        out += [(f"{field}.superseded", v) for v in fig["superseded"]]
        out += [(f"{field}.also", v) for v in fig["also"]]
    return out


RECORDS: dict[str, list[dict[str, Any]]] = {s.name: _load(s.path) if s.path.exists() else [] for s in SETS}
CASES = [(s, rec) for s in SETS for rec in RECORDS[s.name]]


def _case_id(case: Any) -> str:
    return case.name if isinstance(case, HoldoutSet) else case["id"]


@pytest.mark.parametrize("hs", SETS, ids=_case_id)
def test_file_shape(hs: HoldoutSet) -> None:
    assert hs.path.exists(), f"held-out set missing: {hs.path}"
    with hs.path.open(encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    for line in lines:
        assert isinstance(json.loads(line), dict)
    records = RECORDS[hs.name]
    assert len(records) >= 30
    assert len({r["event"] for r in records}) >= 8
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("hs", SETS, ids=_case_id)
def test_events_are_contiguous_and_ids_numbered_in_order(hs: HoldoutSet) -> None:
    records = RECORDS[hs.name]
    seen: list[str] = []
    for rec in records:
        if not seen or seen[-1] != rec["event"]:
            assert rec["event"] not in seen, f"{rec['event']} split in the file"
            seen.append(rec["event"])
    by_prefix: dict[str, list[int]] = {}
    for rec in records:
        prefix, nn = rec["id"].rsplit("-", 1)
        by_prefix.setdefault(prefix, []).append(int(nn))
    for prefix, nums in by_prefix.items():
        assert nums == list(range(1, len(nums) + 1)), prefix


@pytest.mark.parametrize("hs", SETS, ids=_case_id)
def test_no_development_corpus_incident_reused(hs: HoldoutSet) -> None:
    if not CORPUS.exists():
        pytest.skip("development corpus not present")
    corpus_events = {r["event"] for r in _load(CORPUS)}
    assert not corpus_events & {r["event"] for r in RECORDS[hs.name]}


@pytest.mark.parametrize(("hs", "rec"), CASES, ids=_case_id)
def test_record_schema(hs: HoldoutSet, rec: dict[str, Any]) -> None:
    assert list(rec) == KEYS
    assert re.fullmatch(r"[a-z0-9-]+-\d{2}", rec["id"])
    assert re.fullmatch(hs.event_pattern, rec["event"])
    assert isinstance(rec["source"], str) and rec["source"]
    if hs.urls_allowed:
        assert rec["url"] is None or isinstance(rec["url"], str)
    else:
        assert rec["url"] is None
    if rec["published"] is not None:
        datetime.fromisoformat(rec["published"].replace("Z", "+00:00"))
    if rec["title"] is not None:
        assert rec["title"] in rec["text"]
    assert isinstance(rec["text"], str) and len(rec["text"]) > hs.min_text_chars
    assert isinstance(rec["notes"], str) and rec["notes"]
    gold = rec["gold"]
    assert list(gold) == GOLD_KEYS
    for field in FIGURE_FIELDS:
        fig = gold[field]
        if fig is None:
            continue
        assert list(fig) == FIGURE_KEYS
        assert isinstance(fig["value"], int) and not isinstance(fig["value"], bool) and fig["value"] >= 0
        assert fig["qualifier"] in QUALIFIERS
        assert all(isinstance(v, int) for v in fig["superseded"] + fig["also"])
        assert fig["value"] not in fig["superseded"] + fig["also"]
        assert len(set(fig["superseded"] + fig["also"])) == len(fig["superseded"] + fig["also"])
    for field in NAME_FIELDS:
        names = gold[field]
        assert isinstance(names, list) and len(names) == len(set(names))
        assert set(names) <= hs.canonical, set(names) - hs.canonical
    assert not set(gold["claimed_by"]) & set(gold["suspected"]), "a claimant is not also 'suspected'"


@pytest.mark.parametrize(("hs", "rec"), CASES, ids=_case_id)
def test_gold_numbers_appear_in_text(hs: HoldoutSet, rec: dict[str, Any]) -> None:
    missing = [(where, n) for where, n in _numbers(rec["gold"]) if not _in_text(n, rec["text"])]
    assert not missing, missing


@pytest.mark.parametrize(("hs", "rec"), CASES, ids=_case_id)
def test_date_and_timestamp_lines_match_published(hs: HoldoutSet, rec: dict[str, Any]) -> None:
    text = rec["text"]
    m = re.match(r" date (\d{4}-\d{2}-\d{2}) ", text)
    if m:
        assert rec["published"] == m.group(1)
    m = re.match(r"(\d{10}) ", text)
    if m:
        stamp = datetime.fromtimestamp(int(m.group(1)), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert rec["published"] == stamp


@pytest.mark.parametrize("hs", [s for s in SETS if s.blind], ids=_case_id)
def test_coverage_of_hard_cases(hs: HoldoutSet) -> None:
    """The blind set keeps the mix it was written for (see tests/data/README.md)."""
    records = RECORDS[hs.name]
    golds = [r["gold"] for r in records]
    assert sum(1 for g in golds if g["claimed_by"]) >= 10
    assert sum(1 for g in golds if g["suspected"]) >= 8
    assert sum(1 for g in golds if g["denied_by"]) >= 2
    assert sum(1 for g in golds if g["killed"] and g["killed"]["superseded"]) >= 10
    assert sum(1 for g in golds for f in ("killed", "injured") if g[f] and g[f]["also"]) >= 4
    assert sum(1 for g in golds if g["hospitalized"]) >= 8
    assert sum(1 for r in records if r["published"] is None) >= 6
    assert sum(1 for r in records if '"difficulty": "hard"' in r["notes"]) >= 8
    assert any("\u00a0" in r["text"] for r in records)
