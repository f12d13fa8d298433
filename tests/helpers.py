"""Helpers for integration tests: publish, wait for the worker to drain, read topics."""

from __future__ import annotations

import json
from collections.abc import Iterable

from stream.clients import publish, publish_raw, tail, wait_drained
from stream.models import Alert, Article, DeadLetter
from stream.runner import LocalStack


def drain(stack: LocalStack, *, timeout: float = 90.0) -> None:
    settings = stack.settings
    topics = [settings.topic_articles, settings.topic_extractions]
    wait_drained(settings, topics=topics, timeout=timeout)
    wait_drained(settings, topics=topics, timeout=timeout)


def read_all(stack: LocalStack, topic: str) -> list[bytes]:
    """Every record value of ``topic`` from the beginning up to its current end."""
    return list(tail(stack.settings, topic, from_beginning=True, stop=lambda: True))


def alerts(stack: LocalStack) -> list[Alert]:
    return [Alert.model_validate(json.loads(v)) for v in read_all(stack, stack.settings.topic_alerts)]


def dead_letters(stack: LocalStack) -> list[DeadLetter]:
    return [DeadLetter.model_validate(json.loads(v)) for v in read_all(stack, stack.settings.topic_dead_letter)]


def publish_and_drain(stack: LocalStack, articles: Iterable[Article]) -> None:
    publish(stack.settings, list(articles), ordered=True)
    drain(stack)


def publish_raw_and_drain(stack: LocalStack, payloads: Iterable[bytes]) -> None:
    publish_raw(stack.settings, list(payloads), partition=0)
    drain(stack)
