"""Whether this worker is ready to serve: what ``GET /ready`` answers.

The web server starts before the consumer joins its group, so ``/metrics`` answering says
only that the process is up. A worker is *ready* once

1. it has been given its partitions (Faust's ``app.on_partitions_assigned`` signal has fired
   at least once: the group has formed),
2. no rebalance is under way (``app.rebalancing``: a rebalance revokes every partition until
   the new assignment is recovered), and
3. its tables are recovered from their changelogs (``app.tables.recovery.completed`` is set
   once per process after the first recovery, and ``app.in_recovery`` is true while a later
   rebalance restores partitions).

Until then the read API may answer from a partial table, and alerts may lag: ``/ready``
answers 503 with the reason, so a load balancer, the Docker health check and the tests wait.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from pydantic import BaseModel

logger = logging.getLogger(__name__)


class ReadyState(BaseModel):
    """The body of ``/ready``."""

    ready: bool
    reason: str
    #: Partitions of the incidents table this worker is active for (once assigned).
    partitions: list[int] = []


class Readiness:
    """Tracks the assignment through Faust's signals and reads its recovery flags."""

    def __init__(self, app: faust.App, *, table: faust.types.CollectionT) -> None:
        self.app = app
        self.table = table
        self.assignments = 0
        # Faust's signal typing wants a ``signal`` keyword the receiver takes through **kwargs.
        app.on_partitions_assigned.connect(self._on_assigned)  # type: ignore[arg-type]

    async def _on_assigned(self, sender: Any, assigned: set[faust.types.TP], **kwargs: Any) -> None:
        self.assignments += 1
        logger.info("partitions assigned (assignment %d): %d topic partitions", self.assignments, len(assigned))

    def active_partitions(self) -> list[int]:
        """Partitions of the table's changelog this worker is active for."""
        topic = self.table.changelog_topic.get_topic_name()
        return sorted(tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == topic)

    def state(self) -> ReadyState:
        app = self.app
        if self.assignments == 0:
            return ReadyState(ready=False, reason="waiting for the consumer group to assign partitions")
        if app.rebalancing:
            return ReadyState(ready=False, reason="rebalancing")
        # ``TableManagerT`` does not declare ``recovery``; the concrete TableManager has it.
        if app.in_recovery or not app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return ReadyState(ready=False, reason="recovering tables from their changelogs")
        return ReadyState(ready=True, reason="partitions assigned and tables recovered",
                          partitions=self.active_partitions())
