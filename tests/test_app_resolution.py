"""Issue 10 through the real worker: each way outlets split one incident, on one broker."""

from __future__ import annotations

import json

import pytest

from stream.models import AlertKind
from stream.runner import LocalStack
from tests.helpers import alerts, publish_and_drain
from tests.resolution_cases import CASES, KIND_SHARPENS
from tests.test_resolution import duplicated_facts, keys_of

pytestmark = pytest.mark.integration


def test_split_causes_resolve_to_one_key_per_incident(stack: LocalStack) -> None:
    # Every case in its own country: one replay through the broker covers them all.
    publish_and_drain(stack, [article for case in CASES for article in case.articles])
    got = alerts(stack)
    assert not duplicated_facts(got), [a.headline for a in got]
    for case in CASES:
        ids = {a.id for a in case.articles}
        mine = [a for a in got if a.article_id in ids]
        assert len(keys_of(mine)) == case.keys, (case.name, [a.headline for a in mine])
        assert not [a for a in mine if a.article_id in case.silent], case.name

    # The read API shows the sharpened kind and the date the text gave.
    listing = json.loads(stack.worker.get("/incidents") or b"{}")
    kenya = [i for i in listing["incidents"] if i["incident"]["country"] == "Kenya"]
    assert [(i["incident"]["kind"], i["incident"]["date"]) for i in kenya] == [("bombing", "2021-06-01")]
    claims = [a for a in got if a.kind is AlertKind.CLAIM and a.article_id in {x.id for x in KIND_SHARPENS.articles}]
    assert [c.current for c in claims] == ["al-Shabaab"]
