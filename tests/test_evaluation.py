"""run_eval: floors on the development corpus, and the scoring arithmetic on a tiny gold file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from stream.evaluation import EvalReport, baseline_extract, run_eval
from stream.models import Article

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus" / "articles.jsonl"

FLOORS = {
    "killed": 0.95,
    "injured": 0.90,
    "hospitalized": 0.90,
    "claimed_by": 0.95,
    "suspected": 0.80,
    "denied_by": 0.80,
    "events": 0.95,
}


@pytest.fixture(scope="module")
def corpus_report() -> EvalReport:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS} (../shared must sit beside the checkout)")
    return run_eval(CORPUS, misses=True, out=io.StringIO())


@pytest.mark.parametrize(("field", "floor"), sorted(FLOORS.items()))
def test_corpus_floors(corpus_report: EvalReport, field: str, floor: float) -> None:
    assert corpus_report.f1(field) >= floor, corpus_report.misses


def test_extractor_beats_the_baseline(corpus_report: EvalReport) -> None:
    assert corpus_report.f1("killed") > corpus_report.f1("killed", system="baseline")
    assert corpus_report.baseline.events.tp == 0  # baseline: every article its own cluster


def _record(rid: str, event: str, text: str, killed: int | None, *, claimed: list[str] | None = None,
            also: list[int] | None = None, qualifier: str = "exact") -> str:
    gold = {
        "killed": None if killed is None else {"value": killed, "qualifier": qualifier, "superseded": [],
                                                "also": also or []},
        "injured": None,
        "hospitalized": None,
        "claimed_by": claimed or [],
        "suspected": [],
        "denied_by": [],
    }
    return json.dumps({"id": rid, "event": event, "source": None, "url": None, "published": "2020-05-02",
                       "title": None, "text": text, "gold": gold, "notes": ""})


@pytest.fixture
def tiny_gold(tmp_path: Path) -> Path:
    lines = [
        # correct value: TP (qualifier exact, correct)
        _record("a", "lagos", "A bomb killed 12 people in Lagos, Nigeria on Friday.", 12),
        # wrong value: FP and FN
        _record("b", "lagos", "The blast in Lagos, Nigeria killed 30 people on Friday.", 25),
        # missing prediction: FN
        _record("c", "lagos", "Rescuers searched the rubble after the blast in Lagos, Nigeria.", 5),
        # prediction where gold is null: FP
        _record("d", "accra", "Five people were killed when a bomb exploded in Accra, Ghana.", None),
        # value in gold 'also': TP; qualifier not scored (not the gold value)
        _record("e", "accra", "At least 40 people were killed in a blast in Accra, Ghana.", 41, also=[40],
                claimed=["Islamic State"]),
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scoring_arithmetic(tiny_gold: Path) -> None:
    out = io.StringIO()
    report = run_eval(tiny_gold, misses=True, out=out)
    killed = report.extractor.figures["killed"]
    assert (killed.tp, killed.fp, killed.fn) == (2, 2, 2)
    assert killed.precision == pytest.approx(0.5) and killed.recall == pytest.approx(0.5)
    assert (killed.qualifier_correct, killed.qualifier_total) == (1, 1)
    claimed = report.extractor.responsibility["claimed_by"]
    assert (claimed.tp, claimed.fp, claimed.fn) == (0, 0, 1) and claimed.f1 == 0.0
    # gold pairs: (a,b) (a,c) (b,c) (d,e); predicted keys: lagos x3, accra x2 -> all 4 pairs right
    events = report.extractor.events
    assert (events.tp, events.fp, events.fn) == (4, 0, 0)
    assert report.baseline.events.tp == 0 and report.baseline.events.fn == 4
    text = out.getvalue()
    assert "killed" in text and "baseline" in text and "misses (" in text
    assert {m.id for m in report.misses if m.field == "killed"} == {"b", "c", "d"}


def test_misses_are_only_listed_on_request(tiny_gold: Path) -> None:
    out = io.StringIO()
    report = run_eval(tiny_gold, misses=False, out=out)
    assert report.misses == [] and "misses (" not in out.getvalue()


def test_baseline_takes_the_first_match() -> None:
    article = Article(id="x", text="In 2015, 9 people were killed. Now 30 killed and 4 injured.")
    e = baseline_extract(article)
    assert e.killed is not None and e.killed.value == 9
    assert e.injured is not None and e.injured.value == 4
    assert e.claimed_by == [] and e.event_key is None


def test_missing_gold_file_is_an_explicit_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such gold file"):
        run_eval(tmp_path / "absent.jsonl", misses=False, out=io.StringIO())
