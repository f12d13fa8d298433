"""Scores of ``stream.matching``: each part of the evidence, on hand-built profiles."""

from __future__ import annotations

import datetime as dt

import pytest

from stream.matching import (
    Profile,
    Spot,
    capital_of,
    distance_km,
    families_compatible,
    rules,
    score,
    search_days,
)

MOSCOW = Spot("Moscow", 55.7522, 37.6156)
KRASNOGORSK = Spot("Krasnogorsk", 55.8190, 37.3298)
TVER = Spot("Tver", 56.8587, 35.9176)
KAZAN = Spot("Kazan", 55.7887, 49.1221)
DAY = dt.date(2031, 3, 22)


def profile(**fields: object) -> Profile:
    base: dict[str, object] = {"country": "Russia", "capital": "Moscow", "family": "attack", "kind": "shooting"}
    return Profile(**{**base, **fields})  # type: ignore[arg-type]


def total(article: Profile, incident: Profile) -> float:
    match = score(article, incident)
    assert match is not None, "expected the two to be compatible"
    return match.score


def test_distance_is_great_circle_kilometres() -> None:
    assert distance_km(MOSCOW, KRASNOGORSK) == pytest.approx(21, abs=2)
    assert distance_km(MOSCOW, KAZAN) == pytest.approx(720, abs=15)
    assert distance_km(MOSCOW, Spot("Nowhere")) is None


def test_suburb_matches_its_city_and_a_distant_city_does_not() -> None:
    incident = profile(places=(MOSCOW,), date=DAY)
    suburb = total(profile(places=(KRASNOGORSK,), date=DAY), incident)
    distant = total(profile(places=(KAZAN,), date=DAY), profile(places=(TVER,), date=DAY))
    assert suburb >= 4.0 and distant < 1.0


def test_capital_against_a_far_town_is_only_weak_evidence() -> None:
    # Dispatches are filed from the capital: Moscow vs Kazan costs little, Tver vs Kazan a lot.
    from_capital = total(profile(places=(MOSCOW,), date=DAY), profile(places=(KAZAN,), date=DAY))
    two_towns = total(profile(places=(TVER,), date=DAY), profile(places=(KAZAN,), date=DAY))
    assert from_capital - two_towns >= 2.0


def test_country_only_report_is_not_contradicted_by_the_place() -> None:
    assert total(profile(date=DAY), profile(places=(MOSCOW,), date=DAY)) >= 3.0


def test_text_dates_more_than_three_days_apart_count_heavily_against() -> None:
    incident = profile(places=(MOSCOW,), date=DAY)
    assert score(profile(places=(MOSCOW,), date=DAY + dt.timedelta(days=3)), incident) is not None
    four_days = total(profile(places=(MOSCOW,), date=DAY + dt.timedelta(days=4)), incident)
    assert four_days < 0  # two incidents, or a misread date: only overwhelming agreement outweighs it
    assert score(profile(places=(MOSCOW,), date=DAY + dt.timedelta(days=61)), incident) is None


def test_disasters_spread_over_a_week_and_hundreds_of_kilometres() -> None:
    quake = {"family": "earthquake", "kind": "earthquake"}
    incident = profile(places=(MOSCOW,), date=DAY, **quake)
    later_far = profile(places=(TVER,), date=DAY + dt.timedelta(days=6), **quake)
    assert total(later_far, incident) > 0


def test_publication_day_bounds_the_incident_date() -> None:
    incident = profile(places=(MOSCOW,), date=DAY)
    follow_up = profile(places=(MOSCOW,), latest=DAY + dt.timedelta(days=2))
    weeks_later = profile(places=(MOSCOW,), latest=DAY + dt.timedelta(days=30))
    before = profile(places=(MOSCOW,), latest=DAY - dt.timedelta(days=2))
    too_late = profile(places=(MOSCOW,), latest=DAY + dt.timedelta(days=90))
    assert total(follow_up, incident) > total(weeks_later, incident)
    assert score(before, incident) is None  # published before it happened
    assert score(too_late, incident) is None


