from __future__ import annotations

import pytest
from pydantic import ValidationError

from stream.config import Settings


def test_environment_overrides_defaults() -> None:
    settings = Settings.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "TOLLWATCH_TOPIC_ALERTS": "desk-alerts", "TOLLWATCH_PARTITIONS": "4"}
    )
    assert settings.broker_url == "kafka://k1:9092;kafka://k2:9092"
    assert settings.topic_alerts == "desk-alerts" and settings.partitions == 4
    assert settings.topic_articles == "articles"


def test_explicit_override_beats_environment() -> None:
    settings = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": "env:1"}, bootstrap_servers="cli:2")
    assert settings.bootstrap_list == ["cli:2"]


def test_no_bootstrap_is_an_actionable_error() -> None:
    with pytest.raises(ValueError, match="KAFKA_BOOTSTRAP_SERVERS"):
        _ = Settings.from_env({}).broker_url


def test_sasl_ssl_options_for_kafka_python() -> None:
    settings = Settings.from_env(
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": "u",
            "KAFKA_SASL_PASSWORD": "p",
            "KAFKA_SSL_CAFILE": "/ca.pem",
        }
    )
    options = settings.kafka_python_security()
    assert options["sasl_mechanism"] == "SCRAM-SHA-512" and options["ssl_cafile"] == "/ca.pem"


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings.from_env({"TOLLWATCH_PARTITIONS": "0"})
    with pytest.raises(ValidationError):
        Settings.from_env({"KAFKA_SECURITY_PROTOCOL": "TLS"})


def test_faust_metrics_are_opt_in() -> None:
    assert Settings.from_env({}).faust_metrics is False
    assert Settings.from_env({"TOLLWATCH_FAUST_METRICS": "1"}).faust_metrics is True
    with pytest.raises(ValidationError):
        Settings.from_env({"TOLLWATCH_FAUST_METRICS": "sometimes"})


def test_producer_batches_hold_dozens_of_table_records_and_fit_a_kafka_message() -> None:
    default = Settings.from_env({}).producer_batch_bytes
    assert default >= 32 * 16 * 1024  # a fold writes ~16 KB to its country's changelog partition
    assert Settings.from_env({"TOLLWATCH_PRODUCER_BATCH_BYTES": "65536"}).producer_batch_bytes == 65536
    for wrong in ("2000000", "1024"):  # over Kafka's default max.message.bytes; under one record
        with pytest.raises(ValidationError):
            Settings.from_env({"TOLLWATCH_PRODUCER_BATCH_BYTES": wrong})
