"""deploy/grafana: dashboard JSON and provisioning files.

Every PromQL query of the dashboard is parsed by promtool (Prometheus's own
parser) and its metric names must be samples the worker exposes (families in
promql.FAMILIES) or Prometheus's `up`.  The check against a live worker's
/metrics reuses `dashboard_metric_names` from promql.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ._util import DASHBOARD_JSON, GRAFANA_DIR
from .promql import (
    FAMILIES,
    dashboard_exprs,
    dashboard_metric_names,
    exposed_sample_names,
    family_of,
    metric_names,
    promtool_check_exprs,
    strip_suffix,
)

ALLOWED_NON_WORKER = {"up"}
PANEL_TYPES = {"row", "stat", "timeseries", "state-timeline", "gauge", "bargauge", "table", "text", "heatmap"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD_JSON.read_text(encoding="utf-8"))


def all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def query_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in all_panels(dashboard) if p["type"] not in ("row", "text")]


def exprs_of(panel: dict[str, Any]) -> list[str]:
    return [t["expr"] for t in panel.get("targets", [])]


# --- metric names -------------------------------------------------------------------
def test_dashboard_metric_names_are_worker_metrics() -> None:
    names = dashboard_metric_names(DASHBOARD_JSON)
    assert names, "no metric names found"
    exposed = exposed_sample_names() | ALLOWED_NON_WORKER
    assert names <= exposed, f"not exposed by the worker: {sorted(names - exposed)}"
    # the brief's rule: strip _bucket/_sum/_count/_total/_created -> a family
    families = {strip_suffix(n) for n in names}
    assert families <= set(FAMILIES) | ALLOWED_NON_WORKER, families


def test_dashboard_shows_every_family() -> None:
    """Nothing the worker measures is left off the dashboard."""
    families = {family_of(n) or n for n in dashboard_metric_names(DASHBOARD_JSON)}
    assert families == set(FAMILIES) | ALLOWED_NON_WORKER


@pytest.mark.prometheus
def test_every_query_parses_with_promtool(promtool_path: str) -> None:
    located = dashboard_exprs(DASHBOARD_JSON)
    assert len(located) >= 15
    proc = promtool_check_exprs(promtool_path, {loc.where: loc.expr for loc in located})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rate_functions_only_on_counters_and_histograms() -> None:
    counter_like = ("_total", "_bucket", "_sum", "_count")
    for located in dashboard_exprs(DASHBOARD_JSON):
        for fn, inner in re.findall(r"\b(rate|irate|increase)\(\s*([^\[]+)\[", located.expr):
            for name in metric_names(inner):
                assert name.endswith(counter_like), f"{located.where}: {fn}() of gauge {name}"


def test_latency_panels_show_p50_and_p99(dashboard) -> None:
    for histogram in ("tollwatch_extraction_seconds", "tollwatch_alert_latency_seconds"):
        panels = [p for p in query_panels(dashboard) if any(histogram + "_bucket" in e for e in exprs_of(p))]
        assert len(panels) == 1, histogram
        (panel,) = panels
        exprs = exprs_of(panel)
        assert {re.search(r"histogram_quantile\((0\.\d+)", e).group(1) for e in exprs} == {"0.50", "0.99"}
        for e in exprs:
            assert "by (le)" in e, e
        assert panel["fieldConfig"]["defaults"]["unit"] == "s"


def test_incident_figures_are_drawn_as_steps_per_incident_and_field(dashboard) -> None:
    (panel,) = [p for p in query_panels(dashboard) if any("tollwatch_incident_figure" in e for e in exprs_of(p))]
    assert panel["type"] == "timeseries"
    (expr,) = exprs_of(panel)
    for label in ("event_key", "incident", "field"):
        assert label in expr
    legend = panel["targets"][0]["legendFormat"]
    assert "{{incident}}" in legend and "{{field}}" in legend
    assert panel["fieldConfig"]["defaults"]["custom"]["lineInterpolation"] == "stepAfter"


def test_required_panels_exist(dashboard) -> None:
    by_expr = " ".join(e for p in query_panels(dashboard) for e in exprs_of(p))
    for needle in (
        "sum by (kind) (rate(tollwatch_alerts_total",
        "sum by (outcome) (rate(tollwatch_articles_total",
        "sum by (reason) (rate(tollwatch_dead_letters_total",
        "tollwatch_consumer_lag",
        "tollwatch_open_incidents",
        'up{job="tollwatch"}',
        "tollwatch_build_info",
    ):
        assert needle in by_expr, needle


# --- dashboard structure ------------------------------------------------------------
def test_dashboard_model(dashboard) -> None:
    assert dashboard["uid"] == "tollwatch"
    assert dashboard["title"]
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard.get("id") is None  # provisioned dashboards must not carry a database id
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    ds = variables["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"


def test_panels_use_the_datasource_variable(dashboard) -> None:
    expected = {"type": "prometheus", "uid": "${datasource}"}
    for panel in query_panels(dashboard):
        assert panel["type"] in PANEL_TYPES, panel["type"]
        assert panel.get("datasource") == expected, panel["title"]
        assert panel.get("targets"), panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", expected) == expected, panel["title"]
            assert target["expr"].strip(), panel["title"]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            assert var["datasource"] == expected, var["name"]


def test_panel_ids_unique_and_layout_fits(dashboard) -> None:
    panels = all_panels(dashboard)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for panel in panels:
        g = panel["gridPos"]
        assert g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["y"] >= 0
        assert g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]


def test_all_panels_have_titles_and_descriptions(dashboard) -> None:
    for panel in query_panels(dashboard):
        assert panel.get("title") and panel.get("description"), panel.get("title")


# --- provisioning -----------------------------------------------------------------------
def test_datasource_provisioning(yaml_loader, dashboard) -> None:
    doc = yaml_loader(GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml")
    assert doc["apiVersion"] == 1
    (ds,) = doc["datasources"]
    assert ds["type"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090"
    assert ds["isDefault"] is True
    # the dashboard's datasource variable defaults to this data source
    current = {v["name"]: v for v in dashboard["templating"]["list"]}["datasource"]["current"]
    assert current["value"] == ds["uid"]


def test_dashboard_provisioning(yaml_loader) -> None:
    doc = yaml_loader(GRAFANA_DIR / "provisioning" / "dashboards" / "tollwatch.yml")
    assert doc["apiVersion"] == 1
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")

