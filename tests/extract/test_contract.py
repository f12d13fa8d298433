"""Contract: every corpus article gives an Extraction with the public JSON shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.extract import extract
from stream.ingest import load_articles
from stream.models import FIGURE_FIELDS, RESPONSIBILITY_FIELDS

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "articles.jsonl"
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


@pytest.fixture(scope="module")
def dumps() -> list[dict]:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS} (../shared must sit beside the checkout)")
    paths = [CORPUS, *([SEEDS] if SEEDS.is_dir() else [])]
    return [extract(a).model_dump(mode="json") for a in load_articles(paths)]


def test_every_article_gives_the_public_shape(dumps: list[dict]) -> None:
    assert len(dumps) >= 51
    for dump in dumps:
        assert isinstance(dump["id"], str) and dump["id"]
        for name in FIGURE_FIELDS:
            figure = dump[name]
            assert figure is None or (
                isinstance(figure["value"], int) and figure["qualifier"] in ("exact", "at_least", "about")
            ), (dump["id"], name, figure)
        for name in RESPONSIBILITY_FIELDS:
            assert isinstance(dump[name], list) and all(isinstance(p, str) for p in dump[name])
            assert len(dump[name]) == len(set(dump[name]))
        assert dump["event_key"] is None or isinstance(dump["event_key"], str)


def test_seed_articles_are_extracted(dumps: list[dict]) -> None:
    seeds = [d for d in dumps if d["id"].startswith("00")]
    if not seeds:
        pytest.skip("seeds not found")
    assert all(d["killed"] is not None and d["event_key"] == "iran-kerman-attack" for d in seeds)
