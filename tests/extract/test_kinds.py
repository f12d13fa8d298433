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
