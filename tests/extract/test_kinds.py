"""Kinds: what kind of incident an article reports."""

from __future__ import annotations

import pytest

from stream.extract import extract
from stream.models import Article, Extraction


def run(text: str, *, published: str | None = "2024-01-04", title: str | None = None) -> Extraction:
    return extract(Article(id="i", text=text, published=published, title=title))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("A suicide bomber detonated explosives at a checkpoint in Kabul, killing 9.", "bombing"),
        ("A gunman opened fire at a concert in Denver, killing 5 in a mass shooting.", "shooting"),
        ("A man stabbed six people in a knife attack at a station in Osaka.", "stabbing"),
        ("A van ploughed into a crowd of shoppers in Barcelona, killing 13.", "vehicle attack"),
        ("A 7.1-magnitude earthquake struck near Tokyo, killing 40; the quake toppled homes.", "earthquake"),
        ("Flash floods swept through villages near Karachi, and the flooding killed 25.", "flood"),
        ("A fire tore through a nightclub in Bucharest, killing 27; the blaze started on stage.", "fire"),
    ],
)
def test_kind(text: str, kind: str) -> None:
    assert run(text).incident.kind == kind


def _kind_and_key(text: str) -> tuple[str | None, str | None]:
    from stream.extract import extract
    from stream.models import Article

    e = extract(Article(id="k", text=text, published="2024-05-16"))
    return e.incident.kind, e.event_key


def test_a_blast_of_unstated_cause_is_an_explosion_not_a_bombing() -> None:
    kind, key = _kind_and_key(
        "A huge blast tore through a warehouse district in Chittagong on Wednesday, killing 14 people. "
        "The cause of the explosion was not yet known, officials said."
    )
    assert kind == "explosion" and key is not None and key.endswith("-attack")  # family: see incident.json


@pytest.mark.parametrize(
    "extra",
    [
        "Police said a bomb had been hidden in a parked car.",
        "A suicide bomber was among the dead, police said.",
        "A militant group claimed responsibility for the blast.",
        "Police said two attackers had fled the scene.",
    ],
)
def test_a_blast_becomes_a_bombing_with_a_device_bomber_claim_or_attacker(extra: str) -> None:
    kind, key = _kind_and_key(
        f"A huge blast tore through a market in Chittagong on Wednesday, killing 14 people. {extra}"
    )
    assert kind == "bombing" and key is not None and key.endswith("-attack")
