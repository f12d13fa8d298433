"""Unit tests of the PromQL metric-name extractor (tests/deploy/promql.py)."""

from __future__ import annotations

import pytest

from .promql import (
    FAMILIES,
    PromQLSyntaxError,
    dashboard_exprs,
    exposed_sample_names,
    extract,
    family_of,
    metric_names,
    promtool_check_exprs,
    sample_names_from_exposition,
    strip_suffix,
    substitute_variables,
)

# (expression, metric names it selects).  Every expression is valid PromQL:
# test_cases_are_valid_promql feeds them to promtool.
CASES: list[tuple[str, set[str]]] = [
    ("up", {"up"}),
    ('up{job="tollwatch"} == 0', {"up"}),
    ("sum by (kind) (rate(tollwatch_alerts_total[5m]))", {"tollwatch_alerts_total"}),
    ("sum(rate(tollwatch_alerts_total[5m])) by (kind)", {"tollwatch_alerts_total"}),
    ("sum without (instance, job) (tollwatch_consumer_lag)", {"tollwatch_consumer_lag"}),
    (
        "histogram_quantile(0.99, sum by (le) (rate(tollwatch_alert_latency_seconds_bucket[5m])))",
        {"tollwatch_alert_latency_seconds_bucket"},
    ),
    (
        "rate(tollwatch_extraction_seconds_sum[5m]) / rate(tollwatch_extraction_seconds_count[5m])",
        {"tollwatch_extraction_seconds_sum", "tollwatch_extraction_seconds_count"},
    ),
    # grouping modifiers: label lists are not metrics
    (
        "tollwatch_open_incidents * on (instance) group_left (version) tollwatch_build_info",
        {"tollwatch_open_incidents", "tollwatch_build_info"},
    ),
    (
        "tollwatch_open_incidents / ignoring (job) group_right tollwatch_build_info",
        {"tollwatch_open_incidents", "tollwatch_build_info"},
    ),
    ("up and on () vector(1)", {"up"}),
    ("up unless up offset 5m", {"up"}),
    ("up or absent(up)", {"up"}),
    ("tollwatch_consumer_lag > bool 1000", {"tollwatch_consumer_lag"}),
    ("up atan2 tollwatch_open_incidents", {"up", "tollwatch_open_incidents"}),
    # label names that look like keywords or functions
    ('tollwatch_alerts_total{kind="rate", by="x", sum="y"}', {"tollwatch_alerts_total"}),
    ("count by (rate, sum) (tollwatch_alerts_total)", {"tollwatch_alerts_total"}),
    # __name__ matchers
    ('{__name__="tollwatch_open_incidents", job="tollwatch"}', {"tollwatch_open_incidents"}),
    ("{__name__='tollwatch_open_incidents'}", {"tollwatch_open_incidents"}),
    # strings, numbers, durations
    ('label_replace(up, "dst", "$1", "instance", "(.*):.*")', {"up"}),
    ('count_values("version", tollwatch_build_info)', {"tollwatch_build_info"}),
    ("topk(5, tollwatch_consumer_lag)", {"tollwatch_consumer_lag"}),
    ("quantile(0.5, tollwatch_consumer_lag)", {"tollwatch_consumer_lag"}),
    ("up * 1e3 + 0x1F - .5 + Inf - -NaN", {"up"}),
    ("deriv(sum(tollwatch_consumer_lag)[10m:1m])", {"tollwatch_consumer_lag"}),
    ("max_over_time(up[1h30m] offset -5m)", {"up"}),
    ("up @ start()", {"up"}),
    ("up @ 1700000000", {"up"}),
    ("time() - 60", set()),
    ("vector(0)", set()),
    ("# a comment\nup # trailing\n", {"up"}),
    # metric names with colons (recording rules)
    ("tollwatch:articles:rate5m > 0", {"tollwatch:articles:rate5m"}),
    # case-insensitive keywords
    ("SUM BY (kind) (tollwatch_alerts_total)", {"tollwatch_alerts_total"}),
]


@pytest.mark.parametrize(("expr", "expected"), CASES, ids=[c[0][:50] for c in CASES])
def test_metric_names(expr: str, expected: set[str]) -> None:
    assert metric_names(expr) == expected


@pytest.mark.prometheus
def test_cases_are_valid_promql(promtool_path: str) -> None:
    proc = promtool_check_exprs(promtool_path, {f"case {i}": expr for i, (expr, _) in enumerate(CASES)})
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.prometheus
def test_promtool_check_rejects_bad_promql(promtool_path: str) -> None:
    proc = promtool_check_exprs(promtool_path, {"bad": "sum by (kind (rate(x[5m]))"})
    assert proc.returncode != 0


@pytest.mark.parametrize(
    "expr",
    ["sum(rate(x[5m])", "x)", "x]", 'x{job="a"', "x{job}", 'x{job=="a"}', "x $oops", "x ; y"],
)
def test_malformed_expressions_are_rejected(expr: str) -> None:
    with pytest.raises(PromQLSyntaxError):
        metric_names(expr)