def test_receipt_day_bounds_only_what_happened_later() -> None:
    # Old news replayed today: received years late is no evidence against the old incident...
    incident = profile(places=(MOSCOW,), date=DAY, received=DAY + dt.timedelta(days=2000))
    assert score(profile(places=(MOSCOW,), date=DAY), incident) is not None
    # ...but an incident cannot have happened after a report of it arrived.
    early = profile(places=(MOSCOW,), received=DAY - dt.timedelta(days=5))
    assert score(profile(places=(MOSCOW,), date=DAY), early) is None


def test_kind_families_can_sharpen_but_not_change_nature() -> None:
    assert families_compatible("explosion", "attack") and families_compatible("incident", "earthquake")
    assert not families_compatible("earthquake", "attack")
    quake = profile(places=(MOSCOW,), date=DAY, family="earthquake", kind="earthquake")
    assert score(profile(places=(MOSCOW,), date=DAY), quake) is None


def test_agreeing_tolls_and_claimants_add_and_others_subtract() -> None:
    incident = profile(places=(MOSCOW,), killed=133, claimed=frozenset({"islamic state"}))
    same = total(profile(places=(MOSCOW,), killed=133, claimed=frozenset({"islamic state"})), incident)
    other = total(profile(places=(MOSCOW,), killed=4, claimed=frozenset({"another front"})), incident)
    silent = total(profile(places=(MOSCOW,)), incident)
    assert same > silent > other


def test_other_countries_never_match() -> None:
    assert score(profile(country="Ukraine", places=(MOSCOW,)), profile(places=(MOSCOW,))) is None


def test_capitals_come_from_the_gazetteer() -> None:
    assert capital_of("Afghanistan") == "Kabul" and capital_of("atlantis") is None and capital_of(None) is None


def _grid(day: dt.date) -> list[Profile]:
    """Profiles differing in every part the score looks at (family, place, toll, revision,
    claimant), all on ``day``."""
    places = [(), (Spot("Kerman", 30.28, 57.08),), (Spot("Tehran", 35.69, 51.39),)]
    return [
        Profile(country="Iran", places=spot, capital="Tehran", date=day, latest=day, family=family,
                killed=killed, revises=frozenset(revises), claimed=frozenset(claimed))
        for family in ("attack", "incident", "earthquake")
        for spot in places
        for killed in (None, 84, 103)
        for revises in ((), (103,))
        for claimed in ((), ("islamic state",))
    ]


@pytest.mark.parametrize("threshold_name", ["join_threshold", "merge_threshold"])
def test_search_days_never_hides_a_pair_that_reaches_the_threshold(threshold_name: str) -> None:
    """Every pair of the grid at date gaps around each limit: a pair that scores the threshold
    lies within the window ``search_days`` gives its article."""
    threshold = rules()[threshold_name]
    day = dt.date(2029, 6, 1)
    articles = _grid(day)
    narrowed = reached = 0
    for gap in (4, 8, 30, 60):
        for incident in _grid(day + dt.timedelta(days=gap)):
            for article in articles:
                days = search_days(article, threshold)
                narrowed += days < gap
                match = score(article, incident)
                if match is not None and match.score >= threshold:
                    reached += 1
                    assert gap <= days, (article, incident, match)
    assert narrowed and reached  # both kinds of pair occur


def test_search_days_widens_for_an_article_that_revises_a_toll() -> None:
    """A revision of the incident's toll outweighs a date conflict at the join threshold."""
    day = dt.date(2029, 6, 1)
    plain = Profile(country="Iran", places=(Spot("Kerman", 30.28, 57.08),), date=day, family="attack", killed=84)
    revising = Profile(country="Iran", places=plain.places, date=day, family="attack", killed=84,
                       revises=frozenset({103}), claimed=frozenset({"islamic state"}))
    limit = rules()["dates"]
    assert search_days(plain, rules()["join_threshold"]) == max(limit["max_days"], limit["regional_max_days"])
    assert search_days(revising, rules()["join_threshold"]) == limit["max_conflict_days"]
