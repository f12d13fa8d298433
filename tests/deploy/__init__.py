"""Tests of the deployment and monitoring files (deploy/, docker-compose.yml, Dockerfile).

Helpers meant for reuse: promql.dashboard_metric_names, promql.family_of,
promql.exposed_sample_names, promql.sample_names_from_exposition and
promconfig.render_prometheus_config.
"""
