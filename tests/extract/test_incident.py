"""Incident descriptor (place, country, date, kind) and the event key, on self-written text."""

from __future__ import annotations

import datetime as dt

import pytest

from stream.extract import extract
from stream.extract.incident import event_key, gazetteer
from stream.models import Article, Extraction


def run(text: str, *, published: str | None = "2024-01-04", title: str | None = None) -> Extraction:
    return extract(Article(id="i", text=text, published=published, title=title))


def test_place_and_country_from_the_gazetteer() -> None:
    e = run("Two blasts struck a crowd in the southeastern Iranian city of Kerman on Wednesday, killing 80 people.")
    assert (e.incident.place, e.incident.country) == ("Kerman", "Iran")


def test_same_city_name_in_two_countries_follows_the_country_named() -> None:
    e = run("A gunman killed 12 people at a school in Hamilton, New Zealand, police said.")
    nz = run("A gunman killed 12 people in Christchurch, New Zealand, police said.")
    assert nz.incident.country == "New Zealand" and nz.incident.place == "Christchurch"
    assert e.incident.country == "New Zealand"


@pytest.mark.parametrize("modifier", ["US", "U.S.", "UK"])
def test_abbreviated_country_before_a_noun_does_not_move_the_city(modifier: str) -> None:
    # "a US singer" says whose singer; the city named is the one in the country stated plainly.
    e = run(
        f"A bomb killed 19 people after a concert by a {modifier} singer at the arena in Birmingham. "
        "Police in Britain said the attacker died at the scene."
    )
    assert (e.incident.place, e.incident.country) == ("Birmingham", "United Kingdom")
    us = run(f"A bomb killed 19 people after a concert by a British singer at the arena in Birmingham, {modifier}, on Sunday.")
    assert us.incident.country == ("United Kingdom" if modifier == "UK" else "United States")


def test_gazetteer_is_loaded_once() -> None:
    assert gazetteer() is gazetteer()


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("The bombing on Wednesday killed 30 people in Kerman.", "2024-01-04", dt.date(2024, 1, 3)),
        ("The attack on Thursday killed 30 people in Kerman.", "2024-01-04", dt.date(2024, 1, 4)),
        ("A bomb exploded yesterday in Kerman, killing 30.", "2024-01-04", dt.date(2024, 1, 3)),
        ("A bomb exploded in Kerman on January 3, 2024, killing 30.", None, dt.date(2024, 1, 3)),
        ("A bomb exploded in Kerman on 3 January 2024, killing 30.", None, dt.date(2024, 1, 3)),
        ("A bomb exploded in Kerman on Wednesday, killing 30.", None, None),
        ("A bomb exploded in Kerman on January 3, killing 30.", None, None),
    ],
)
def test_incident_date(text: str, published: str | None, expected: dt.date | None) -> None:
    assert run(text, published=published).incident.date == expected


def test_date_next_to_the_incident_wins_over_a_later_funeral() -> None:
    e = run("Funerals were held on Friday. The twin blasts on Wednesday killed 91 people in Kerman.",
            published="2024-01-06")
    assert e.incident.date == dt.date(2024, 1, 3)


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


def test_event_key_is_the_same_for_differently_worded_articles() -> None:
    a = run("Twin explosions killed 84 people in the southeastern Iranian city of Kerman on Wednesday.",
            published="2024-01-04")
    b = run("Iran: the death toll of the Kerman bombings rose to 91, state media said.", published="2024-01-06")
    c = run("Islamic State claimed the suicide bombings in Kerman, Iran, that killed 95 people.", published=None)
    assert a.event_key == b.event_key == c.event_key == "iran-kerman-attack"


def test_event_key_differs_for_other_incidents() -> None:
    a = run("A car bomb killed 20 people in Ankara, Turkey on Saturday.")
    b = run("A gunman killed 20 people at the airport in Istanbul, Turkey on Tuesday.")
    c = run("An earthquake killed 200 people in southern Turkey.")
    assert len({a.event_key, b.event_key, c.event_key}) == 3


