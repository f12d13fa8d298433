"""Places: the gazetteer, ambiguous names, and which city an article is about."""

from __future__ import annotations

import pytest

from stream.extract import extract
from stream.extract.places import gazetteer
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


def test_city_carries_gazetteer_coordinates_and_region() -> None:
    e = run("A car bomb killed 14 people near a market in Mosul, Iraq, on Tuesday, officials said.")
    assert (e.incident.place, e.incident.country) == ("Mosul", "Iraq")
    assert e.incident.lat == pytest.approx(36.34, abs=0.1) and e.incident.lon == pytest.approx(43.13, abs=0.1)
    assert e.incident.region is not None and e.incident.region.startswith("IQ.")


def test_region_is_shared_by_two_cities_of_one_state() -> None:
    a = run("A gunman killed five people at a school in Dallas, police said.")
    b = run("A gunman killed five people at a mall in Houston, police said.")
    assert a.incident.region == b.incident.region == "US.TX"


def test_country_only_gives_no_coordinates() -> None:
    e = run("A bomb killed 12 people in a market in northern Nigeria on Friday, officials said.")
    assert e.incident.country == "Nigeria" and e.incident.place is None
    assert e.incident.lat is None and e.incident.lon is None and e.incident.region is None


def test_city_tied_to_a_country_by_the_wording_wins_over_a_country_named_elsewhere() -> None:
    # The US is named twice as a reacting government; the wording ties Manchester to England.
    e = run(
        "A suicide bomber killed 19 people at a concert in the English city of Manchester on Monday. "
        "The United States offered help to investigators. The United States said it had no specific threat."
    )
    assert (e.incident.place, e.incident.country) == ("Manchester", "United Kingdom")
    assert e.incident.region == "GB.ENG"
    e = run(
        "A bomb killed 19 people at a concert in Manchester, England, on Monday. "
        "The United States condemned the attack. The United States raised its alert level."
    )
    assert e.incident.country == "United Kingdom"


def test_ambiguous_city_goes_to_the_candidate_nearest_the_other_places_named() -> None:
    # No country named: Birmingham is the larger English city, but Tuscaloosa is in Alabama.
    e = run(
        "A tornado killed nine people in Birmingham on Monday after it destroyed homes in Tuscaloosa, "
        "officials said."
    )
    assert (e.incident.place, e.incident.country) == ("Birmingham", "United States")
    assert e.incident.region == "US.AL"


def test_a_country_blamed_or_denying_is_a_party_not_the_place() -> None:
    e = run(
        "Gunmen killed 40 people at a concert hall in Moscow on Friday. "
        "The president accused Ukraine of involvement. Kyiv denied any role. "
        "Ukraine rejected the accusation. Ukraine said it had no connection to the attack. "
        "The suspects were caught heading for Ukraine."
    )
    assert (e.incident.place, e.incident.country) == ("Moscow", "Russia")


def test_a_wire_credit_in_the_dateline_is_not_a_place() -> None:
    # An agency named like a town ("Meridian", Mississippi) credited in the dateline.
    e = extract(Article(
        id="credit", published="2031-06-17",
        text="LONDON, June 17 (Meridian) - Fifty people died when fire tore through a tower block in west "
             "London on Wednesday, police said on Saturday.",
    ))
    assert (e.incident.place, e.incident.country) == ("London", "United Kingdom")
