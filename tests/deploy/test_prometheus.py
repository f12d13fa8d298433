"""deploy/prometheus: promtool check config / check rules / test rules."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ._util import PROMETHEUS_DIR
from .promconfig import render_prometheus_config
from .promql import PROMETHEUS_SYNTHETIC, exposed_sample_names, metric_names

pytestmark = pytest.mark.prometheus

CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULES = PROMETHEUS_DIR / "rules.yml"
RULES_TEST = PROMETHEUS_DIR / "rules_test.yml"


def run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)


def assert_ok(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"{proc.args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"


# --- promtool ------------------------------------------------------------------
def test_prometheus_config_is_valid(promtool_path: str) -> None:
    proc = run([promtool_path, "check", "config", str(CONFIG)])
    assert_ok(proc)
    assert "1 rule files found" in proc.stdout + proc.stderr


def test_rules_are_valid(promtool_path: str) -> None:
    assert_ok(run([promtool_path, "check", "rules", str(RULES)]))


def test_rules_unit_tests_pass(promtool_path: str) -> None:
    proc = run([promtool_path, "test", "rules", RULES_TEST.name], cwd=PROMETHEUS_DIR)
    assert_ok(proc)
    assert "SUCCESS" in proc.stdout


def test_rules_unit_tests_can_fail(promtool_path: str, tmp_path: Path) -> None:
    """The unit tests are not vacuous: with the NoArticles guard removed, the
    'fresh stack' case must fail."""
    rules = RULES.read_text(encoding="utf-8")
    guard = "count(tollwatch_articles_total offset 15m) > 0"
    assert guard in rules
    (tmp_path / "rules.yml").write_text(rules.replace(guard, "vector(1)"), encoding="utf-8")
    (tmp_path / "rules_test.yml").write_text(RULES_TEST.read_text(encoding="utf-8"), encoding="utf-8")
    proc = run([promtool_path, "test", "rules", "rules_test.yml"], cwd=tmp_path)
    assert proc.returncode != 0
    assert "fresh stack without history does not page early" in proc.stdout + proc.stderr


# --- content ---------------------------------------------------------------------
def _rules(yaml_loader) -> list[dict]:
    doc = yaml_loader(RULES)
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_required_alerts_exist(yaml_loader) -> None:
    alerts = {rule["alert"]: rule for rule in _rules(yaml_loader) if "alert" in rule}
    assert alerts["TollwatchWorkerDown"]["expr"].strip() == 'up{job="tollwatch"} == 0'
    assert "tollwatch_articles_total[15m]" in alerts["TollwatchNoArticles"]["expr"]
    assert "tollwatch_dead_letters_total" in alerts["TollwatchDeadLettersRising"]["expr"]
    assert "tollwatch_consumer_lag" in alerts["TollwatchConsumerLagGrowing"]["expr"]
    for name, rule in alerts.items():
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}, name
        assert rule.get("annotations", {}).get("summary"), name


def test_every_alert_has_a_firing_and_a_quiet_unit_test(yaml_loader) -> None:
    alerts = {rule["alert"] for rule in _rules(yaml_loader) if "alert" in rule}
    tests = yaml_loader(RULES_TEST)
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alerts - fires == set(), "alerts without a test where they fire"
    assert alerts - quiet == set(), "alerts without a test where they stay quiet"


def test_rules_use_only_worker_metrics(yaml_loader) -> None:
    rules = _rules(yaml_loader)
    recorded = {rule["record"] for rule in rules if "record" in rule}
    known = exposed_sample_names() | PROMETHEUS_SYNTHETIC | recorded
    for rule in rules:
        names = metric_names(rule["expr"])
        assert names, rule
        assert names <= known, f"{rule.get('alert') or rule.get('record')}: unknown {names - known}"


# --- local-worker variant -------------------------------------------------------------
def test_rendered_config_for_local_workers_is_valid(promtool_path: str, tmp_path: Path) -> None:
    text = render_prometheus_config(["127.0.0.1:6066", "127.0.0.1:6067"], rules_path=RULES)
    path = tmp_path / "prometheus.yml"
    path.write_text(text, encoding="utf-8")
    proc = run([promtool_path, "check", "config", str(path)])
    assert_ok(proc)
    assert "1 rule files found" in proc.stdout + proc.stderr


def test_rendered_config_matches_template_job(yaml_loader, tmp_path: Path) -> None:
    import json

    rendered = json.loads(render_prometheus_config(["127.0.0.1:6066"], rules_path=None))
    template = yaml_loader(CONFIG)
    (tmpl_job,) = [job for job in template["scrape_configs"] if job["job_name"] == "tollwatch"]
    (job,) = rendered["scrape_configs"]
    for key in ("job_name", "metrics_path", "scheme"):
        assert job[key] == tmpl_job.get(key), key
    assert job["static_configs"] == [{"targets": ["127.0.0.1:6066"]}]
    assert "rule_files" not in rendered
    assert rendered["global"]["scrape_interval"] == "1s"


def test_render_rejects_bad_targets() -> None:
    with pytest.raises(ValueError):
        render_prometheus_config([], rules_path=None)
    with pytest.raises(ValueError):
        render_prometheus_config(["http://127.0.0.1:6066/metrics"], rules_path=None)
