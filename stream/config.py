"""Runtime settings, read from the environment so the same image runs on tansu or a real cluster."""

from __future__ import annotations

import logging
import os
import socket
import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

logger = logging.getLogger(__name__)

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
#: What kafka-python, aiokafka and Faust all support with a username and password.
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class RedactedStr(str):
    """The password as handed to a Kafka client: a real ``str`` (the client encodes it), whose
    repr is masked, because kafka-python's admin client logs its whole config dict at DEBUG."""

    def __repr__(self) -> str:
        return "'**********'"


def default_data_dir(env: dict[str, str] | None = None) -> Path:
    """Where table state lives when ``TOLLWATCH_DATA_DIR`` is unset: the user's state directory
    (``$XDG_STATE_HOME/tollwatch``, else ``~/.local/state/tollwatch``), so a worker finds the same
    state whatever directory it was started from."""
    env = dict(os.environ if env is None else env)
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "tollwatch"


class Settings(BaseModel):
    """Everything a worker or CLI command needs to find its broker and topics."""

    # A validation error would otherwise quote its input, and a model-level error's input is
    # every setting, the password included.
    model_config = ConfigDict(hide_input_in_errors=True)

    bootstrap_servers: str | None = Field(
        default=None, description="host:port[,host:port]; None means start/use the embedded broker."
    )
    topic_articles: str = "articles"
    topic_extractions: str = "tollwatch-extractions"
    topic_alerts: str = "alerts"
    topic_dead_letter: str = "articles-dead-letter"
    partitions: int = Field(default=8, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    app_id: str = "tollwatch"
    web_port: int = 6066
    web_host: str = "0.0.0.0"
    canonical_url: str | None = Field(
        default=None,
        description="How other workers reach this one's web server (table routing); "
        "default http://<web host, or this host's name when it binds every address>:<web port>.",
    )
    data_dir: Path = Field(default_factory=default_data_dir, description="RocksDB table state.")
    incident_ttl_days: float = Field(default=14.0, gt=0)
    expiry_interval_s: float = Field(default=60.0, gt=0, description="How often idle incidents are closed.")
    rebalance_timeout_s: float = Field(default=3.0, gt=0)
    store: str = "rocksdb://"
    faust_metrics: bool = Field(
        default=False,
        description="Also export Faust's own sensor metrics (faust_*) at /metrics. Off by default: "
        "they are updated on every message, send and table access (the worker used about 15 % more "
        "CPU per article with them), and neither the dashboard nor the alert rules use them.",
    )
    producer_batch_bytes: int = Field(
        default=512 * 1024,
        ge=16 * 1024,
        le=1_000_000,
        description="Largest batch of records the worker's producer sends to one partition in one "
        "request (Faust's producer_max_batch_size, default 16 KB). The producer has one request in "
        "flight per broker, carrying one batch per partition, and a fold writes about 16 KB to its "
        "country's changelog partition (the index of a full book): with 16 KB batches one busy "
        "country's writes went one article per round trip, and its alerts, which wait for those "
        "writes, queued (a single-country burst at 100 articles/s: p99 591 ms, 104 ms with 1 MB "
        "batches). At most 1,000,000: a batch must fit Kafka's default max.message.bytes.",
    )
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = Field(default=None, description="Default PLAIN under SASL_*.")
    sasl_username: str | None = None
    sasl_password: SecretStr | None = Field(
        default=None, description="Never in a repr, a log line or model_dump_json (SecretStr)."
    )
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Settings:
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_USERNAME and "
                "KAFKA_SASL_PASSWORD (and KAFKA_SASL_MECHANISM, default PLAIN, e.g. SCRAM-SHA-512)"
            )
        return self

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, /, **overrides: Any) -> Settings:
        env = dict(os.environ if env is None else env)
        mapping = {
            "bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
            "topic_articles": "TOLLWATCH_TOPIC_ARTICLES",
            "topic_extractions": "TOLLWATCH_TOPIC_EXTRACTIONS",
            "topic_alerts": "TOLLWATCH_TOPIC_ALERTS",
            "topic_dead_letter": "TOLLWATCH_TOPIC_DEAD_LETTER",
            "partitions": "TOLLWATCH_PARTITIONS",
            "replication_factor": "TOLLWATCH_REPLICATION_FACTOR",
            "app_id": "TOLLWATCH_APP_ID",
            "web_port": "TOLLWATCH_WEB_PORT",
            "web_host": "TOLLWATCH_WEB_HOST",
            "canonical_url": "TOLLWATCH_CANONICAL_URL",
            "data_dir": "TOLLWATCH_DATA_DIR",
            "incident_ttl_days": "TOLLWATCH_INCIDENT_TTL_DAYS",
            "expiry_interval_s": "TOLLWATCH_EXPIRY_INTERVAL",
            "rebalance_timeout_s": "TOLLWATCH_REBALANCE_TIMEOUT",
            "store": "TOLLWATCH_STORE",
            "faust_metrics": "TOLLWATCH_FAUST_METRICS",
            "producer_batch_bytes": "TOLLWATCH_PRODUCER_BATCH_BYTES",
            "security_protocol": "KAFKA_SECURITY_PROTOCOL",
            "sasl_mechanism": "KAFKA_SASL_MECHANISM",
            "sasl_username": "KAFKA_SASL_USERNAME",
            "sasl_password": "KAFKA_SASL_PASSWORD",
            "ssl_cafile": "KAFKA_SSL_CAFILE",
            "ssl_certfile": "KAFKA_SSL_CERTFILE",
            "ssl_keyfile": "KAFKA_SSL_KEYFILE",
        }
        values: dict[str, object] = {name: env[var] for name, var in mapping.items() if env.get(var)}
        values.setdefault("data_dir", default_data_dir(env))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    @property
    def broker_url(self) -> str:
        """Faust's broker URL (one ``kafka://`` per host)."""
        if not self.bootstrap_servers:
            raise ValueError(
                "no Kafka bootstrap address: set KAFKA_BOOTSTRAP_SERVERS=host:port or start the "
                "embedded broker (tollwatch broker)"
            )
        hosts = [h.strip() for h in self.bootstrap_servers.split(",") if h.strip()]
        return ";".join(f"kafka://{h}" for h in hosts)

    @property
    def advertised_url(self) -> str:
        """The URL this worker gives the other workers for its web server.

        Faust's default (``http://<web_host>:<web_port>``) would advertise ``0.0.0.0`` when the
        server binds every address, so two workers could neither reach each other nor tell
        themselves apart; the host name stands in (in Docker Compose it is the container id,
        which resolves on the compose network).
        """
        if self.canonical_url:
            return self.canonical_url.rstrip("/")
        host = self.web_host
        if host in {"", "0.0.0.0", "::"}:  # compared, not bound
            host = socket.gethostname()
        return f"http://{host}:{self.web_port}"

    @property
    def bootstrap_list(self) -> list[str]:
        return [h.strip() for h in (self.bootstrap_servers or "").split(",") if h.strip()]

    def password(self) -> RedactedStr | None:
        """The SASL password for a client library (a str with a masked repr)."""
        return RedactedStr(self.sasl_password.get_secret_value()) if self.sasl_password is not None else None

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of SSL/SASL_SSL (CA file, client certificate), None otherwise."""
        if not self.security_protocol.endswith("SSL"):
            return None
        for name, path in (("KAFKA_SSL_CAFILE", self.ssl_cafile), ("KAFKA_SSL_CERTFILE", self.ssl_certfile),
                           ("KAFKA_SSL_KEYFILE", self.ssl_keyfile)):
            if path and not os.access(path, os.R_OK):
                raise ValueError(f"{name}={path} is not a readable file")
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def _sasl_options(self) -> dict[str, object]:
        """The protocol and SASL keywords aiokafka and kafka-python name alike."""
        options: dict[str, object] = {"security_protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL"):
            options.update(
                sasl_mechanism=self.sasl_mechanism or "PLAIN",
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.password(),
            )
        return options

    def aiokafka_security(self) -> dict[str, object]:
        """Keyword arguments for aiokafka clients (the same settings as Faust's credentials)."""
        options = self._sasl_options()
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        return options

    def kafka_python_security(self) -> dict[str, object]:
        """Keyword arguments for kafka-python clients (admin, CLI producer/consumer)."""
        options = self._sasl_options()
        if self.security_protocol.endswith("SSL"):
            options.update(
                ssl_cafile=self.ssl_cafile, ssl_certfile=self.ssl_certfile, ssl_keyfile=self.ssl_keyfile
            )
        return options
