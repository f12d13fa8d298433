"""Shared fixtures: paths to ../shared, and the embedded broker / worker stack for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stream.runner import LocalStack

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "articles.jsonl"
SEEDS = SHARED / "seeds"


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    if not CORPUS.exists():
        pytest.skip(f"corpus not found at {CORPUS} (../shared must sit beside the checkout)")
    return CORPUS


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seeds not found at {SEEDS} (../shared must sit beside the checkout)")
    return SEEDS


@pytest.fixture()
def stack() -> Iterator[LocalStack]:
    """A fresh embedded broker (free port), the topics, and one worker process."""
    with LocalStack() as local:
        yield local
