"""Scope: which sentences and spans of an article are about other incidents (``stream.extract.scope``)."""

from __future__ import annotations

import datetime as dt

import pytest

from stream.extract.incident import analyse
from stream.extract.scope import Scope, opening_year, sentence_about_other, year_hint
from stream.extract.text import Document, Sentence, clean

ARTICLE = (
    "A car bomb killed 20 people in Kabul, Afghanistan on Wednesday. "
    "It was the deadliest attack since 2017, when 150 people died. "
    "In 2017 a truck bomb killed 150 people near the German embassy. "
    "That attack was claimed by the Taliban. "
    "Last year 100 were killed in Ghazni. "
    "Police said 12 people were wounded."
)


def scope_of(text: str) -> tuple[Document, Scope]:
    doc = clean(text)
    return doc, analyse(doc, published=dt.datetime(2024, 1, 4)).scope


def at(sentence: Sentence, number: str) -> int:
    return sentence.text.index(f" {number} ") + 1


def test_background_sentences_are_about_other_incidents() -> None:
    doc, scope = scope_of(ARTICLE)
    assert scope.ref_year == 2024
    # opens on a past year; 'that attack'; 'last year'
    assert scope.other_sentences == frozenset({2, 3, 4})
    assert not scope.is_other_sentence(doc.sentences[0]) and not scope.is_other_sentence(doc.sentences[5])


def test_sentence_about_other_marks_demonstratives_and_past_openings() -> None:
    doc = clean(ARTICLE)
    assert [sentence_about_other(s) for s in doc.sentences] == [False, False, False, True, True, False]


def test_a_count_next_to_an_earlier_year_or_inside_since_is_historical() -> None:
    doc, scope = scope_of(ARTICLE)
    lead, since = doc.sentences[0], doc.sentences[1]
    assert not scope.is_historical(lead, at(lead, "20"))
    assert scope.is_historical(since, at(since, "150"))
    wounded = doc.sentences[5]
    assert not scope.is_historical(wounded, at(wounded, "12"))


def test_a_place_other_than_the_incidents_marks_its_sentence_and_nearby_counts() -> None:
    doc, scope = scope_of(ARTICLE)
    ghazni = doc.sentences[4]
    assert scope.other_place_sentences == frozenset({4}) and scope.mentions_other_place(ghazni)
    assert scope.foreign_place_near(ghazni, at(ghazni, "100"), reach=40)
    lead = doc.sentences[0]
    assert not scope.foreign_place_near(lead, at(lead, "20"), reach=40)


@pytest.mark.parametrize(
    ("text", "year"),
    [("In 1996 a truck bomb killed 19 people.", 1996), ("A truck bomb killed 19 people in 1996.", None)],
)
def test_opening_year(text: str, year: int | None) -> None:
    assert opening_year(text) == year


def test_year_hint_skips_background_sentences() -> None:
    assert year_hint(clean("The 2019 report was updated. In 1996 a bomb exploded.")) == 2019
    assert year_hint(clean("In 1996 a bomb exploded.")) is None
