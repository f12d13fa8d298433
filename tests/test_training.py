"""training: the shipped models are what a fresh fit gives, and cross-validated scores hold.

Both tests read ../shared/corpus and ../shared/corpus2 and are skipped without them.
"""

from __future__ import annotations

import pytest

from stream import training
from stream.extract import scoring

#: Leave-one-incident-out F1 floors: the goals of the generalization issue, or the score when
#: written minus 0.03 where that is higher. Scores when written: killed 0.954, injured 0.915,
#: hospitalized 0.884, claimed_by 0.986, suspected 0.912, denied_by 0.960.
CV_FLOORS = {
    "killed": 0.93,
    "injured": 0.90,
    "hospitalized": 0.85,
    "claimed_by": 0.95,
    "suspected": 0.88,
    "denied_by": 0.93,
}


@pytest.fixture(scope="module")
def corpora() -> list:
    missing = [p for p in training.DEFAULT_CORPORA if not p.is_file()]
    if missing:
        pytest.skip(f"labelled corpora not found: {missing} (../shared must sit beside the checkout)")
    return training.load_corpora(training.DEFAULT_CORPORA)


def test_retraining_reproduces_the_shipped_models(corpora: list) -> None:
    fresh = training.train(training.DEFAULT_CORPORA)
    assert fresh.dumps() == scoring.bundled_path().read_text(encoding="utf-8"), (
        "stream/extract/data/models.json is stale: run 'tollwatch train' and commit it"
    )


def test_cross_validated_scores_hold(corpora: list) -> None:
    cv = training.cross_validate(corpora)
    assert cv.folds == len({r.event for r in corpora})
    scores = cv.scores
    got = {name: scores.figures[name].f1 for name in scores.figures}
    got.update({name: scores.responsibility[name].f1 for name in scores.responsibility})
    low = {name: round(got[name], 3) for name, floor in CV_FLOORS.items() if got[name] < floor}
    assert not low, f"cross-validated F1 below its floor: {low} (floors {CV_FLOORS})"
