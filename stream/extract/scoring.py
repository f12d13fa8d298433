"""Learned scorers: logistic regression over named features, stored as JSON coefficients.

The extractor's rules find *candidates* (a number that may be a figure, a party that may
have claimed); which candidate wins is decided by a model fitted on the labelled corpora
(``tollwatch train``). Hand-tuned weights overfit the articles they were tuned on; a model
retrained on every labelled incident, and scored by leave-one-incident-out
cross-validation (``tollwatch eval --cv``), generalizes measurably.

The fitted models live in ``data/models.json``: plain coefficients, no pickled code, so a
fresh install needs no training and the file can be reviewed in a diff. Inference is pure
Python (a sparse dot product); fitting needs numpy, installed with the ``train`` extra.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

#: Version of the ``models.json`` layout; bumped when the feature set changes meaning.
FORMAT_VERSION = 1
#: Where the fitted models are kept inside the package.
MODELS_RESOURCE = "models.json"
#: Digits kept for a coefficient in the file: enough for the scores, short enough to diff.
COEF_DIGITS = 6

Features = Mapping[str, float]


class ModelFileError(ValueError):
    """``models.json`` is missing, malformed or lacks a model the extractor needs."""


class LinearModel(BaseModel):
    """One binary logistic model: P(label | features) = sigmoid(bias + sum w_f * x_f)."""

    name: str
    bias: float
    weights: dict[str, float] = Field(description="Feature name -> coefficient; absent features are 0.")
    threshold: float = Field(default=0.5, description="Score above which the candidate is accepted.")
    samples: int = Field(default=0, description="Training rows the model was fitted on.")

    def logit(self, features: Features) -> float:
        weights = self.weights
        return self.bias + sum(weights.get(name, 0.0) * value for name, value in features.items())

    def score(self, features: Features) -> float:
        """Probability that the candidate described by ``features`` is right."""
        z = self.logit(features)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


class ModelSet(BaseModel):
    """Every model the extractor uses, with what they were trained on."""

    format_version: int = FORMAT_VERSION
    trained_on: list[str] = Field(default_factory=list, description="Corpus files (names only).")
    models: dict[str, LinearModel] = Field(default_factory=dict)

    def get(self, name: str) -> LinearModel:
        model = self.models.get(name)
        if model is None:
            raise ModelFileError(
                f"data/{MODELS_RESOURCE} has no model {name!r} (has {sorted(self.models)}); "
                "run 'tollwatch train' to refit it"
            )
        return model

    def dumps(self) -> str:
        """Stable JSON text (sorted keys, rounded coefficients), so a refit diffs cleanly."""
        return json.dumps(self.model_dump(mode="json"), indent=1, sort_keys=True) + "\n"


@cache
def bundled() -> ModelSet:
    """The models shipped in the package (cached)."""
    resource = resources.files("stream.extract.data").joinpath(MODELS_RESOURCE)
    if not resource.is_file():
        raise ModelFileError(f"data/{MODELS_RESOURCE} is missing from the package; run 'tollwatch train'")
    models = ModelSet.model_validate_json(resource.read_text(encoding="utf-8"))
    if models.format_version != FORMAT_VERSION:
        raise ModelFileError(
            f"data/{MODELS_RESOURCE} has format {models.format_version}, this code reads {FORMAT_VERSION}; "
            "run 'tollwatch train'"
        )
    return models


def bundled_path() -> Path:
    """Filesystem path of the shipped models file (``tollwatch train`` writes it)."""
    return Path(str(resources.files("stream.extract.data").joinpath(MODELS_RESOURCE)))


def fit_logistic(
    name: str,
    rows: Sequence[Features],
    labels: Sequence[int],
    *,
    l2: float = 1.0,
    iterations: int = 50,
    threshold: float = 0.5,
) -> LinearModel:
    """Fit an L2-regularised logistic regression by Newton's method (deterministic).

    Newton steps on a few thousand rows and a few dozen features converge in a handful of
    iterations and give the same coefficients on every run, which the reproducibility test
    relies on. The bias is not penalised.
    """
    import numpy as np  # training only: inference needs no numpy

    if len(rows) != len(labels):
        raise ValueError(f"{name}: {len(rows)} feature rows but {len(labels)} labels")
    if not rows:
        raise ValueError(f"{name}: no training rows; is the corpus path right?")
    names = sorted({feature for row in rows for feature in row})
    index = {feature: i for i, feature in enumerate(names)}
    x = np.zeros((len(rows), len(names) + 1))
    x[:, -1] = 1.0
    for r, row in enumerate(rows):
        for feature, value in row.items():
            x[r, index[feature]] = value
    y = np.asarray(labels, dtype=float)
    penalty = np.full(len(names) + 1, float(l2))
    penalty[-1] = 0.0
    w = np.zeros(len(names) + 1)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    weights = {feature: round(float(w[i]), COEF_DIGITS) for feature, i in index.items()}
    weights = {feature: value for feature, value in weights.items() if value != 0.0}
    logger.info("fitted %s on %d rows, %d features", name, len(rows), len(weights))
    return LinearModel(
        name=name, bias=round(float(w[-1]), COEF_DIGITS), weights=weights, threshold=threshold, samples=len(rows)
    )
