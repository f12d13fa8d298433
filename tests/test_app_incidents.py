"""Integration tests of incident state and alerts through the embedded broker and a worker."""

from __future__ import annotations

import json
import time

import pytest

from stream.models import Alert, AlertKind, Article
from stream.runner import LocalStack
from stream.state_dir import CLEAN_STOP_MARKER
from tests.helpers import alerts, publish_and_drain

pytestmark = pytest.mark.integration


def art(article_id: str, published: str, text: str, source: str) -> Article:
    return Article(id=article_id, text=text, published=published, source=source)


FIRST = art(
    "mosul-1", "2025-03-02T10:00:00Z",
    "A car bomb exploded at a crowded market in the Iraqi city of Mosul on Sunday, killing at least 30 people "
    "and wounding 52, police said.",
    "wire-one.example",
)
REVISED = art(
    "mosul-2", "2025-03-03T09:00:00Z",
    "Iraqi officials on Monday revised the death toll from Sunday's car bombing in Mosul down from 30 to 24, "
    "saying several victims had been counted twice.",
    "daily-two.example",
)
LATE = art(
    "mosul-late", "2025-03-02T13:00:00Z",
    "The car bombing at a market in the northern Iraqi city of Mosul on Sunday killed 27 people, a hospital "
    "official said.",
    "weekly-three.example",
)
NEXT_WEEK = art(
    "mosul-3", "2025-03-09T18:00:00Z",
    "Another car bomb struck a bus station in Mosul, Iraq on Sunday, killing 11 people, a week after a market "
    "bombing in the same city.",
    "wire-one.example",
)


def killed(alert_list: list[Alert]) -> list[tuple[str, AlertKind, int | str]]:
    return [(a.article_id, a.kind, a.current) for a in alert_list if a.field == "killed"]


def test_revision_late_arrival_duplicate_and_next_incident(stack: LocalStack) -> None:
    publish_and_drain(stack, [FIRST, REVISED])
    got = alerts(stack)
    assert killed(got) == [("mosul-1", AlertKind.FIRST_REPORT, 30), ("mosul-2", AlertKind.REVISED_DOWN, 24)]
    revision = next(a for a in got if a.kind is AlertKind.REVISED_DOWN)
    assert revision.previous == 30 and revision.source == "daily-two.example" and "24" in (revision.evidence or "")
    event_key = revision.event_key

    # Published before the revision but arriving after it: history only, no roll-back, no figure
    # alert; its 27 does back "24 or more", so a third outlet corroborates the standing 24.
    publish_and_drain(stack, [LATE])
    # The same article twice: nothing new.
    publish_and_drain(stack, [REVISED])
    assert killed(alerts(stack)) == [*killed(got), ("mosul-late", AlertKind.CORROBORATED, 24)]
    assert revision.sources == 2  # wire-one's "at least 30" backs 24 too
    detail = json.loads(stack.worker.get(f"/incidents/{event_key}") or b"{}")
    assert "mosul-late" in json.dumps(detail)
    listing = json.loads(stack.worker.get("/incidents") or b"{}")
    [mosul] = [i for i in listing["incidents"] if i["event_key"] == event_key]
    assert json.dumps(mosul).count("24") >= 1

    # Same city a week later: a different incident with its own first report.
    publish_and_drain(stack, [NEXT_WEEK])
    week = [a for a in alerts(stack) if a.article_id == "mosul-3" and a.field == "killed"]
    assert [(a.kind, a.current) for a in week] == [(AlertKind.FIRST_REPORT, 11)]
    assert week[0].event_key != event_key


def test_outlets_naming_the_incident_differently_are_merged(stack: LocalStack) -> None:
    a = art("quake-a", "2025-06-10T04:00:00Z",
            "A powerful earthquake struck near Herat in western Afghanistan on Tuesday, killing at least 120 "
            "people, officials said.", "one.example")
    b = art("quake-b", "2025-06-10T20:00:00Z",
            "The death toll from Tuesday's earthquake in Afghanistan's Herat province has risen to 310, the "
            "disaster ministry said.", "two.example")
    publish_and_drain(stack, [a, b])
    got = killed(alerts(stack))
    assert got == [("quake-a", AlertKind.FIRST_REPORT, 120), ("quake-b", AlertKind.REVISED_UP, 310)]
    assert len({x.event_key for x in alerts(stack)}) == 1


def test_restart_recovers_state_from_the_changelog(stack: LocalStack) -> None:
    publish_and_drain(stack, [FIRST])
    before = alerts(stack)
    assert killed(before) == [("mosul-1", AlertKind.FIRST_REPORT, 30)]
    assert stack.worker is not None
    stack.worker.stop()
    # A new worker with an EMPTY state directory: the table must come back from its changelog topic.
    stack.worker = stack.new_worker(name="worker-2").start()
    publish_and_drain(stack, [FIRST, REVISED])
    after = alerts(stack)
    assert killed(after) == [("mosul-1", AlertKind.FIRST_REPORT, 30), ("mosul-2", AlertKind.REVISED_DOWN, 24)]
    assert len({a.alert_id for a in after}) == len(after)


def test_state_survives_a_clean_stop_and_is_rebuilt_after_a_kill(stack: LocalStack) -> None:
    publish_and_drain(stack, [FIRST])
    worker = stack.worker
    assert worker is not None
    worker.stop()
    assert (worker.data_dir / CLEAN_STOP_MARKER).exists()  # Faust stopped: its state may be reused
    stack.worker = stack.new_worker(name="worker", data_dir=worker.data_dir).start()
    assert not (worker.data_dir / CLEAN_STOP_MARKER).exists()
    assert "did not stop cleanly" not in stack.worker.log_tail(200)
    stack.worker.kill()  # its local state may now be ahead of the changelog
    stack.worker = stack.new_worker(name="worker", data_dir=worker.data_dir).start()
    assert "did not stop cleanly" in stack.worker.log_tail(200)
    publish_and_drain(stack, [FIRST, REVISED])  # the table came back from the changelog
    assert killed(alerts(stack)) == [("mosul-1", AlertKind.FIRST_REPORT, 30), ("mosul-2", AlertKind.REVISED_DOWN, 24)]


def test_idle_incident_is_closed_and_its_series_removed() -> None:
    ttl_days = 2 / 86400  # two seconds
    with LocalStack(env={"TOLLWATCH_INCIDENT_TTL_DAYS": str(ttl_days), "TOLLWATCH_EXPIRY_INTERVAL": "0.5"}) as stack:
        assert stack.worker is not None
        publish_and_drain(stack, [FIRST])
        [alert] = [a for a in alerts(stack) if a.field == "killed"]
        deadline = time.monotonic() + 30
        listing: list = [None]
        while time.monotonic() < deadline and listing:
            listing = json.loads(stack.worker.get("/incidents") or b'{"incidents": [null]}')["incidents"]
            time.sleep(0.5)
        assert listing == [], "the idle incident was not closed"
        assert f'event_key="{alert.event_key}"' not in (stack.worker.get("/metrics") or b"").decode()
        assert stack.worker.get(f"/incidents/{alert.event_key}") is None  # 404 now
