"""Render a Prometheus config that scrapes given worker addresses.

deploy/prometheus/prometheus.yml finds the compose workers by DNS; a test (or
a developer) running `tollwatch worker` locally needs the same `tollwatch` job
with static targets instead, e.g.::

    from tests.deploy.promconfig import render_prometheus_config   # or a relative import
    cfg = render_prometheus_config(["127.0.0.1:6066"], rules_path=RULES)
    (tmp_path / "prometheus.yml").write_text(cfg)
    # prometheus --config.file=... --storage.tsdb.path=... --web.listen-address=127.0.0.1:0

The output is JSON, which is valid YAML (Prometheus accepts it), so no YAML
library is needed.  test_prometheus.py checks it with `promtool check config`
and keeps it in step with the template's job.
"""

from __future__ import annotations

import json
from pathlib import Path

from ._util import PROMETHEUS_DIR

JOB_NAME = "tollwatch"
METRICS_PATH = "/metrics"
RULES_PATH = PROMETHEUS_DIR / "rules.yml"


def render_prometheus_config(
    targets: list[str],
    *,
    rules_path: str | Path | None = RULES_PATH,
    scrape_interval: str = "1s",
    evaluation_interval: str | None = None,
    job_name: str = JOB_NAME,
) -> str:
    """Prometheus config (as YAML text) with job `tollwatch` scraping `targets`.

    targets: "host:port" of workers' web servers, e.g. ["127.0.0.1:6066"].
    rules_path: rule file to evaluate (absolute path written), None for none.
    scrape_interval: also the evaluation interval unless given.
    """
    if not targets:
        raise ValueError("at least one target is needed")
    for target in targets:
        host, sep, port = target.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"target must be host:port, got {target!r}")
    config: dict[str, object] = {
        "global": {
            "scrape_interval": scrape_interval,
            # scrape_timeout may not exceed the interval; Prometheus's default is 10s
            "scrape_timeout": scrape_interval,
            "evaluation_interval": evaluation_interval or scrape_interval,
        },
        "scrape_configs": [
            {
                "job_name": job_name,
                "metrics_path": METRICS_PATH,
                "scheme": "http",
                "static_configs": [{"targets": list(targets)}],
            }
        ],
    }
    if rules_path is not None:
        config["rule_files"] = [str(Path(rules_path).resolve())]
    return json.dumps(config, indent=2) + "\n"
