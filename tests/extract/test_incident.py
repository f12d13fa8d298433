"""The incident descriptor and the event key put together (``stream.extract.incident``)."""

from __future__ import annotations

from stream.extract import extract
from stream.extract.incident import event_key
from stream.models import Article, Extraction


def run(text: str, *, published: str | None = "2024-01-04", title: str | None = None) -> Extraction:
    return extract(Article(id="i", text=text, published=published, title=title))


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


def test_names_imported_from_incident_before_the_split_still_resolve() -> None:
    # Branches written before the split import these from ``incident``; they must be the same objects.
    from stream.extract import incident, places, scope

    assert incident.Scope is scope.Scope
    assert incident.gazetteer is places.gazetteer
    assert callable(incident.analyse) and callable(incident.event_key)


def test_anniversary_and_trial_articles_are_background() -> None:
    anniversary = run(
        "Two years after the bombing that killed 31 people at a bus station in Kano, relatives gathered "
        "on Sunday to lay flowers at the site. A memorial plaque was unveiled by the governor.",
        published="2026-05-17",
    )
    trial = run(
        "A court in Kano sentenced two men to life in prison on Monday for their part in the bombing of "
        "a bus station in March 2024 that killed 31 people. Prosecutors said the men had built the bomb.",
        published="2025-11-10",
    )
    assert anniversary.incident.background and trial.incident.background


def test_a_follow_up_weeks_later_with_a_new_toll_is_not_background() -> None:
    follow_up = run(
        "The death toll from the truck bombing at a bus station in Kano on May 2 has risen to 58, a "
        "government committee said on Tuesday, after rescuers found more bodies. Relatives still search hospitals.",
        published="2024-06-18",
    )
    assert not follow_up.incident.background


def test_an_anniversary_article_is_background_even_when_it_gives_a_later_toll() -> None:
    # Issue 10: a look-back article opens no incident; a toll it states was news long before.
    anniversary_with_new_toll = run(
        "A year after the bombing of a bus station in Kano, officials raised the official death toll to 58.",
        published="2025-05-02",
    )
    assert anniversary_with_new_toll.incident.background


def test_a_report_of_an_attack_on_an_anniversary_ceremony_is_not_background() -> None:
    e = run(
        "Two bombs exploded at a ceremony marking the anniversary of a general's death in Kano on "
        "Wednesday, killing 84 people.",
        published="2024-01-04",
    )
    assert not e.incident.background
