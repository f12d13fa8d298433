"""The monitoring config against a REAL worker on the embedded broker and a REAL Prometheus.

* every metric the dashboard and the alerting rules query is exported by a running worker;
* Debian's ``prometheus`` scrapes the worker with the project's job definition and the death
  toll of an incident is read back through Prometheus's HTTP query API;
* ``promtool check metrics`` accepts the worker's ``/metrics`` (format and naming lint).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from stream.broker import free_port, wait_for_port
from stream.cli import SAMPLES_DIR
from stream.ingest import load_articles
from stream.runner import LocalStack
from tests.deploy._util import DASHBOARD_JSON, PROMETHEUS_DIR
from tests.deploy.promconfig import render_prometheus_config
from tests.deploy.promql import dashboard_metric_names, metric_names, sample_names_from_exposition
from tests.helpers import publish_and_drain

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live() -> Iterator[LocalStack]:
    """A worker that has processed the bundled sample articles, with Faust's own metrics on (the
    lint below covers them too)."""
    with LocalStack(env={"TOLLWATCH_FAUST_METRICS": "1"}) as stack:
        publish_and_drain(stack, load_articles([SAMPLES_DIR]))
        time.sleep(6)  # the lag and open-incident gauges refresh every 5 s
        yield stack


def _exported(stack: LocalStack) -> set[str]:
    assert stack.worker is not None
    body = stack.worker.get("/metrics")
    assert body, "the worker's /metrics did not answer"
    return sample_names_from_exposition(body.decode())


def test_every_dashboard_metric_is_exported_by_a_running_worker(live: LocalStack) -> None:
    used = dashboard_metric_names(DASHBOARD_JSON) - {"up"}  # `up` is Prometheus's own
    missing = used - _exported(live)
    assert not missing, f"dashboard queries metrics the worker does not export: {sorted(missing)}"


#: Faust's own metric families that promtool's naming lint rejects; the names are upstream's
#: (faust.sensors.prometheus) and dashboards elsewhere query them, so they are not renamed here:
#: ``faust_events_runtime_ms``: "metric names should not contain abbreviated units".
UPSTREAM_LINT_EXCEPTIONS = ("faust_events_runtime_ms",)


def _family(line: str) -> str:
    """Metric name of an exposition line (``# HELP``/``# TYPE`` or a sample)."""
    if line.startswith("#"):
        parts = line.split()
        return parts[2] if len(parts) > 2 else ""
    return line.split("{", 1)[0].split(" ", 1)[0]


def _promtool_check(promtool: str, text: str) -> tuple[int, list[str]]:
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60,
                          check=False)
    return proc.returncode, [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


def test_promtool_accepts_the_worker_metrics(live: LocalStack, promtool_path: str) -> None:
    assert live.worker is not None
    text = (live.worker.get("/metrics") or b"").decode()
    assert "tollwatch_incident_figure{" in text and "faust_" in text
    _, problems = _promtool_check(promtool_path, text)
    # Whatever promtool says is about the upstream families listed above, never about ours.
    unexpected = [p for p in problems if not p.startswith(UPSTREAM_LINT_EXCEPTIONS)]
    assert not unexpected, f"promtool check metrics: {unexpected}"
    ours = "\n".join(line for line in text.splitlines() if not _family(line).startswith(UPSTREAM_LINT_EXCEPTIONS))
    status, problems = _promtool_check(promtool_path, ours + "\n")
    assert status == 0 and not problems, problems


def _rule_exprs() -> list[str]:
    text = (PROMETHEUS_DIR / "rules.yml").read_text()
    exprs: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("expr:"):
            exprs.append(stripped.removeprefix("expr:").strip().strip("|>").strip())
    return exprs


def test_every_rule_metric_is_exported_or_recorded(live: LocalStack) -> None:
    text = (PROMETHEUS_DIR / "rules.yml").read_text()
    recorded = {line.split(":", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("- record:")}
    used: set[str] = set()
    for expr in _rule_exprs():
        if expr:
            used |= metric_names(expr)
    missing = used - _exported(live) - recorded - {"up"}
    assert not missing, f"rules query metrics the worker does not export: {sorted(missing)}"


@pytest.fixture()
def prometheus(live: LocalStack, tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("Debian's prometheus is not installed (make test installs it: apt-get install prometheus)")
    assert live.worker is not None
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        render_prometheus_config([f"127.0.0.1:{live.worker.web_port}"], rules_path=PROMETHEUS_DIR / "rules.yml")
    )
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        _wait_ready(base, timeout=60)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _wait_ready(base: str, *, timeout: float) -> None:
    """The port opens before the TSDB is loaded; /-/ready says 200 once queries are served."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"Prometheus at {base} was not ready within {timeout:.0f}s")


def _query(base: str, promql: str) -> list[dict]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        payload = json.loads(response.read())
    assert payload["status"] == "success", payload
    return payload["data"]["result"]


def test_prometheus_reads_the_death_toll_back(live: LocalStack, prometheus: str) -> None:
    assert live.worker is not None
    incidents = json.loads(live.worker.get("/incidents") or b"{}")["incidents"]
    kerman = [i for i in incidents if "kerman" in i["event_key"]]
    assert kerman, f"no Kerman incident among {[i['event_key'] for i in incidents]}"
    event_key = kerman[0]["event_key"]
    expected = kerman[0]["figures"]["killed"]["value"]
    assert expected == 91  # the samples end with the toll rising to 91

    promql = f'tollwatch_incident_figure{{job="tollwatch", event_key="{event_key}", field="killed"}}'
    deadline = time.monotonic() + 45
    result: list[dict] = []
    while time.monotonic() < deadline and not result:
        result = _query(prometheus, promql)
        time.sleep(0.5)
    assert result, f"Prometheus returned nothing for {promql}"
    assert float(result[0]["value"][1]) == expected
    assert _query(prometheus, 'up{job="tollwatch"}')[0]["value"][1] == "1"