def test_regex_on_name_cannot_be_resolved() -> None:
    result = extract('{__name__=~"tollwatch_.*"}')
    assert result.names == set()
    assert result.unresolved
    with pytest.raises(PromQLSyntaxError):
        metric_names('{__name__=~"tollwatch_.*"}')


def test_functions_are_reported_separately() -> None:
    result = extract("histogram_quantile(0.5, sum by (le) (rate(x_bucket[5m])))")
    assert result.functions == {"histogram_quantile", "rate"}
    assert result.names == {"x_bucket"}


def test_grafana_variables_are_substituted() -> None:
    expr = 'sum(rate(x_total{event_key=~"$event_key", a="${a:regex}", b="[[b]]"}[$__rate_interval]))'
    out = substitute_variables(expr, {"event_key": ".*", "a": "1", "b": "2"})
    assert out == 'sum(rate(x_total{event_key=~".*", a="1", b="2"}[5m]))'
    assert metric_names(out) == {"x_total"}
    # $1 in a label_replace replacement is not a Grafana variable
    assert substitute_variables('label_replace(up, "d", "$1", "s", "(.*)")', {}) == 'label_replace(up, "d", "$1", "s", "(.*)")'
    # an unknown variable outside a string is an error, not a metric
    with pytest.raises(PromQLSyntaxError):
        metric_names(substitute_variables("x[$unknown_window]", {}) + " + $unknown")


def test_dashboard_exprs_cover_targets_variables_and_rows() -> None:
    ds = {"type": "prometheus", "uid": "${datasource}"}
    dashboard = {
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus"},
                {"name": "ev", "type": "query", "datasource": ds, "query": {"query": "label_values(metric_a, event_key)"}},
                {"name": "inc", "type": "query", "datasource": ds,
                 "query": 'label_values(metric_b{event_key=~"$ev", x="a,b"}, incident)'},
                {"name": "lbl", "type": "query", "datasource": ds, "query": "label_values(job)"},
                {"name": "q", "type": "query", "datasource": ds, "query": "query_result(topk(3, metric_c))"},
                {"name": "m", "type": "query", "datasource": ds, "query": "metrics(tollwatch_.*)"},
                {"name": "other", "type": "query", "datasource": {"type": "loki", "uid": "l"}, "query": "{app=\"x\"}"},
            ]
        },
        "annotations": {"list": [{"name": "deploys", "datasource": ds, "expr": "changes(metric_d[5m]) > 0"}]},
        "panels": [
            {"id": 1, "type": "timeseries", "title": "t", "datasource": ds,
             "targets": [{"refId": "A", "expr": 'metric_e{incident=~"$inc"}'}]},
            {"id": 2, "type": "row", "title": "collapsed", "collapsed": True, "panels": [
                {"id": 3, "type": "stat", "title": "inner", "datasource": ds,
                 "targets": [{"refId": "A", "expr": "metric_f"}]},
            ]},
            {"id": 4, "type": "text", "title": "notes", "options": {"content": "metric_not_a_query"}},
        ],
    }
    names: set[str] = set()
    for located in dashboard_exprs(dashboard):
        names |= metric_names(located.expr)
    assert names == {"metric_a", "metric_b", "metric_c", "metric_d", "metric_e", "metric_f"}


# --- families -----------------------------------------------------------------------
def test_family_of_honours_the_metric_type() -> None:
    assert family_of("tollwatch_articles_total") == "tollwatch_articles"
    assert family_of("tollwatch_articles_created") == "tollwatch_articles"
    assert family_of("tollwatch_extraction_seconds_bucket") == "tollwatch_extraction_seconds"
    assert family_of("tollwatch_alert_latency_seconds_count") == "tollwatch_alert_latency_seconds"
    assert family_of("tollwatch_incident_figure") == "tollwatch_incident_figure"
    assert family_of("tollwatch_articles") is None  # a counter has no bare sample
    assert family_of("tollwatch_open_incidents_total") is None  # a gauge has no _total
    assert family_of("tollwatch_consumer_lag_bucket") is None
    assert family_of("tollwatch_unknown_total") is None
    assert strip_suffix("tollwatch_extraction_seconds_bucket") == "tollwatch_extraction_seconds"
    assert strip_suffix("tollwatch_open_incidents") == "tollwatch_open_incidents"


def test_sample_model_matches_prometheus_client() -> None:
    """What prometheus-client really exposes for these families is what
    exposed_sample_names() predicts."""
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

    registry = CollectorRegistry()
    kinds = {"counter": Counter, "gauge": Gauge, "histogram": Histogram}
    for family, kind in FAMILIES.items():
        metric = kinds[kind](family, "doc", ["l"], registry=registry)
        child = metric.labels(l="x")
        if kind == "histogram":
            child.observe(0.1)
        elif kind == "counter":
            child.inc()
        else:
            child.set(1)
    exposed = sample_names_from_exposition(generate_latest(registry).decode())
    predicted = exposed_sample_names()
    assert exposed <= predicted
    # _created can be switched off (PROMETHEUS_DISABLE_CREATED_SERIES); the rest cannot
    assert {n for n in predicted if not n.endswith("_created")} <= exposed
