"""Figure rules added for generalization, on self-written sentences: background years and
wars, superseded 'from the N', field named by its own toll noun, forecasts, 'no one'."""

from __future__ import annotations

from stream.extract import extract
from stream.models import Article, Extraction


def run(text: str, *, published: str | None = "2021-03-10") -> Extraction:
    return extract(Article(id="g", text=text, published=published))


def test_year_followed_by_comma_is_historical() -> None:
    e = run(
        "A blast at a stadium in Lyon killed 14 people on Saturday. It was the worst attack in "
        "France since March 3, 2004, when a gunman killed 33 people in a school."
    )
    assert e.killed is not None and e.killed.value == 14


def test_sentence_opening_on_a_past_year_is_background() -> None:
    e = run(
        "A car bomb outside a bank in Lahore killed 40 people on Monday. In 2009 a truck bomb "
        "at a police station in Lahore killed 77 people.",
        published=None,
    )
    assert e.killed is not None and e.killed.value == 40


def test_war_total_is_not_the_toll() -> None:
    e = run(
        "A suicide bomber killed 17 people at a checkpoint in Herat. The attack came as the army "
        "prepared to withdraw, ending a long war that cost the lives of more than 3,100 soldiers."
    )
    assert e.killed is not None and e.killed.value == 17


def test_since_year_total_is_not_the_toll() -> None:
    e = run(
        "Gunmen killed 23 villagers in Borno state on Sunday. The insurgency has killed more "
        "than 30,000 people since 2011."
    )
    assert e.killed is not None and e.killed.value == 23


def test_from_the_n_is_superseded() -> None:
    e = run(
        "Thirty-one people were killed in the blast, the governor said, raising the toll from the "
        "27 deaths reported on Friday."
    )
    assert e.killed is not None and e.killed.value == 31 and e.killed.superseded == [27]


def test_number_of_injured_climbed_is_injured() -> None:
    e = run(
        "The flood toll rose to 410 on Tuesday. The number of injured has climbed to 1,260, "
        "officials said."
    )
    assert e.killed is not None and e.killed.value == 410
    assert e.injured is not None and e.injured.value == 1260


def test_bare_toll_rose_names_killed() -> None:
    e = run("A landslide buried a village in Nepal. The toll had risen to 64 by Friday.")
    assert e.killed is not None and e.killed.value == 64


def test_forecast_is_not_a_figure() -> None:
    e = run(
        "The Red Cross said 2,300 people had died in the cyclone. The governor warned the toll "
        "could reach 5,000 to 7,000."
    )
    assert e.killed is not None and e.killed.value == 2300 and e.killed.also == []


def test_no_one_hurt_is_not_one() -> None:
    e = run("A bomb killed 9 people at a bus stop in Quetta. A second device was defused; no one was hurt.")
    assert e.injured is None


def test_up_from_earlier_figure_is_superseded() -> None:
    e = run("Fifty-three people were killed in the bombing, up from an earlier figure of 38.")
    assert e.killed is not None and e.killed.value == 53 and e.killed.superseded == [38]


def test_past_year_event_as_subject_is_background() -> None:
    e = run("A suicide bomber killed 19 people at a shrine in Sehwan. The 2017 bombing at the same shrine killed 88.")
    assert e.killed is not None and e.killed.value == 19


def test_verb_before_toll_noun_revises() -> None:
    e = run("A ferry sank off Mindanao, killing 62 people. Officials later lowered the toll to 57.")
    assert e.killed is not None and e.killed.value == 57 and e.killed.superseded == [62]


def test_revision_of_injured_after_killed_mention() -> None:
    e = run(
        "The quake injured 300 people and killed 50. Officials later raised the number of "
        "injured to 410."
    )
    assert e.injured is not None and e.injured.value == 410 and e.injured.superseded == [300]
    assert e.killed is not None and e.killed.value == 50
