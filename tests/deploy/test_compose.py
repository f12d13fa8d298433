"""docker-compose.yml: Compose-spec schema validation and structural facts.

No Docker engine is needed: the file is validated with check-jsonschema's
vendored Compose specification schema and then read as data, with
`${VAR:-default}` interpolation resolved to the defaults.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from ._util import COMPOSE_FILE, DOCKERFILE, GRAFANA_DIR, PROMETHEUS_DIR, REPO

EXPECTED_PARTITIONS = {
    "articles": 8,
    "tollwatch-extractions": 8,
    "alerts": 8,
    "articles-dead-letter": 8,
}
WORKER_ENV = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_SECURITY_PROTOCOL",
    "TOLLWATCH_TOPIC_ARTICLES",
    "TOLLWATCH_TOPIC_ALERTS",
    "TOLLWATCH_TOPIC_DEAD_LETTER",
    "TOLLWATCH_PARTITIONS",
    "TOLLWATCH_WEB_PORT",
    "TOLLWATCH_DATA_DIR",
    "TOLLWATCH_INCIDENT_TTL_DAYS",
}

_INTERP = re.compile(r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: dict[str, str] | None = None) -> Any:
    """Resolve Compose interpolation the way `docker compose config` does for
    an environment without the variables (so defaults apply)."""
    env = env or {}
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("braced") or m.group("plain")
        op, arg = m.group("op"), m.group("arg") or ""
        current = env.get(name)
        if op in (":-", "-"):
            unset = current is None or (op == ":-" and current == "")
            return arg if unset else current
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                raise KeyError(f"required variable {name}: {arg}")
            return current
        if op in (":+", "+"):
            return arg if current else ""
        return current or ""

    return _INTERP.sub(repl, value)


@pytest.fixture(scope="module")
def compose(yaml_loader) -> dict[str, Any]:
    return interpolate(yaml_loader(COMPOSE_FILE))


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command_text(service: dict[str, Any]) -> str:
    cmd = service.get("command", "")
    return "\n".join(cmd) if isinstance(cmd, list) else str(cmd)


def bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """host path (relative to the repo) -> container path, for bind mounts."""
    out = {}
    for vol in service.get("volumes", []):
        if isinstance(vol, str):
            parts = vol.split(":")
            if parts[0].startswith((".", "/")):
                out[parts[0]] = parts[1]
        elif vol.get("type") == "bind":
            out[vol["source"]] = vol["target"]
    return out


# --- schema ---------------------------------------------------------------------------
def test_compose_file_matches_the_compose_specification(check_jsonschema_path: str) -> None:
    proc = subprocess.run(
        [check_jsonschema_path, "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_rejects_a_broken_file(check_jsonschema_path: str, tmp_path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(COMPOSE_FILE.read_text(encoding="utf-8").replace("    restart: \"no\"", "    restrat: \"no\""), encoding="utf-8")
    proc = subprocess.run(
        [check_jsonschema_path, "--builtin-schema", "vendor.compose-spec", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0 and "restrat" in proc.stdout + proc.stderr


# --- services -------------------------------------------------------------------------
def test_services(compose) -> None:
    assert set(compose["services"]) >= {"kafka", "kafka-init", "worker", "prometheus", "grafana"}
    images = {name: svc.get("image", "") for name, svc in compose["services"].items()}
    assert images["kafka"].startswith("apache/kafka:")
    assert images["kafka-init"] == images["kafka"]
    assert images["prometheus"].startswith("prom/prometheus:")
    assert images["grafana"].startswith("grafana/grafana:")
    for name, image in images.items():
        if image and name != "worker":
            assert not image.endswith(":latest") and ":" in image, f"{name}: pin the image version"


def test_kafka_runs_in_kraft_mode(compose) -> None:
    env = env_of(compose["services"]["kafka"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@")
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    listeners = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
    assert "CONTROLLER" in listeners
    protocol_map = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert listeners <= set(protocol_map)
    assert env.get("CLUSTER_ID")
    # single node: internal topics cannot have more than one replica
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert compose["services"]["kafka"].get("healthcheck", {}).get("test")


def test_workers_reach_kafka_on_an_advertised_in_network_listener(compose) -> None:
    kafka_env = env_of(compose["services"]["kafka"])
    advertised = {item.split("://")[1] for item in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")}
    worker_env = env_of(compose["services"]["worker"])
    bootstrap = worker_env["KAFKA_BOOTSTRAP_SERVERS"]
    assert bootstrap in advertised
    assert bootstrap.split(":")[0] in compose["services"]  # a service name, not localhost


def _topic_creations(compose) -> dict[str, int]:
    text = command_text(compose["services"]["kafka-init"])
    created: dict[str, int] = {}
    for line in text.splitlines():
        if "--create" not in line:
            continue
        assert "--if-not-exists" in line, line
        topic = re.search(r"--topic\s+(\S+)", line).group(1)
        partitions = int(re.search(r"--partitions\s+(\d+)", line).group(1))
        replication = int(re.search(r"--replication-factor\s+(\d+)", line).group(1))
        assert replication == 1, line
        assert topic not in created, f"{topic} created twice"
        created[topic] = partitions
    return created


def test_topics_are_created_with_the_expected_partitions(compose) -> None:
    init = compose["services"]["kafka-init"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "/opt/kafka/bin/kafka-topics.sh" in command_text(init)
    assert init.get("restart") == "no"
    assert _topic_creations(compose) == EXPECTED_PARTITIONS


def test_topic_names_and_partitions_match_the_worker(compose) -> None:
    env = env_of(compose["services"]["worker"])
    created = _topic_creations(compose)
    for var in ("TOLLWATCH_TOPIC_ARTICLES", "TOLLWATCH_TOPIC_ALERTS", "TOLLWATCH_TOPIC_DEAD_LETTER", "TOLLWATCH_TOPIC_EXTRACTIONS"):
        assert env[var] in created, var
    # co-partitioning: source topics, the re-keyed topic and the tables' changelogs
    assert created[env["TOLLWATCH_TOPIC_ARTICLES"]] == int(env["TOLLWATCH_PARTITIONS"])
    assert created[env["TOLLWATCH_TOPIC_EXTRACTIONS"]] == int(env["TOLLWATCH_PARTITIONS"])


def test_two_worker_replicas(compose) -> None:
    worker = compose["services"]["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert "container_name" not in worker  # would prevent replicas
    assert worker["build"]["context"] == "."
    assert (REPO / worker["build"].get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE.resolve()
    assert DOCKERFILE.exists()
    assert worker["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    health = " ".join(worker.get("healthcheck", {}).get("test", []))
    assert "/ready" in health, "the worker's health check must ask /ready (assigned and recovered)"
    # no fixed host port: two replicas cannot both bind it
    for port in worker.get("ports", []):
        assert ":" not in str(port), port


def test_worker_environment(compose) -> None:
    env = env_of(compose["services"]["worker"])
    assert set(env) >= WORKER_ENV, WORKER_ENV - set(env)
    assert env["TOLLWATCH_WEB_PORT"] == "6066"
    assert env["TOLLWATCH_INCIDENT_TTL_DAYS"] == "14"
    assert env["KAFKA_SECURITY_PROTOCOL"] in {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}


def test_worker_state_volume_is_per_replica(compose) -> None:
    worker = compose["services"]["worker"]
    data_dir = env_of(worker)["TOLLWATCH_DATA_DIR"]
    mounts = [v for v in worker["volumes"] if isinstance(v, dict) and v.get("target") == data_dir]
    assert len(mounts) == 1, "TOLLWATCH_DATA_DIR must be on a volume"
    (mount,) = mounts
    assert mount["type"] == "volume"
    # a named volume would be shared by both replicas, and RocksDB locks its files
    assert "source" not in mount


def test_prometheus_mounts_and_scrapes_the_workers(compose, yaml_loader) -> None:
    prom = compose["services"]["prometheus"]
    mounts = bind_mounts(prom)
    assert mounts.get("./deploy/prometheus") == "/etc/prometheus"
    for host in mounts:
        assert (REPO / host).exists(), host
    assert "--config.file=/etc/prometheus/prometheus.yml" in prom["command"]
    assert (PROMETHEUS_DIR / "prometheus.yml").exists()
    # the scrape job finds the worker service on its web port
    config = yaml_loader(PROMETHEUS_DIR / "prometheus.yml")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "tollwatch"]
    (sd,) = job["dns_sd_configs"]
    assert sd["names"] == ["worker"] and "worker" in compose["services"]
    assert str(sd["port"]) == env_of(compose["services"]["worker"])["TOLLWATCH_WEB_PORT"]
    assert prom.get("healthcheck", {}).get("test")
    assert "9090:9090" in [str(p) for p in prom["ports"]]


def test_grafana_is_provisioned_from_deploy(compose, yaml_loader) -> None:
    grafana = compose["services"]["grafana"]
    mounts = bind_mounts(grafana)
    for host in mounts:
        assert (REPO / host).exists(), host
    targets = {container: host for host, container in mounts.items()}
    assert targets["/etc/grafana/provisioning/datasources"] == "./deploy/grafana/provisioning/datasources"
    assert targets["/etc/grafana/provisioning/dashboards"] == "./deploy/grafana/provisioning/dashboards"
    # the dashboard provider reads the directory that holds the JSON
    provider = yaml_loader(GRAFANA_DIR / "provisioning" / "dashboards" / "tollwatch.yml")["providers"][0]
    host_dir = targets[provider["options"]["path"]]
    assert (REPO / host_dir / "tollwatch.json").exists()
    # the home dashboard path is inside that mount
    home = env_of(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == provider["options"]["path"].rstrip("/") + "/tollwatch.json"
    # the data source URL points at the prometheus service
    ds = yaml_loader(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")["datasources"][0]
    assert ds["url"].split("//")[1].split(":")[0] in compose["services"]
    assert "3000:3000" in [str(p) for p in grafana["ports"]]
    assert grafana.get("healthcheck", {}).get("test")


def test_named_volumes_are_declared(compose) -> None:
    declared = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for vol in service.get("volumes", []):
            source = vol.split(":")[0] if isinstance(vol, str) else vol.get("source")
            if source and not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} not declared"


def test_interpolation_helper() -> None:
    assert interpolate("${A:-8}") == "8"
    assert interpolate("${A:-8}", {"A": "3"}) == "3"
    assert interpolate("${A:-8}", {"A": ""}) == "8"
    assert interpolate("${A-8}", {"A": ""}) == ""
    assert interpolate("$$1 and ${B}", {"B": "x"}) == "$1 and x"
    with pytest.raises(KeyError):
        interpolate("${C:?needed}")
