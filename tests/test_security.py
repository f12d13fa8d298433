"""SASL/SCRAM and TLS settings reach every Kafka client, and the password shows up nowhere."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import pytest
from prometheus_client import generate_latest
from pydantic import ValidationError

from stream import clients, metrics
from stream.config import Settings

PASSWORD = "hunter2-s3cret-Pa55"
ENV = {
    "KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "tollwatch",
    "KAFKA_SASL_PASSWORD": PASSWORD,
}


@pytest.fixture()
def settings() -> Settings:
    return Settings.from_env(ENV)


def test_password_is_in_no_repr_str_or_dump(settings: Settings) -> None:
    assert settings.sasl_password is not None and settings.sasl_password.get_secret_value() == PASSWORD
    for text in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump()),
                 str(settings.model_dump(mode="json")), repr(settings.kafka_python_security()),
                 repr(settings.aiokafka_security()), f"{settings!r}"):
        assert PASSWORD not in text


def test_password_is_in_no_validation_error() -> None:
    with pytest.raises(ValidationError) as err:
        Settings.from_env({**ENV, "TOLLWATCH_PARTITIONS": "0"})
    assert PASSWORD not in str(err.value) and PASSWORD not in repr(err.value)
    with pytest.raises(ValidationError) as err:
        Settings.from_env({**ENV, "KAFKA_SASL_USERNAME": ""})
    assert "KAFKA_SASL_USERNAME" in str(err.value) and PASSWORD not in str(err.value)


def test_sasl_without_credentials_or_with_an_unknown_mechanism_is_refused() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_PASSWORD"):
        Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u"})
    with pytest.raises(ValidationError, match="SCRAM-SHA-256"):
        Settings.from_env({**ENV, "KAFKA_SASL_MECHANISM": "SCRAM-MD5"})


def test_unreadable_tls_file_is_an_actionable_error(settings: Settings) -> None:
    broken = settings.model_copy(update={"ssl_cafile": "/nonexistent/ca.pem"})
    with pytest.raises(ValueError, match=r"KAFKA_SSL_CAFILE=/nonexistent/ca\.pem is not a readable file"):
        broken.ssl_context()


def _capture(monkeypatch: pytest.MonkeyPatch, name: str, calls: list[dict[str, Any]]) -> None:
    class Fake:
        def __init__(self, **kwargs: Any) -> None:
            calls.append({"client": name, **kwargs})

        def __getattr__(self, attr: str) -> Any:
            raise RuntimeError("captured")  # stop at the first use: only the constructor matters

    monkeypatch.setattr(clients, name, Fake)


def _assert_secured(kwargs: dict[str, Any]) -> None:
    assert kwargs["security_protocol"] == "SASL_SSL", kwargs["client"]
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512", kwargs["client"]
    assert kwargs["sasl_plain_username"] == "tollwatch", kwargs["client"]
    assert kwargs["sasl_plain_password"] == PASSWORD, kwargs["client"]  # the client gets the real one
    assert PASSWORD not in repr(kwargs)  # ... which a logged config dict does not show


def test_every_kafka_python_client_gets_the_credentials(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    calls: list[dict[str, Any]] = []
    for name in ("KafkaProducer", "KafkaConsumer", "KafkaAdminClient"):
        _capture(monkeypatch, name, calls)
    clients.producer(settings)
    for attempt in (
        lambda: clients.ensure_topics(settings),
        lambda: clients.publish_raw(settings, [b"x"]),
        lambda: next(clients.tail(settings, "alerts", from_beginning=True)),
        lambda: clients.end_offsets(settings, ["alerts"]),
        lambda: clients.wait_drained(settings, topics=["articles"], timeout=1),
    ):
        with pytest.raises(RuntimeError, match="captured"):
            attempt()
    assert {c["client"] for c in calls} == {"KafkaProducer", "KafkaConsumer", "KafkaAdminClient"}
    assert len(calls) >= 6
    for kwargs in calls:
        _assert_secured(kwargs)
        assert kwargs["bootstrap_servers"] == ["k1:9093", "k2:9093"]


def test_aiokafka_producer_gets_credentials_and_ssl_context(monkeypatch: pytest.MonkeyPatch,
                                                            settings: Settings) -> None:
    import aiokafka

    calls: list[dict[str, Any]] = []

    class Fake:
        def __init__(self, **kwargs: Any) -> None:
            calls.append({"client": "AIOKafkaProducer", **kwargs})

    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", Fake)
    clients.aiokafka_producer(settings, linger_ms=5)
    [kwargs] = calls
    _assert_secured(kwargs)
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext) and kwargs["linger_ms"] == 5


def test_bench_publisher_uses_the_secured_factory(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    from stream import bench_stream

    seen: list[Settings] = []

    class Stop(Exception):
        pass

    def fake(given: Settings, **options: object) -> None:
        seen.append(given)
        raise Stop

    monkeypatch.setattr(bench_stream, "aiokafka_producer", fake)
    with pytest.raises(Stop):
        asyncio.run(bench_stream._publish(settings, "articles", []))
    assert seen == [settings]


def test_faust_app_gets_scram_credentials_and_tls(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    import faust

    from stream.app import _credentials, create_app

    credentials = _credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.mechanism.value == "SCRAM-SHA-512" and credentials.username == "tollwatch"
    assert credentials.password == PASSWORD and isinstance(credentials.ssl_context, ssl.SSLContext)
    assert PASSWORD not in repr(credentials)

    caplog.set_level(logging.DEBUG)
    app = create_app(settings)
    assert app.conf.broker_credentials is credentials or app.conf.broker_credentials.password == PASSWORD
    assert PASSWORD not in generate_latest(metrics.REGISTRY).decode()  # nothing secret on /metrics
    assert PASSWORD not in caplog.text


def test_tls_only_gives_ssl_credentials(settings: Settings) -> None:
    import faust

    from stream.app import _credentials

    tls = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "k:9093", "KAFKA_SECURITY_PROTOCOL": "SSL"})
    credentials = _credentials(tls)
    assert isinstance(credentials, faust.SSLCredentials) and isinstance(credentials.context, ssl.SSLContext)
    assert "ssl_context" in tls.aiokafka_security() and "sasl_plain_password" not in tls.aiokafka_security()
    assert _credentials(Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})) is None
