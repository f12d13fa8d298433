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

Incident resolution is scored from the alerts' keys (issue 10): ``merged`` alerts say that
one key became another, so every key is followed to the key it ended as. Each alerted
article takes the final key of its alerts; pairs of alerted articles are then compared with
the gold events (pairwise precision/recall/F1: a pair is predicted together when the two
articles share a key, gold together when they share an event). Per gold event we also count
its keys, duplicate first reports (a second ``first_report`` of one field under one key) and
duplicate claims (a party claimed twice under one key), and check the final killed value: the
value standing after the last figure alert (conflicts leave it standing) of the event's main
key against the gold value of its last article that states one (file order).
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


class EventResolution(BaseModel):
    """How one gold event came out of the pipeline's incident resolution."""

    event: str
    keys: list[str]
    duplicate_first_reports: int
    duplicate_claims: int
    final_killed: int | None
    gold_final_killed: int | None

    @property
    def final_right(self) -> bool:
        return self.final_killed == self.gold_final_killed


class ResolutionScore(BaseModel):
    events: list[EventResolution]
    keys: int
    pair_precision: float
    pair_recall: float

    @property
    def pair_f1(self) -> float:
        p, r = self.pair_precision, self.pair_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def final_right(self) -> int:
        return sum(e.final_right for e in self.events)


class ReplayScore(BaseModel):
    fields: dict[str, FieldScore]
    sequences: list[IncidentSequence]
    unmapped_alerts: int
    resolution: ResolutionScore


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


def final_keys(alerts: list[Alert]) -> dict[str, str]:
    """Every key seen in the alerts -> the key it ended as, following ``merged`` alerts."""
    parent: dict[str, str] = {}
    for alert in alerts:
        parent.setdefault(alert.event_key, alert.event_key)
        if alert.kind is AlertKind.MERGED and isinstance(alert.previous, str):
            parent[alert.previous] = str(alert.current)
            parent.setdefault(str(alert.current), str(alert.current))

    def root(key: str) -> str:
        seen: set[str] = set()
        while parent.get(key, key) != key and key not in seen:
            seen.add(key)
            key = parent[key]
        return key

    return {key: root(key) for key in parent}


def _standing_value(alerts: list[Alert]) -> int | None:
    value: int | None = None
    for alert in alerts:
        if alert.field == "killed" and alert.kind in FIGURE_ALERT_KINDS - {AlertKind.CONFLICT}:
            value = int(alert.current)
    return value


def score_resolution(gold_records: list[dict], alerts: list[Alert]) -> ResolutionScore:
    """Keys per gold event, pairwise article clustering, duplicates and final killed values."""
    event_of = {r["id"]: r["event"] for r in gold_records}
    final = final_keys(alerts)
    article_key: dict[str, str] = {}
    by_key: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        key = final[alert.event_key]
        by_key[key].append(alert)
        if alert.kind is not AlertKind.MERGED and alert.article_id in event_of:
            article_key.setdefault(alert.article_id, key)
    articles = sorted(article_key)
    together = gold_together = both = 0
    for i, first in enumerate(articles):
        for second in articles[i + 1:]:
            same_key = article_key[first] == article_key[second]
            same_event = event_of[first] == event_of[second]
            together += same_key
            gold_together += same_event
            both += same_key and same_event
    events: list[EventResolution] = []
    by_event: dict[str, list[dict]] = defaultdict(list)
    for record in gold_records:
        by_event[record["event"]].append(record)
    for event, records in by_event.items():
        ids = [r["id"] for r in records]
        key_counts: dict[str, int] = defaultdict(int)
        for article in ids:
            if article in article_key:
                key_counts[article_key[article]] += 1
        keys = sorted(key_counts, key=lambda k: (-key_counts[k], k))
        dup_first = dup_claims = 0
        for key in keys:
            firsts = [a.field for a in by_key[key] if a.kind is AlertKind.FIRST_REPORT]
            claims = [str(a.current).casefold() for a in by_key[key] if a.kind is AlertKind.CLAIM]
            dup_first += len(firsts) - len(set(firsts))
            dup_claims += len(claims) - len(set(claims))
        gold_values = [v for v in (_gold_value(r, "killed") for r in records) if v is not None]
        events.append(EventResolution(
            event=event,
            keys=keys,
            duplicate_first_reports=dup_first,
            duplicate_claims=dup_claims,
            final_killed=_standing_value(by_key[keys[0]]) if keys else None,
            gold_final_killed=gold_values[-1] if gold_values else None,
        ))
    return ResolutionScore(
        events=events,
        keys=len({article_key[a] for a in articles}),
        pair_precision=both / together if together else 1.0,
        pair_recall=both / gold_together if gold_together else 1.0,
    )


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
    return ReplayScore(fields=fields, sequences=sequences, unmapped_alerts=unmapped,
                       resolution=score_resolution(gold_records, alerts))


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
    res = score.resolution
    print(f"\nincident resolution: {res.keys} key(s) for {len(res.events)} gold event(s); pairwise "
          f"precision {res.pair_precision:.3f} recall {res.pair_recall:.3f} F1 {res.pair_f1:.3f}; "
          f"final killed right {res.final_right}/{len(res.events)}", file=out)
    for ev in res.events:
        flags = []
        if ev.duplicate_first_reports:
            flags.append(f"{ev.duplicate_first_reports} duplicate first report(s)")
        if ev.duplicate_claims:
            flags.append(f"{ev.duplicate_claims} duplicate claim(s)")
        if not ev.final_right:
            flags.append(f"final killed {ev.final_killed} (gold {ev.gold_final_killed})")
        print(f"  {ev.event}: {', '.join(ev.keys) or 'no key'}{'  — ' + '; '.join(flags) if flags else ''}",
              file=out)
    if score.unmapped_alerts:
        print(f"({score.unmapped_alerts} alert(s) for articles not in the gold file)", file=out)
    return score
