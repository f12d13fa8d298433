from __future__ import annotations

from stream.models import Alert, AlertKind
from stream.replay_eval import score_replay


def _gold(article_id: str, event: str, killed: int | None, claimed: list[str] | None = None) -> dict:
    figure = None if killed is None else {"value": killed, "qualifier": "exact", "superseded": [], "also": []}
    return {"id": article_id, "event": event, "gold": {"killed": figure, "injured": None, "hospitalized": None,
                                                        "claimed_by": claimed or [], "suspected": [], "denied_by": []}}


def _alert(article_id: str, kind: AlertKind, current: int | str, field: str = "killed") -> Alert:
    return Alert(alert_id=f"{article_id}-{kind}-{current}", event_key="k", incident="i", kind=kind, field=field,
                 current=current, article_id=article_id, headline="h")


def test_changes_and_claims_are_scored() -> None:
    gold = [_gold("a1", "e", 10), _gold("a2", "e", 10), _gold("a3", "e", 12, ["Group"]), _gold("a4", "e", None),
            _gold("a5", "e", 9)]
    alerts = [
        _alert("a1", AlertKind.FIRST_REPORT, 10),
        _alert("a2", AlertKind.REVISED_UP, 11),  # not a gold change: false positive
        _alert("a3", AlertKind.CLAIM, "Group", field="claimed_by"),
        _alert("a5", AlertKind.REVISED_DOWN, 9),
        _alert("zz", AlertKind.FIRST_REPORT, 1),  # article not in gold
    ]
    score = score_replay(gold, alerts)
    killed = score.fields["killed"]
    assert (killed.gold_changes, killed.alerts, killed.true_positives) == (3, 3, 2)  # 10, 12, 9 changes
    assert score.fields["claimed_by"].true_positives == 1 and score.fields["claimed_by"].precision == 1.0
    assert score.unmapped_alerts == 1
    [seq] = score.sequences
    assert seq.gold == [10, 10, 12, None, 9] and seq.alerted == [10, 11, 9]
