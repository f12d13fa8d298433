"""Score a replay's alerts against the gold sequence of each incident.

``tollwatch replay GOLD.jsonl --json > alerts.jsonl`` then
``tollwatch eval GOLD.jsonl --alerts alerts.jsonl``.

Per gold incident (``event``), in file order, the gold *changes* of a figure are the articles
whose gold value differs from the previous article's gold value (the first value is a
change too). A figure alert (``first_report``, ``revised_up``, ``revised_down``, ``conflict``)
is a true positive when its article and value are a gold change of that field. Claims: the
first article reporting each group in ``claimed_by`` is a gold change; a ``claim`` alert is a
true positive when its party is such a group of the alert's incident. Alerts are mapped to a
gold incident through their article id.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel

from stream.models import FIGURE_FIELDS, Alert, AlertKind

logger = logging.getLogger(__name__)

FIGURE_ALERT_KINDS = {AlertKind.FIRST_REPORT, AlertKind.REVISED_UP, AlertKind.REVISED_DOWN, AlertKind.CONFLICT}


class FieldScore(BaseModel):
    field: str
    true_positives: int
    alerts: int
    gold_changes: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.alerts if self.alerts else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.gold_changes if self.gold_changes else 1.0


class IncidentSequence(BaseModel):
    event: str
    field: str
    gold: list[int | None]
    alerted: list[int]


class ReplayScore(BaseModel):
    fields: dict[str, FieldScore]
    sequences: list[IncidentSequence]
    unmapped_alerts: int


def _gold_value(record: dict, field: str) -> int | None:
    figure = (record.get("gold") or {}).get(field)
    return None if figure is None else int(figure["value"])


def _gold_changes(records: list[dict], field: str) -> list[tuple[str, int]]:
    changes: list[tuple[str, int]] = []
    previous: int | None = None
    for record in records:
        value = _gold_value(record, field)
        if value is None:
            continue
        if value != previous:
            changes.append((record["id"], value))
        previous = value
    return changes


def _gold_claims(records: list[dict]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for record in records:
        for party in (record.get("gold") or {}).get("claimed_by", []):
            seen.setdefault(party, record["id"])
    return [(article, party) for party, article in seen.items()]


def score_replay(gold_records: list[dict], alerts: list[Alert]) -> ReplayScore:
    event_of = {r["id"]: r["event"] for r in gold_records}
    by_event: dict[str, list[dict]] = defaultdict(list)
    for record in gold_records:
        by_event[record["event"]].append(record)
    alerts_by_event: dict[str, list[Alert]] = defaultdict(list)
    unmapped = 0
    for alert in alerts:
        event = event_of.get(alert.article_id)
        if event is None:
            unmapped += 1
            continue
        alerts_by_event[event].append(alert)

    fields: dict[str, FieldScore] = {}
    sequences: list[IncidentSequence] = []
    for field in FIGURE_FIELDS:
        tp = n_alerts = n_gold = 0
        for event, records in by_event.items():
            gold = _gold_changes(records, field)
            gold_set = set(gold)
            field_alerts = [a for a in alerts_by_event[event] if a.field == field and a.kind in FIGURE_ALERT_KINDS]
            n_gold += len(gold)
            n_alerts += len(field_alerts)
            tp += sum(1 for a in field_alerts if (a.article_id, a.current) in gold_set)
            if field == "killed":
                sequences.append(IncidentSequence(
                    event=event, field=field,
                    gold=[_gold_value(r, field) for r in records],
                    alerted=[int(a.current) for a in field_alerts],
                ))
        fields[field] = FieldScore(field=field, true_positives=tp, alerts=n_alerts, gold_changes=n_gold)

    tp = n_alerts = n_gold = 0
    for event, records in by_event.items():
        gold_parties = {party for _, party in _gold_claims(records)}
        claims = [a for a in alerts_by_event[event] if a.kind is AlertKind.CLAIM]
        n_gold += len(gold_parties)
        n_alerts += len(claims)
        tp += len({a.current for a in claims} & gold_parties)
    fields["claimed_by"] = FieldScore(field="claimed_by", true_positives=tp, alerts=n_alerts, gold_changes=n_gold)
    return ReplayScore(fields=fields, sequences=sequences, unmapped_alerts=unmapped)


def _fmt(values: list[int | None]) -> str:
    return " → ".join("–" if v is None else str(v) for v in values)


def run_replay_eval(gold_path: Path, alerts_path: Path, *, out: TextIO) -> ReplayScore:
    gold = [json.loads(line) for line in gold_path.read_text().splitlines() if line.strip()]
    alerts = [Alert.model_validate_json(line) for line in alerts_path.read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    score = score_replay(gold, alerts)
    print("killed, per incident: gold values of its articles (file order) vs alerted values", file=out)
    for seq in score.sequences:
        print(f"  {seq.event}", file=out)
        print(f"    gold    {_fmt(seq.gold)}", file=out)
        print(f"    alerted {_fmt(list(seq.alerted))}", file=out)
    print(f"\n{'field':<14}{'alerts':>8}{'gold':>7}{'TP':>6}{'precision':>11}{'recall':>8}", file=out)
    for fs in score.fields.values():
        print(f"{fs.field:<14}{fs.alerts:>8}{fs.gold_changes:>7}{fs.true_positives:>6}"
              f"{fs.precision:>11.3f}{fs.recall:>8.3f}", file=out)
    if score.unmapped_alerts:
        print(f"({score.unmapped_alerts} alert(s) for articles not in the gold file)", file=out)
    return score
