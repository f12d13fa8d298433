"""scoring: the learned models are plain coefficients, fitted deterministically."""

from __future__ import annotations

import pytest

from stream.extract import scoring


def _toy_groups() -> list[tuple[list[dict[str, float]], int]]:
    """Decisions where the candidate named by a verb is right unless it is a subset."""
    groups = []
    for i in range(30):
        verb_right = {"verb=same": 1.0}
        subset = {"verb=same": 1.0, "flag:subset": 1.0}
        plain = {"nearest=same": 1.0}
        none = {"none:killed": 1.0}
        if i % 3 == 0:
            groups.append(([none, subset, plain], 2))
        else:
            groups.append(([none, verb_right, subset, plain], 1))
    return groups


def test_choice_model_learns_which_cues_win_and_is_deterministic() -> None:
    first = scoring.fit_choice("figure", _toy_groups(), l2=1.0)
    second = scoring.fit_choice("figure", _toy_groups(), l2=1.0)
    assert first == second
    assert first.kind == "choice"
    assert first.weights["verb=same"] > first.weights.get("nearest=same", 0.0)
    assert first.weights["flag:subset"] < 0
    p = first.choose([{"none:killed": 1.0}, {"verb=same": 1.0}, {"verb=same": 1.0, "flag:subset": 1.0}])
    assert abs(sum(p) - 1.0) < 1e-9 and p[1] == max(p)


def test_binary_model_scores_are_probabilities() -> None:
    rows = [{"a": 1.0}] * 20 + [{"b": 1.0}] * 20
    labels = [1] * 18 + [0] * 2 + [0] * 18 + [1] * 2
    model = scoring.fit_logistic("m", rows, labels, l2=1.0)
    assert 0.5 < model.score({"a": 1.0}) < 1.0
    assert 0.0 < model.score({"b": 1.0}) < 0.5
    assert model.score({"unknown": 1.0}) == pytest.approx(model.score({}))


def test_model_file_round_trips_and_names_a_missing_model() -> None:
    models = scoring.ModelSet(models={"figure": scoring.fit_choice("figure", _toy_groups())})
    again = scoring.ModelSet.model_validate_json(models.dumps())
    assert again == models
    with pytest.raises(scoring.ModelFileError, match="tollwatch train"):
        again.get("claimed_by")


def test_bad_training_input_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="no training"):
        scoring.fit_choice("figure", [])
    with pytest.raises(ValueError, match="outside a group"):
        scoring.fit_choice("figure", [([{"a": 1.0}], 3)])


def test_shipped_models_load() -> None:
    shipped = scoring.bundled()
    assert shipped.format_version == scoring.FORMAT_VERSION
    assert shipped.get("figure").kind == "choice"
