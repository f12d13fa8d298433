"""The language check before extraction: non-English articles are counted
``unsupported_language`` and not extracted; no English article of the labelled sets is refused."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from stream import metrics, pipeline
from stream.extract.language import detect_language, unsupported_language
from stream.models import Article, Extraction

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NOW = dt.datetime(2024, 1, 4, 12, 0, tzinfo=dt.UTC)

FRENCH = (
    "Au moins douze personnes ont été tuées et une trentaine blessées mardi dans l'explosion "
    "d'une voiture piégée près du marché central de la ville, selon la police. Les secours "
    "sont arrivés sur place peu après l'attaque, qui n'a pas été revendiquée."
)
SPANISH = (
    "Al menos doce personas murieron y una treintena resultaron heridas el martes por la "
    "explosión de un coche bomba cerca del mercado central de la ciudad, según la policía. "
    "Los servicios de emergencia llegaron poco después del ataque, que nadie ha reivindicado."
)
GERMAN = (
    "Bei der Explosion einer Autobombe in der Nähe des Zentralmarkts der Stadt sind am "
    "Dienstag mindestens zwölf Menschen getötet und etwa dreißig verletzt worden, teilte die "
    "Polizei mit. Zu dem Anschlag hat sich bisher niemand bekannt."
)
ENGLISH = (
    "At least twelve people were killed and about thirty injured on Tuesday when a car bomb "
    "exploded near the city's central market, police said. No group has claimed the attack."
)
ENGLISH_QUOTING_FRENCH = (
    "A car bomb killed 12 people near the market on Tuesday. The mayor called it "
    '"une tragédie pour toute la ville" and said the square would stay closed.'
)


@pytest.mark.parametrize(("text", "language"), [(FRENCH, "fr"), (SPANISH, "es"), (GERMAN, "de")])
def test_clearly_foreign_text_is_detected(text: str, language: str) -> None:
    assert detect_language(text) == language
    assert unsupported_language("en", text) == f"text looks like {language!r}, not English"


@pytest.mark.parametrize("text", [ENGLISH, ENGLISH_QUOTING_FRENCH, "Nine killed.", "Explosion à Paris"])
def test_english_or_too_short_to_tell_passes(text: str) -> None:
    assert detect_language(text) is None
    assert unsupported_language(None, text) is None


def test_declared_language_decides_first() -> None:
    assert unsupported_language("fr", ENGLISH) == "declared language 'fr'"
    assert unsupported_language("en-GB", ENGLISH) is None
    assert unsupported_language("EN", ENGLISH) is None


def _outcome(name: str) -> float:
    return metrics.ARTICLES.labels(outcome=name)._value.get()


def test_french_article_is_counted_unsupported_not_no_figure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    extracted: list[str] = []

    def spy(article: Article) -> Extraction:
        extracted.append(article.id)
        return Extraction(id=article.id, event_key=None)

    monkeypatch.setattr(pipeline, "extract", spy)
    before = {name: _outcome(name) for name in ("unsupported_language", "no_figure")}
    with caplog.at_level(logging.INFO, logger="stream.pipeline"):
        for article_id, record in (("fr1", {"text": FRENCH}), ("es1", {"text": ENGLISH, "language": "es"})):
            payload = json.dumps({"id": article_id, **record}).encode()
            assert pipeline.process_article(payload, topic="articles", timestamp=NOW) is None
    assert extracted == []
    assert _outcome("unsupported_language") == before["unsupported_language"] + 2
    assert _outcome("no_figure") == before["no_figure"]
    lines = [r.getMessage() for r in caplog.records if r.name == "stream.pipeline"]
    assert len(lines) == 2 and "fr1" in lines[0] and "only English" in lines[0]
    # An English article still goes to the extractor.
    pipeline.process_article(json.dumps({"id": "en1", "text": ENGLISH}).encode(), topic="articles", timestamp=NOW)
    assert extracted == ["en1"]


LABELLED = [
    SHARED / "corpus" / "articles.jsonl",
    SHARED / "corpus2" / "articles.jsonl",
    *sorted((REPO / "tests" / "data").glob("holdout*.jsonl")),
]


@pytest.mark.parametrize("path", LABELLED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_labelled_article_is_flagged(path: Path) -> None:
    """Every labelled set is English: the check must not refuse one of their articles."""
    if not path.exists():
        pytest.skip(f"{path} not found (../shared must sit beside the checkout)")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert records
    flagged = [(r["id"], why) for r in records if (why := unsupported_language(r.get("language"), r["text"]))]
    assert flagged == []