def test_regional_disasters_are_keyed_by_country_and_the_key_has_no_date() -> None:
    a = run("The earthquake in Nepal killed 1,500 people; many died in Kathmandu.", published="2015-04-26")
    b = run("Nepal's quake toll rose to 7,000 as rescuers reached Gorkha district.", published="2015-05-05")
    assert a.event_key == b.event_key == "nepal-earthquake"
    assert "2015" not in (a.event_key or "")


def test_event_key_fallbacks() -> None:
    assert event_key(country="Kenya", city=None, kind="shooting") == "kenya-attack"
    assert event_key(country=None, city="Nairobi", kind="bombing") == "nairobi-attack"
    assert event_key(country="Kenya", city="Nairobi", kind=None) == "kenya-nairobi-incident"
    assert event_key(country=None, city=None, kind="bombing") is None


def test_extract_is_a_pure_function() -> None:
    article = Article(id="p", text="A blast killed 30 people in Kerman, Iran on Wednesday.", published="2024-01-04")
    assert extract(article) == extract(article)


def test_storm_and_flood_reports_share_a_key() -> None:
    from stream.extract import extract
    from stream.models import Article

    storm = extract(Article(id="s1", published="2022-06-01",
                            text="A powerful storm lashed eastern Libya on Sunday, killing 40 people in the storm."))
    flood = extract(Article(id="s2", published="2022-06-03",
                            text="Floods in eastern Libya have killed 900 people, officials said, after the flooding."))
    assert storm.event_key is not None and storm.event_key == flood.event_key


def test_where_officials_spoke_is_not_the_incident_place() -> None:
    from stream.extract import extract
    from stream.models import Article

    e = extract(Article(id="p", published="2022-06-01", text=(
        "Gunmen stormed a hotel in Mombasa on Friday, killing 12 people. The interior minister "
        "said in Nairobi that the attackers had been killed. The president told reporters in "
        "Nairobi that security would be tightened.")))
    assert e.event_key == "kenya-mombasa-attack"


def test_where_suspects_were_arrested_is_not_the_incident_place() -> None:
    from stream.extract import extract
    from stream.models import Article

    e = extract(Article(id="q", published="2022-06-01", text=(
        "Gunmen opened fire at a concert hall in Lyon on Friday, killing 30 people. Four suspects "
        "were later arrested in Marseille. Police said the men were detained in Marseille after "
        "a chase. A fifth man fled to Marseille.")))
    assert e.event_key == "france-lyon-attack"


def test_arabic_article_prefix_finds_the_city() -> None:
    e = run("Gunmen killed 40 worshippers at a mosque in Al-Arish on Friday, officials said.")
    assert (e.incident.place, e.incident.country) == ("Ar\u012bsh", "Egypt")


def test_part_of_a_longer_name_in_a_country_never_named_is_not_the_city() -> None:
    # "Springs" is a South African city; here it is part of a small Texas town's name.
    e = run("A gunman killed 26 people at a church in Sutherland Springs, Texas, on Sunday.")
    assert e.incident.country == "United States" and e.incident.place is None


def test_dateline_city_yields_to_the_city_where_people_died() -> None:
    e = run("CAIRO: Militants killed 235 people at a mosque in Al-Arish on Friday, the prosecutor said.")
    assert e.incident.place == "Ar\u012bsh"


def test_city_of_the_incident_sentence_outweighs_cities_of_commentary() -> None:
    e = run(
        "Indonesian and Philippine officials are checking who set off the blasts at a cathedral. "
        "The blasts killed at least 23 people in the town of Jolo on Sunday. "
        "Indonesia's security minister questioned the claim that the bombers were Indonesian. "
        "An analyst at a Jakarta-based institute said Indonesian networks were weak, speaking in Jakarta."
    )
    assert (e.incident.place, e.incident.country) == ("Jolo", "Philippines")
