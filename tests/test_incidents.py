"""Incident resolution and revision rules of ``stream.incidents`` on hand-built extractions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import pytest

from stream.incidents import (
    CONFLICT_WINDOW,
    DEFAULT_TTL,
    JUMP_FACTOR,
    MAX_CORROBORATION,
    MAX_HISTORY,
    IncidentBook,
    IncidentState,
    combined_figure,
    expire,
    fold,
    history,
    summary,
)
from stream.models import Alert, AlertKind, Attribution, Extraction, Figure, IncidentDescriptor, Qualifier

KEY = "atlantis-portville-bombing"
DAY0 = dt.date(2031, 5, 6)
T0 = dt.datetime(2031, 5, 6, 9, 0, tzinfo=dt.UTC)
RECEIVED = dt.datetime(2031, 5, 20, 0, 0, tzinfo=dt.UTC)
PLACE = IncidentDescriptor(place="Portville", country="Atlantis", date=DAY0, kind="bombing")


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def article(
    article_id: str,
    *,
    at: dt.datetime | str | None,
    source: str | None = "alpha.example",
    killed: Figure | None = None,
    injured: Figure | None = None,
    hospitalized: Figure | None = None,
    attributions: Iterable[Attribution] = (),
    incident: IncidentDescriptor | None = PLACE,
    claimed_by: Iterable[str] = (),
) -> Extraction:
    return Extraction(
        id=article_id,
        source=source,
        url=f"https://{source}/{article_id}" if source else None,
        published=at,
        killed=killed,
        injured=injured,
        hospitalized=hospitalized,
        attributions=list(attributions),
        claimed_by=list(claimed_by),
        incident=incident if incident is not None else IncidentDescriptor(),
        event_key=KEY,
    )


def fig(
    value: int, qualifier: str = "exact", *, superseded: Iterable[int] = (), also: Iterable[int] = ()
) -> Figure:
    return Figure(
        value=value,
        qualifier=Qualifier(qualifier),
        superseded=list(superseded),
        also=list(also),
        evidence=f"Officials put the figure at {value}.",
    )


def run(
    extractions: Iterable[Extraction],
    book: IncidentBook | None = None,
    *,
    received_at: dt.datetime = RECEIVED,
) -> tuple[IncidentBook, list[Alert]]:
    alerts: list[Alert] = []
    for extraction in extractions:
        book, new = fold(book, extraction, partition=KEY, received_at=received_at)
        alerts.extend(new)
    assert book is not None
    return book, alerts


def kinds(alerts: Iterable[Alert]) -> list[tuple[str, str, int | str]]:
    return [(a.kind.value, a.field, a.current) for a in alerts]


def only(book: IncidentBook) -> IncidentState:
    assert len(book.incidents) == 1, [s.event_key for s in book.incidents]
    return book.incidents[0]


# --- figures ---------------------------------------------------------------------------------


def test_first_report_sets_figure_and_alerts() -> None:
    book, alerts = run([article("a1", at=T0, killed=fig(12, "at_least"), injured=fig(40))])
    state = only(book)
    assert state.event_key == f"{KEY}-2031-05-06"
    assert state.label == "Portville, Atlantis — bombing, 2031-05-06"
    assert kinds(alerts) == [("first_report", "killed", 12), ("first_report", "injured", 40)]
    killed = alerts[0]
    assert killed.qualifier is Qualifier.AT_LEAST and killed.previous is None
    assert killed.incident == state.label and killed.event_key == state.event_key
    assert killed.headline == "Portville, Atlantis — bombing: at least 12 killed — alpha.example"
    assert killed.emitted_at is None
    cur = state.figures["killed"]
    assert (cur.value, cur.qualifier, cur.source, cur.article_id) == (
        12,
        Qualifier.AT_LEAST,
        "alpha.example",
        "a1",
    )
    assert cur.evidence == "Officials put the figure at 12." and cur.published == T0


def test_revision_up_and_down() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(12)),
            article("a2", at=T0 + hours(10), source="beta.example", killed=fig(20, "at_least")),
            article("a3", at=T0 + hours(30), source="gamma.example", killed=fig(17)),
        ]
    )
    assert kinds(alerts) == [
        ("first_report", "killed", 12),
        ("revised_up", "killed", 20),
        ("revised_down", "killed", 17),
    ]
    up, down = alerts[1], alerts[2]
    assert (up.previous, up.previous_qualifier, up.qualifier) == (12, Qualifier.EXACT, Qualifier.AT_LEAST)
    assert (down.previous, down.previous_qualifier) == (20, Qualifier.AT_LEAST)
    assert down.headline == (
        "Portville, Atlantis — bombing: death toll revised down to 17 (was at least 20) — gamma.example"
    )
    assert only(book).figures["killed"].value == 17


def test_explicit_revision_with_repeated_old_figure_is_a_revision_not_a_conflict() -> None:
    # Within the conflict window, another outlet, lower figure: would be a conflict, but the
    # text says the count was revised (superseded) while also repeating the old number.
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(40, "at_least")),
            article(
                "a2", at=T0 + hours(2), source="beta.example", killed=fig(33, superseded=[40], also=[40])
            ),
        ]
    )
    assert kinds(alerts)[1] == ("revised_down", "killed", 33)
    assert alerts[1].previous == 40
    assert only(book).figures["killed"].value == 33


def test_late_arriving_older_article_goes_to_history_only() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(10)),
            article("a2", at=T0 + hours(24), source="beta.example", killed=fig(25)),
            # Published before a2 (and after a1) but arrives last, with another figure.
            article("a3", at=T0 + hours(12), source="gamma.example", killed=fig(18), injured=fig(50)),
        ]
    )
    state = only(book)
    assert kinds(alerts) == [
        ("first_report", "killed", 10),
        ("revised_up", "killed", 25),
        ("first_report", "injured", 50),  # a field with no figure yet is still news
    ]
    assert state.figures["killed"].value == 25 and state.figures["killed"].article_id == "a2"
    reports = state.history["killed"]
    assert [(r.article_id, r.value, r.outcome) for r in reports] == [
        ("a1", 10, "first_report"),
        ("a2", 25, "revised_up"),
        ("a3", 18, "late"),
    ]


def test_duplicate_article_by_id_or_content_yields_nothing() -> None:
    first = article("a1", at=T0, killed=fig(10), claimed_by=["Red Hand"])
    book, alerts = run([first])
    assert len(alerts) == 2
    before = book.model_dump(mode="json")
    book2, again = fold(book, first, partition=KEY, received_at=RECEIVED + hours(1))
    assert again == [] and book2.model_dump(mode="json") == before
    renamed = first.model_copy(update={"id": "a1-mirror"})
    book3, again = fold(book, renamed, partition=KEY, received_at=RECEIVED + hours(2))
    assert again == [] and book3.model_dump(mode="json") == before
    changed_same_id = first.model_copy(update={"killed": fig(11)})
    book4, again = fold(book, changed_same_id, partition=KEY, received_at=RECEIVED + hours(3))
    assert again == [] and book4.model_dump(mode="json") == before


def test_fold_never_mutates_a_book_it_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every intermediate book must stay as it was, whatever the later folds change.
    monkeypatch.setattr("stream.incidents.MAX_HISTORY", 2)
    claim = Attribution(party="Red Hand", role="claimed")
    steps = [
        article("m1", at=None, killed=fig(10), incident=IncidentDescriptor(place="Portville")),
        article("m2", at=T0 + hours(1), killed=fig(12), attributions=[claim]),  # learns date and key
        article(
            "m3", at=T0, source="beta.example", killed=fig(9), attributions=[claim]
        ),  # late, earlier claim
        article("m4", at=T0 + hours(2), source="gamma.example", killed=fig(11)),  # conflict
        article("m5", at=T0 + hours(20), killed=fig(15), injured=fig(3)),  # history cap
    ]
    book: IncidentBook | None = None
    snapshots: list[tuple[IncidentBook, dict[str, object]]] = []
    for step in steps:
        book, _ = fold(book, step, partition=KEY, received_at=T0 + hours(3))
        snapshots.append((book, book.model_dump(mode="json")))
        fold(book, step, partition=KEY, received_at=T0 + hours(4))  # duplicate path too
    for kept, snapshot in snapshots:
        assert kept.model_dump(mode="json") == snapshot
    assert book is not None and only(book).history_dropped == {"killed": 3}
    assert only(book).parties("claimed")[0].article_id == "m3"


def test_qualifier_only_change_updates_silently() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(30, "at_least")),
            article("a2", at=T0 + hours(20), source="beta.example", killed=fig(30)),
        ]
    )
    # No revision: the count did not change. Beta is a second outlet for 30, hence corroborated.
    assert kinds(alerts) == [("first_report", "killed", 30), ("corroborated", "killed", 30)]
    cur = only(book).figures["killed"]
    assert (cur.value, cur.qualifier, cur.source) == (30, Qualifier.EXACT, "beta.example")
    assert cur.since == T0 and cur.since_source == "alpha.example" and cur.reports == 2
    assert [r.outcome for r in only(book).history["killed"]] == ["first_report", "qualifier_changed"]


def test_conflict_within_window_keeps_current_and_names_both_sources() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(50, "at_least")),
            article("a2", at=T0 + hours(3), source="beta.example", killed=fig(41)),
        ]
    )
    assert kinds(alerts) == [("first_report", "killed", 50), ("conflict", "killed", 41)]
    conflict = alerts[1]
    assert conflict.conflicting_sources == ["alpha.example", "beta.example"]
    assert (conflict.previous, conflict.previous_qualifier) == (50, Qualifier.AT_LEAST)
    assert conflict.headline == (
        "Portville, Atlantis — bombing: conflicting death tolls: "
        "41 (beta.example) vs at least 50 (alpha.example)"
    )
    assert only(book).figures["killed"].value == 50
    assert only(book).history["killed"][-1].outcome == "conflict"


def test_outside_window_or_same_source_or_higher_is_a_revision() -> None:
    late = T0 + CONFLICT_WINDOW + hours(1)
    _, alerts = run(
        [article("a1", at=T0, killed=fig(50)), article("a2", at=late, source="beta.example", killed=fig(41))]
    )
    assert kinds(alerts)[-1] == ("revised_down", "killed", 41)
    _, alerts = run([article("a1", at=T0, killed=fig(50)), article("a2", at=T0 + hours(1), killed=fig(41))])
    assert kinds(alerts)[-1] == ("revised_down", "killed", 41)  # same outlet updating itself
    _, alerts = run(
        [
            article("a1", at=T0, killed=fig(50)),
            article("a2", at=T0 + hours(1), source="b.example", killed=fig(61)),
        ]
    )
    assert kinds(alerts)[-1] == ("revised_up", "killed", 61)  # tolls rise: not a conflict


def test_revision_back_to_an_alerted_value_is_not_emitted_twice() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(50)),
            article("a2", at=T0 + hours(10), killed=fig(40)),
            article("a3", at=T0 + hours(20), killed=fig(45)),
            article("a4", at=T0 + hours(30), killed=fig(40)),
        ]
    )
    assert kinds(alerts) == [
        ("first_report", "killed", 50),
        ("revised_down", "killed", 40),
        ("revised_up", "killed", 45),
    ]
    assert len({a.alert_id for a in alerts}) == 3
    assert only(book).figures["killed"].value == 40  # the figure still follows the story


def test_undated_articles_are_placed_by_arrival() -> None:
    book, alerts = run([article("a1", at=None, killed=fig(10))], received_at=T0 + hours(5))
    cur = only(book).figures["killed"]
    assert cur.published is None and cur.effective == T0 + hours(5)
    assert alerts[0].published is None
    # A dated article arriving after an undated one is not late, whatever its date: it revises.
    book, alerts = run([article("a2", at=T0, killed=fig(99))], book)
    assert [a.kind for a in alerts] == [AlertKind.REVISED_UP] and only(book).figures["killed"].value == 99


def test_undated_current_figure_does_not_shield_against_older_dated_reports() -> None:
    book, _ = run([article("d1", at=T0 + hours(24), killed=fig(84))])
    book, alerts = run([article("u1", at=None, killed=fig(90))], book, received_at=T0 + hours(200))
    assert [a.kind for a in alerts] == [AlertKind.REVISED_UP]
    # Published before d1, the newest dated report: late, even though the current figure is undated.
    book, alerts = run([article("d0", at=T0, killed=fig(70))], book)
    assert alerts == [] and only(book).figures["killed"].value == 90
    # Published after d1: a revision.
    book, alerts = run([article("d2", at=T0 + hours(48), killed=fig(92))], book)
    assert [(a.kind, a.current) for a in alerts] == [(AlertKind.REVISED_UP, 92)]


# --- the shape of a real story ---------------------------------------------------------------


# --- publication dates of month or year precision ----------------------------------------------

MAY = "2031-05"  # T0 is 2031-05-06 09:00


def test_month_precision_report_is_placed_by_arrival_not_made_late() -> None:
    # Read as 1 May at midnight it would be older than the report of 6 May: late, ignored.
    book, alerts = run(
        [article("a1", at=T0, killed=fig(12)), article("a2", at=MAY, source="beta.example", killed=fig(15))],
        received_at=T0 + hours(2),
    )
    cur = only(book).figures["killed"]
    assert kinds(alerts) == [("first_report", "killed", 12), ("revised_up", "killed", 15)]
    assert cur.value == 15 and cur.effective == T0 + hours(2)  # placed by arrival, like an undated one


def test_month_precision_lower_figure_is_not_a_conflict() -> None:
    # Read as 1 May 00:00 it would fall 3 h after the 30 April 21:00 report: inside the window.
    april_30 = dt.datetime(2031, 4, 30, 21, 0, tzinfo=dt.UTC)
    undated = PLACE.model_copy(update={"date": None})
    _, alerts = run(
        [article("a1", at=april_30, killed=fig(40), incident=undated),
         article("a2", at=MAY, source="beta.example", killed=fig(30), incident=undated)],
        received_at=april_30 + hours(4),
    )
    assert kinds(alerts) == [("first_report", "killed", 40), ("revised_down", "killed", 30)]


def test_story_sequence_emits_expected_kinds() -> None:
    steps = [
        (0, fig(73, "at_least"), "one.example"),
        (8, fig(103, "at_least"), "two.example"),
        (30, fig(95), "three.example"),
        (40, fig(84, superseded=[103]), "four.example"),
        (60, fig(90, "about"), "five.example"),
        (80, fig(91), "six.example"),
        (100, fig(92), "seven.example"),
    ]
    extractions = [
        article(f"s{i}", at=T0 + hours(h), source=src, killed=f) for i, (h, f, src) in enumerate(steps)
    ]
    book, alerts = run(extractions)
    assert [(a.kind, a.current, a.previous) for a in alerts] == [
        (AlertKind.FIRST_REPORT, 73, None),
        (AlertKind.REVISED_UP, 103, 73),
        (AlertKind.REVISED_DOWN, 95, 103),
        (AlertKind.REVISED_DOWN, 84, 95),
        (AlertKind.REVISED_UP, 90, 84),
        (AlertKind.REVISED_UP, 91, 90),
        (AlertKind.REVISED_UP, 92, 91),
    ]
    assert len({a.alert_id for a in alerts}) == len(alerts)
    assert only(book).figures["killed"].value == 92
    assert len(only(book).history["killed"]) == 7


def test_replay_of_whole_sequence_gives_no_alert_and_identical_state() -> None:
    extractions = [
        article(
            "r1",
            at=T0,
            killed=fig(20, "at_least"),
            attributions=[Attribution(party="Red Hand", role="claimed")],
        ),
        article("r2", at=T0 + hours(12), source="beta.example", killed=fig(26), injured=fig(70)),
        article("r3", at=None, source="gamma.example", killed=fig(24, superseded=[26])),
        article("r4", at=T0 + hours(2), source="delta.example", killed=fig(21)),
    ]
    book, alerts = run(extractions)
    assert alerts
    snapshot = book.model_dump(mode="json")
    replayed, again = run(extractions, book, received_at=RECEIVED + dt.timedelta(days=1))
    assert again == []
    assert replayed.model_dump(mode="json") == snapshot


def test_alert_ids_stable_across_runs() -> None:
    def build() -> list[Alert]:
        return run(
            [
                article(
                    "a1", at=T0, killed=fig(8), attributions=[Attribution(party="Red Hand", role="claimed")]
                ),
                article("a2", at=T0 + hours(9), source="beta.example", killed=fig(11, "at_least")),
            ]
        )[1]

    first, second = build(), build()
    assert [a.alert_id for a in first] == [a.alert_id for a in second]
    assert first[0].alert_id == Alert.make_id(f"{KEY}-2031-05-06", "first_report", "killed", 8, "exact")
    assert [a.model_dump(mode="json") for a in first] == [a.model_dump(mode="json") for a in second]


# --- corroboration ----------------------------------------------------------------------------


def outlets(state: IncidentState, field: str = "killed") -> list[tuple[str, dt.datetime]]:
    return [(seen.source, seen.first_seen) for seen in state.figures[field].sources]


def test_sources_are_outlets_reporting_the_value_or_higher() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(20)),
            article("a2", at=T0 + hours(10), source="beta.example", killed=fig(26)),
            article("a3", at=T0 + hours(20), source="gamma.example", killed=fig(24, superseded=[26])),
        ]
    )
    assert kinds(alerts) == [
        ("first_report", "killed", 20),
        ("revised_up", "killed", 26),
        ("revised_down", "killed", 24),
    ]
    # 26: only beta says 26 or more (alpha's 20 does not back it).
    assert [(a.sources, a.corroborated) for a in alerts] == [(1, True), (1, True), (2, True)]
    # 24: beta's 26 backs "24 or more" too; alpha's 20 still does not.
    assert outlets(only(book)) == [("beta.example", T0 + hours(10)), ("gamma.example", T0 + hours(20))]


def test_first_seen_is_the_earliest_time_each_outlet_backed_the_value() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(30)),
            article("b1", at=T0 + hours(5), source="beta.example", killed=fig(30)),
            article("b2", at=T0 + hours(8), source="beta.example", killed=fig(30)),
            # Late (published before b2): never moves the figure, but gamma did say 35 >= 30.
            article("c1", at=T0 + hours(1), source="gamma.example", killed=fig(35)),
            # Late too, from an outlet already counted: only its first_seen moves earlier.
            article("b0", at=T0 + hours(2), source="beta.example", killed=fig(31)),
        ]
    )
    state = only(book)
    assert state.figures["killed"].value == 30
    assert outlets(state) == [
        ("alpha.example", T0),
        ("gamma.example", T0 + hours(1)),
        ("beta.example", T0 + hours(2)),
    ]
    assert kinds(alerts) == [
        ("first_report", "killed", 30),
        ("corroborated", "killed", 30),
        ("corroborated", "killed", 30),
    ]
    assert [(a.article_id, a.sources, a.previous) for a in alerts[1:]] == [("b1", 2, None), ("c1", 3, None)]
    assert alerts[2].headline == (
        "Portville, Atlantis — bombing: death toll of 30 now reported by 3 outlets — gamma.example"
    )


@pytest.mark.parametrize(
    ("new", "is_jump"),
    [
        (100 * JUMP_FACTOR, False),  # exactly 5x: a big rise, not a jump
        (100 * JUMP_FACTOR + 1, True),  # 5.01x
    ],
)
def test_jump_factor_boundary(new: int, is_jump: bool) -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(100)),
            article("b1", at=T0 + hours(10), source="beta.example", killed=fig(new)),
        ]
    )
    up = alerts[-1]
    assert (up.kind, up.current, up.sources, up.corroborated) == (AlertKind.REVISED_UP, new, 1, not is_jump)
    cur = only(book).figures["killed"]
    assert (cur.corroborated, cur.jumped_from) == (not is_jump, 100 if is_jump else None)


def test_second_outlet_corroborates_a_jump() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(12)),
            article("b1", at=T0 + hours(10), source="beta.example", killed=fig(840)),
        ]
    )
    assert alerts[-1].corroborated is False and only(book).figures["killed"].corroborated is False
    book, more = run([article("c1", at=T0 + hours(12), source="gamma.example", killed=fig(840))], book)
    assert kinds(more) == [("corroborated", "killed", 840)]
    confirm = more[0]
    assert (confirm.sources, confirm.corroborated, confirm.previous) == (2, True, 12)
    assert confirm.headline == (
        "Portville, Atlantis — bombing: death toll of 840 now reported by 2 outlets, "
        "confirming the jump from 12 — gamma.example"
    )
    cur = only(book).figures["killed"]
    assert cur.corroborated is True and [s.source for s in cur.sources] == ["beta.example", "gamma.example"]


def test_same_outlet_twice_does_not_corroborate() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(12)),
            article("b1", at=T0 + hours(10), source="beta.example", killed=fig(840)),
            article("b2", at=T0 + hours(11), source="beta.example", killed=fig(840)),
            article("b3", at=T0 + hours(12), source="Beta.Example", killed=fig(840, "at_least")),
        ]
    )
    assert kinds(alerts) == [("first_report", "killed", 12), ("revised_up", "killed", 840)]
    cur = only(book).figures["killed"]
    assert (len(cur.sources), cur.corroborated, cur.reports) == (1, False, 3)


def test_one_outlet_nudging_its_own_jump_stays_unconfirmed() -> None:
    _, alerts = run(
        [
            article("a1", at=T0, killed=fig(12)),
            article("b1", at=T0 + hours(10), source="beta.example", killed=fig(500)),
            # 520 is not 5x 500, but 500 was never confirmed: the jump is still from 12.
            article("b2", at=T0 + hours(11), source="beta.example", killed=fig(520)),
            article("c1", at=T0 + hours(12), source="gamma.example", killed=fig(520)),
        ]
    )
    assert [(a.kind.value, a.current, a.corroborated, a.previous) for a in alerts[1:]] == [
        ("revised_up", 500, False, 12),
        ("revised_up", 520, False, 500),
        ("corroborated", 520, True, 12),
    ]


def test_revision_down_from_an_unconfirmed_jump_is_corroborated_by_the_jumping_outlet() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(12)),
            article("b1", at=T0 + hours(10), source="beta.example", killed=fig(500)),
            article("c1", at=T0 + hours(20), source="gamma.example", killed=fig(450, superseded=[500])),
        ]
    )
    down = alerts[-1]
    assert (down.kind, down.sources, down.corroborated) == (AlertKind.REVISED_DOWN, 2, True)
    assert only(book).figures["killed"].corroborated is True


def test_articles_without_source_count_as_their_own_outlet() -> None:
    book, alerts = run(
        [
            article("n1", at=T0, source=None, killed=fig(30)),
            article("n2", at=T0 + hours(1), source=None, killed=fig(30)),
        ]
    )
    assert outlets(only(book)) == [("article:n1", T0), ("article:n2", T0 + hours(1))]
    assert kinds(alerts) == [("first_report", "killed", 30), ("corroborated", "killed", 30)]
    assert alerts[-1].sources == 2 and alerts[-1].source is None


def test_corroborated_alerts_stop_at_the_cap_and_have_distinct_ids() -> None:
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"]
    book, alerts = run(
        article(f"x{i}", at=T0 + hours(i), source=f"{name}.example", killed=fig(30))
        for i, name in enumerate(names)
    )
    corroborated = [a for a in alerts if a.kind is AlertKind.CORROBORATED]
    assert [a.sources for a in corroborated] == list(range(2, MAX_CORROBORATION + 1))
    assert len({a.alert_id for a in alerts}) == len(alerts)
    assert len(only(book).figures["killed"].sources) == len(names)


def test_conflict_carries_the_count_for_the_lower_value() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(50)),
            article("b1", at=T0 + hours(3), source="beta.example", killed=fig(41)),
        ]
    )
    conflict = alerts[-1]
    assert conflict.kind is AlertKind.CONFLICT
    assert (conflict.sources, conflict.corroborated) == (2, True)  # alpha's 50 backs "41 or more"
    assert [s.source for s in only(book).figures["killed"].sources] == ["alpha.example"]  # 50 stands


def test_sources_survive_history_trimming(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("stream.incidents.MAX_HISTORY", 2)
    book, _ = run(
        [
            article("a1", at=T0, killed=fig(90)),
            article("b1", at=T0 + hours(1), source="beta.example", killed=fig(90)),
            article("a2", at=T0 + hours(2), killed=fig(90)),
            article("a3", at=T0 + hours(3), killed=fig(90)),
        ]
    )
    state = only(book)
    assert [r.article_id for r in state.history["killed"]] == ["a2", "a3"]  # beta's report is gone
    assert [s.source for s in state.figures["killed"].sources] == ["alpha.example", "beta.example"]
    # A lower value carries the outlets over: beta's trimmed 90 still backs 80.
    book, alerts = run(
        [article("c1", at=T0 + hours(4), source="gamma.example", killed=fig(80, superseded=[90]))], book
    )
    assert alerts[-1].sources == 3


def test_figure_stored_before_corroboration_rebuilds_sources_from_history() -> None:
    book, _ = run(
        [
            article("a1", at=T0, killed=fig(30)),
            article("b1", at=T0 + hours(2), source="beta.example", killed=fig(30)),
        ]
    )
    payload = book.model_dump(mode="json")
    for name in ("sources", "corroborated", "jumped_from"):
        del payload["incidents"][0]["figures"]["killed"][name]
    legacy = IncidentBook.model_validate(payload)
    assert summary(legacy.incidents[0])["figures"]["killed"]["source_count"] == 2
    book, alerts = run([article("c1", at=T0 + hours(3), source="gamma.example", killed=fig(30))], legacy)
    assert [(a.kind.value, a.sources) for a in alerts] == [("corroborated", 3)]
    assert len(only(book).figures["killed"].sources) == 3


def test_combined_figure_for_merged_incidents_unites_their_outlets() -> None:
    one = only(run([article("a1", at=T0, killed=fig(12)),
                    article("b1", at=T0 + hours(1), source="beta.example", killed=fig(840))])[0])
    other = only(run([article("c1", at=T0 + hours(2), source="gamma.example", killed=fig(840))])[0])
    assert one.figures["killed"].corroborated is False
    merged = one.model_copy(update={"history": {"killed": [*one.history["killed"], *other.history["killed"]]}})
    fig_ = combined_figure(merged, "killed", one.figures["killed"], other.figures["killed"])
    assert fig_ is not None and fig_.article_id == "c1"  # the later standing figure
    assert [s.source for s in fig_.sources] == ["beta.example", "gamma.example"] and fig_.corroborated is True
    # A higher figure's outlets back a lower standing one (beta's 840 backs 50)...
    low = only(run([article("d1", at=T0 + hours(3), source="delta.example", killed=fig(50))])[0])
    fig_ = combined_figure(low, "killed", low.figures["killed"], one.figures["killed"])
    assert fig_ is not None and fig_.value == 50
    assert [s.source for s in fig_.sources] == ["beta.example", "delta.example"]
    # ...but a lower figure's outlets do not back a higher standing one.
    early = only(run([article("e1", at=T0 + hours(0.5), source="delta.example", killed=fig(50))])[0])
    fig_ = combined_figure(one, "killed", one.figures["killed"], early.figures["killed"])
    assert fig_ is not None and fig_.value == 840 and [s.source for s in fig_.sources] == ["beta.example"]
    fig_ = combined_figure(one, "killed", one.figures["killed"], None)
    assert fig_ is not None and len(fig_.sources) == 1 and combined_figure(one, "killed", None) is None


# --- responsibility --------------------------------------------------------------------------


def test_claim_repeated_by_another_outlet_alerts_once() -> None:
    claim = Attribution(
        party="Red Hand", role="claimed", channel="Telegram", evidence="Red Hand said it did it."
    )
    book, alerts = run(
        [
            article("a1", at=T0, attributions=[claim]),
            article("a2", at=T0 + hours(5), source="beta.example", claimed_by=["Red Hand"]),
        ]
    )
    assert kinds(alerts) == [("claim", "claimed_by", "Red Hand")]
    assert alerts[0].channel == "Telegram"
    assert (alerts[0].sources, alerts[0].corroborated) == (1, None)
    assert alerts[0].headline == (
        "Portville, Atlantis — bombing: Red Hand claimed responsibility (Telegram) — alpha.example"
    )
    entry = only(book).parties("claimed")[0]
    assert entry.sources == ["alpha.example", "beta.example"] and entry.reports == 2
    assert (entry.first_seen, entry.source, entry.article_id) == (T0, "alpha.example", "a1")


def test_suspect_and_denial() -> None:
    book, alerts = run(
        [
            article("a1", at=T0, attributions=[Attribution(party="Blue Circle", role="suspected")]),
            article(
                "a2",
                at=T0 + hours(6),
                source="beta.example",
                attributions=[
                    Attribution(
                        party="Blue Circle", role="denied", evidence="Blue Circle rejected the accusation."
                    ),
                    Attribution(party="Blue Circle", role="suspected"),
                ],
            ),
        ]
    )
    assert kinds(alerts) == [("suspect", "suspected", "Blue Circle"), ("denial", "denied_by", "Blue Circle")]
    assert (
        alerts[1].headline == "Portville, Atlantis — bombing: Blue Circle denied involvement — beta.example"
    )
    view = summary(only(book))
    assert [p["party"] for p in view["suspected"]] == ["Blue Circle"]
    assert [p["party"] for p in view["denied_by"]] == ["Blue Circle"]


def test_suspicion_after_claim_is_silent() -> None:
    _, alerts = run(
        [
            article("a1", at=T0, attributions=[Attribution(party="Red Hand", role="claimed")]),
            article("a2", at=T0 + hours(1), attributions=[Attribution(party="Red Hand", role="suspected")]),
        ]
    )
    assert kinds(alerts) == [("claim", "claimed_by", "Red Hand")]


# --- incident resolution ---------------------------------------------------------------------


def test_two_incidents_in_one_city_a_week_apart_are_kept_apart() -> None:
    later = PLACE.model_copy(update={"date": DAY0 + dt.timedelta(days=7)})
    book, alerts = run(
        [
            article("a1", at=T0, killed=fig(5)),
            article("b1", at=T0 + dt.timedelta(days=7), killed=fig(9), incident=later),
            # A day-late date for the first incident still joins it (within 3 days).
            article(
                "a2",
                at=T0 + hours(30),
                killed=fig(6),
                incident=PLACE.model_copy(update={"date": DAY0 + dt.timedelta(days=1)}),
            ),
        ]
    )
    keys = [s.event_key for s in book.incidents]
    assert keys == [f"{KEY}-2031-05-06", f"{KEY}-2031-05-13"]
    assert [(a.event_key, a.kind.value, a.current) for a in alerts] == [
        (keys[0], "first_report", 5),
        (keys[1], "first_report", 9),
        (keys[0], "revised_up", 6),
    ]


def _two_portville_incidents() -> IncidentBook:
    later = PLACE.model_copy(update={"date": DAY0 + dt.timedelta(days=7)})
    book, _ = run([article("a1", at=T0, killed=fig(5))], received_at=RECEIVED)
    book, _ = run(
        [article("b1", at=T0 + dt.timedelta(days=7), killed=fig(40), incident=later)],
        book,
        received_at=RECEIVED + hours(1),
    )
    return book


def test_undated_report_that_fits_two_incidents_opens_nothing() -> None:
    book = _two_portville_incidents()
    undated = IncidentDescriptor(place="Portville", country="Atlantis", kind="bombing")
    after, alerts = run([article("u1", at=None, injured=fig(30), incident=undated)], book,
                        received_at=RECEIVED + hours(2))
    assert alerts == [] and after.incidents == book.incidents


def test_undated_report_joins_the_incident_its_figure_agrees_with() -> None:
    book = _two_portville_incidents()
    undated = IncidentDescriptor(place="Portville", country="Atlantis", kind="bombing")
    book, alerts = run([article("u1", at=None, killed=fig(5), injured=fig(30), incident=undated)], book,
                       received_at=RECEIVED + hours(2))
    assert [(a.event_key, a.kind.value) for a in alerts] == [(f"{KEY}-2031-05-06", "first_report")]
    assert "injured" in book.incidents[0].figures and "injured" not in book.incidents[1].figures


def test_undated_incident_learns_its_date_and_key() -> None:
    book, alerts = run(
        [article("u1", at=None, killed=fig(3), incident=IncidentDescriptor(place="Portville"))],
        received_at=T0,
    )
    assert only(book).event_key == KEY and alerts[0].event_key == KEY
    assert only(book).label == "Portville"
    book, alerts = run([article("d1", at=T0 + hours(8), killed=fig(4))], book, received_at=T0 + hours(8))
    state = only(book)
    assert state.event_key == f"{KEY}-2031-05-06" and state.former_keys == [KEY]
    assert state.label == "Portville, Atlantis — bombing, 2031-05-06"
    assert [a.kind for a in alerts] == [AlertKind.MERGED, AlertKind.REVISED_UP]
    assert (alerts[0].previous, alerts[0].current) == (KEY, state.event_key)
    assert alerts[1].event_key == state.event_key
    assert book.get(KEY) is state


def test_expiry_after_ttl_removes_incident() -> None:
    later = PLACE.model_copy(update={"date": DAY0 + dt.timedelta(days=10)})
    book, _ = run([article("a1", at=T0, killed=fig(5))], received_at=T0)
    book, _ = run(
        [article("b1", at=T0 + dt.timedelta(days=10), killed=fig(2), incident=later)],
        book,
        received_at=T0 + dt.timedelta(days=10),
    )
    kept, closed = expire(book, now=T0 + DEFAULT_TTL - hours(1))
    assert closed == [] and kept is book
    kept, closed = expire(book, now=T0 + DEFAULT_TTL)
    assert [s.event_key for s in closed] == [f"{KEY}-2031-05-06"]
    assert kept is not None and [s.event_key for s in kept.incidents] == [f"{KEY}-2031-05-16"]
    gone, closed = expire(kept, now=T0 + dt.timedelta(days=30))
    assert gone is None and len(closed) == 1
    assert expire(None, now=T0) == (None, [])
    with pytest.raises(ValueError, match="ttl must be positive"):
        expire(book, now=T0, ttl=dt.timedelta(0))


# --- storage, read API, bounds, errors -------------------------------------------------------


def test_state_round_trips_through_json() -> None:
    book, _ = run(
        [
            article(
                "a1",
                at=T0,
                killed=fig(20, "about"),
                hospitalized=fig(7),
                attributions=[Attribution(party="Red Hand", role="claimed", channel="statement")],
            ),
            article("a2", at=None, source="beta.example", killed=fig(24, superseded=[20])),
        ]
    )
    payload = json.loads(json.dumps(book.model_dump(mode="json")))
    restored = IncidentBook.model_validate(payload)
    assert restored == book
    assert restored.model_dump(mode="json") == payload
    # Folding into the restored book behaves exactly like folding into the original.
    nxt = article("a3", at=T0 + hours(40), killed=fig(30))
    assert fold(restored, nxt, partition=KEY, received_at=RECEIVED) == fold(
        book, nxt, partition=KEY, received_at=RECEIVED
    )


def test_summary_and_history_are_json_ready() -> None:
    book, _ = run(
        [
            article(
                "a1",
                at=T0,
                killed=fig(20, "at_least"),
                attributions=[Attribution(party="Red Hand", role="claimed")],
            ),
            article("a2", at=T0 + hours(20), source="beta.example", killed=fig(26)),
        ]
    )
    state = only(book)
    view = summary(state)
    json.dumps(view)
    assert view["event_key"] == state.event_key and view["status"] == "open"
    assert view["figures"]["killed"]["value"] == 26 and view["figures"]["killed"]["text"] == "26"
    assert view["figures"]["killed"]["source_count"] == 1  # alpha's "at least 20" does not back 26
    assert view["figures"]["killed"]["sources"][0]["source"] == "beta.example"
    assert view["figures"]["killed"]["corroborated"] is True
    assert view["claimed_by"][0]["party"] == "Red Hand" and view["articles"] == 2
    past = history(state)
    json.dumps(past)
    assert [r["value"] for r in past["figures"]["killed"]] == [20, 26]
    assert past["figures"]["injured"] == []


def test_history_is_capped() -> None:
    extractions = [article(f"h{i}", at=T0 + hours(i), killed=fig(100 + i)) for i in range(MAX_HISTORY + 5)]
    book, _ = run(extractions)
    state = only(book)
    assert len(state.history["killed"]) == MAX_HISTORY and state.history_dropped["killed"] == 5
    assert state.history["killed"][0].article_id == "h5"


def test_article_without_content_creates_no_incident() -> None:
    book, alerts = fold(None, article("e1", at=T0), partition=KEY, received_at=RECEIVED)
    assert alerts == [] and book.incidents == []


def test_errors_are_explicit() -> None:
    book, _ = run([article("a1", at=T0, killed=fig(1))])
    with pytest.raises(ValueError, match="partition is empty"):
        fold(None, article("a2", at=T0), partition=" ", received_at=RECEIVED)
    with pytest.raises(ValueError, match="must agree"):
        fold(book, article("a2", at=T0, killed=fig(2)), partition="other-key", received_at=RECEIVED)
    with pytest.raises(KeyError, match="unknown figure field"):
        only(book).figure("missing")


def test_future_published_time_is_clamped_to_receipt() -> None:
    # A time-zone slip dates the first article 30 days ahead; it must not freeze the figure.
    book, _ = run([article("f1", at=T0 + dt.timedelta(days=30), killed=fig(10))], received_at=T0 + hours(1))
    assert only(book).figures["killed"].effective == T0 + hours(1)
    book, alerts = run([article("f2", at=T0 + hours(20), killed=fig(14))], book, received_at=T0 + hours(21))
    assert kinds(alerts) == [("revised_up", "killed", 14)]


def test_conflict_without_sources_names_articles() -> None:
    _, alerts = run(
        [
            article("n1", at=T0, source=None, killed=fig(30)),
            article("n2", at=T0 + hours(1), source=" ", killed=fig(25)),
        ]
    )
    assert alerts[-1].kind is AlertKind.CONFLICT
    assert alerts[-1].conflicting_sources == ["article n1", "article n2"]
    assert alerts[-1].headline.endswith("25 (article n2) vs 30 (article n1)")


def test_dated_report_long_after_undated_incident_starts_a_new_one() -> None:
    undated = IncidentDescriptor(place="Portville")
    book, _ = run([article("u1", at=None, killed=fig(3), incident=undated)], received_at=T0)
    later = PLACE.model_copy(update={"date": DAY0 + dt.timedelta(days=10)})
    at = T0 + dt.timedelta(days=10)
    book, alerts = run([article("d1", at=at, killed=fig(7), incident=later)], book, received_at=at)
    assert [s.event_key for s in book.incidents] == [KEY, f"{KEY}-2031-05-16"]
    assert kinds(alerts) == [("first_report", "killed", 7)]


def test_book_is_bounded_by_evicting_least_active(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("stream.incidents.MAX_INCIDENTS", 2)
    book: IncidentBook | None = None
    for week in range(3):
        desc = PLACE.model_copy(update={"date": DAY0 + dt.timedelta(days=7 * week)})
        at = T0 + dt.timedelta(days=7 * week)
        book, _ = fold(
            book,
            article(f"w{week}", at=at, killed=fig(week + 1), incident=desc),
            partition=KEY,
            received_at=at,
        )
    assert book is not None
    assert [s.event_key for s in book.incidents] == [f"{KEY}-2031-05-13", f"{KEY}-2031-05-20"]


def test_stored_state_rejects_unknown_figure_fields() -> None:
    book, _ = run([article("a1", at=T0, killed=fig(1))])
    payload = book.model_dump(mode="json")
    payload["incidents"][0]["figures"]["wounded"] = payload["incidents"][0]["figures"]["killed"]
    with pytest.raises(ValueError, match="unknown figure field"):
        IncidentBook.model_validate(payload)


def test_merge_keeps_one_history_and_tells_nothing_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    from stream import matching

    portville = PLACE.model_copy(update={"lat": 10.0, "lon": 10.0})
    farville = PLACE.model_copy(update={"place": "Farville", "lat": 12.0, "lon": 10.0})  # ~220 km away
    book, first = run([article("a1", at=T0, killed=fig(10), claimed_by=["Red Front"], incident=portville)])
    book, second = run([article("b1", at=T0 + hours(1), source="beta.example", killed=fig(3),
                                claimed_by=["Red Front"], incident=farville)], book)
    assert len(book.incidents) == 2 and kinds(second) == [("first_report", "killed", 3), ("claim", "claimed_by", "Red Front")]
    # Whatever later evidence ties them, the merge itself must be safe: lower the bar to force it.
    monkeypatch.setitem(matching.rules(), "merge_threshold", -10.0)
    book, merged = run([article("b2", at=T0 + hours(2), source="gamma.example", killed=fig(14),
                                incident=farville)], book)
    state = only(book)
    assert state.event_key == first[0].event_key and state.former_keys == [second[0].event_key]
    assert kinds(merged) == [("revised_up", "killed", 14), ("merged", "event_key", state.event_key)]
    assert merged[1].previous == second[0].event_key
    assert [r.article_id for r in state.history["killed"]] == ["a1", "b1", "b2"]
    assert state.figures["killed"].value == 14 and state.articles == 3
    [claim] = state.parties("claimed")
    assert claim.reports == 2 and claim.sources == ["alpha.example", "beta.example"]
    assert summary(state)["former_keys"] == [second[0].event_key] and book.get(second[0].event_key) is state
    # A fact either incident told before the merge is not told again.
    book, again = run([article("c1", at=T0 + hours(3), source="delta.example", claimed_by=["Red Front"],
                               incident=portville)], book)
    assert again == []


def test_a_replayed_article_that_updated_nothing_stays_a_no_op_after_the_book_changed() -> None:
    """At-least-once delivery replays the records since the last commit; an article that was
    ambiguous the first time must not join an incident opened after it (tollwatch chaos)."""
    book = _two_portville_incidents()
    undated = IncidentDescriptor(place="Portville", country="Atlantis", kind="bombing")
    u1 = article("u1", at=None, killed=fig(60), incident=undated)
    book, alerts = run([u1], book, received_at=RECEIVED + hours(2))
    assert alerts == [] and len(book.passed) == 2
    third = PLACE.model_copy(update={"date": DAY0 + dt.timedelta(days=14)})
    book, alerts = run([article("c1", at=T0 + dt.timedelta(days=14), killed=fig(58), incident=third)], book,
                       received_at=RECEIVED + hours(3))
    assert [a.kind.value for a in alerts] == ["first_report"]
    _, would = fold(book.model_copy(update={"passed": []}), u1, partition=KEY,
                            received_at=RECEIVED + hours(2))
    assert would, "the scenario needs a book in which the replayed article would now join an incident"
    again, alerts = fold(book, u1, partition=KEY, received_at=RECEIVED + hours(2))
    assert alerts == [] and again.incidents == book.incidents
