"""Metric names used by PromQL expressions in the Grafana dashboard and rules.

Debian's promtool (2.42) has no parse-only command (`promtool promql format`
is newer and experimental), so metric names are extracted by a tokenizer that
follows the PromQL lexer:

* strings ("...", '...', `...`), comments, numbers, durations, Inf/NaN and
  range/subquery brackets ``[...]`` are skipped;
* identifiers followed by ``(`` are function calls; aggregation operators
  (``sum``, ``topk``...) and keywords (``by``, ``without``, ``on``,
  ``ignoring``, ``group_left``, ``group_right``, ``bool``, ``offset``,
  ``and``, ``or``, ``unless``, ``atan2``) are not metrics, and the label list
  in parentheses after a grouping keyword is skipped;
* inside ``{...}`` only ``__name__="..."`` (and Prometheus 3's quoted metric
  name ``{"name"}``) names a metric; a regex on ``__name__`` cannot be
  resolved and is reported.

The *syntax* of every expression is checked separately by promtool (see
`promtool_check_exprs`), which uses Prometheus's real parser.

Public helpers, importable by later tests (e.g. the check against a live
worker's /metrics):

    dashboard_metric_names(path) -> set[str]
    dashboard_exprs(path_or_dict) -> list[LocatedExpr]
    metric_names(expr) -> set[str]
    family_of(sample_name) -> str | None
    exposed_sample_names() -> set[str]
    sample_names_from_exposition(text) -> set[str]
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------------------
# The worker's metric families (see the project issue "metrics").  Names are
# family names as prometheus-client registers them: a Counter named
# "tollwatch_articles_total" is the family "tollwatch_articles" and exposes
# tollwatch_articles_total and tollwatch_articles_created.
# ---------------------------------------------------------------------------
FAMILIES: dict[str, str] = {
    "tollwatch_articles": "counter",
    "tollwatch_dead_letters": "counter",
    "tollwatch_extraction_seconds": "histogram",
    "tollwatch_alerts": "counter",
    "tollwatch_incident_figure": "gauge",
    "tollwatch_open_incidents": "gauge",
    "tollwatch_alert_latency_seconds": "histogram",
    "tollwatch_consumer_lag": "gauge",
    "tollwatch_build_info": "gauge",
}

# Series that Prometheus itself attaches to every scrape target.
PROMETHEUS_SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}

SAMPLE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}

STRIPPABLE_SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created")


def strip_suffix(name: str) -> str:
    """Drop one of _bucket/_sum/_count/_total/_created (the brief's rule)."""
    for suffix in STRIPPABLE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def exposed_sample_names(families: Mapping[str, str] = FAMILIES) -> set[str]:
    """Every sample name the worker exposes for `families`."""
    return {family + suffix for family, kind in families.items() for suffix in SAMPLE_SUFFIXES[kind]}


def family_of(sample_name: str, families: Mapping[str, str] = FAMILIES) -> str | None:
    """The family a sample name belongs to, honouring the family's type.

    ``tollwatch_extraction_seconds_bucket`` -> ``tollwatch_extraction_seconds``
    but ``tollwatch_open_incidents_total`` -> None (a gauge has no _total).
    """
    for family, kind in families.items():
        for suffix in SAMPLE_SUFFIXES[kind]:
            if sample_name == family + suffix:
                return family
    return None


def sample_names_from_exposition(text: str) -> set[str]:
    """Sample names in a Prometheus text exposition (a worker's /metrics)."""
    from prometheus_client.parser import text_string_to_metric_families

    return {sample.name for fam in text_string_to_metric_families(text) for sample in fam.samples}


# ---------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------
class PromQLSyntaxError(ValueError):
    pass


AGGREGATORS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
    "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}
GROUPING_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
OTHER_KEYWORDS = {"bool", "offset", "and", "or", "unless", "atan2"}
KEYWORDS = AGGREGATORS | GROUPING_KEYWORDS | OTHER_KEYWORDS

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+(?![A-Za-z0-9_:]))
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>==|!=|<=|>=|=~|!~|[-+*/%^=<>])
  | (?P<punct>[(){}\[\],@])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(expr: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if m is None:
            raise PromQLSyntaxError(f"unexpected character {expr[pos]!r} at {pos} in {expr!r}")
        kind = m.lastgroup
        assert kind is not None
        if kind not in ("ws", "comment"):
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    return tokens


def _unquote(text: str) -> str:
    """Value of a PromQL string literal (Go-style escapes)."""
    quote, inner = text[0], text[1:-1]
    if quote == "`":
        return inner
    if quote == "'":
        inner = inner.replace("\\'", "'").replace('"', '\\"')
    try:
        return json.loads('"' + inner + '"')
    except json.JSONDecodeError:
        return inner


def _skip_group(tokens: list[Token], i: int, open_: str, close: str) -> int:
    """tokens[i] is `open_`; return the index just past the matching `close`."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].kind == "punct":
            if tokens[j].text == open_:
                depth += 1
            elif tokens[j].text == close:
                depth -= 1
                if depth == 0:
                    return j + 1
    raise PromQLSyntaxError(f"unbalanced {open_!r} at {tokens[i].pos}")


@dataclass
class ExtractResult:
    names: set[str]
    unresolved: list[str]  # e.g. __name__=~"regex" selectors
    functions: set[str]


def extract(expr: str) -> ExtractResult:
    tokens = tokenize(expr)
    names: set[str] = set()
    unresolved: list[str] = []
    functions: set[str] = set()
    parens = 0
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < n else None
        if tok.kind == "punct":
            if tok.text == "{":
                i = _matchers(tokens, i, names, unresolved)
                continue
            if tok.text == "[":
                i = _skip_group(tokens, i, "[", "]")
                continue
            if tok.text in "]}":
                raise PromQLSyntaxError(f"unbalanced {tok.text!r} at {tok.pos} in {expr!r}")
            if tok.text == "(":
                parens += 1
            elif tok.text == ")":
                parens -= 1
                if parens < 0:
                    raise PromQLSyntaxError(f"unbalanced ')' at {tok.pos} in {expr!r}")
            i += 1
            continue
        if tok.kind == "ident":
            word = tok.text
            lower = word.lower()
            if lower in GROUPING_KEYWORDS:
                if nxt is not None and nxt.kind == "punct" and nxt.text == "(":
                    i = _skip_group(tokens, i + 1, "(", ")")
                else:
                    i += 1
                continue
            if lower in KEYWORDS:
                i += 1
                continue
            if lower in ("inf", "nan"):
                i += 1
                continue
            if nxt is not None and nxt.kind == "punct" and nxt.text == "(":
                functions.add(word)
                i += 1
                continue
            names.add(word)
            i += 1
            continue
        # strings, numbers, durations, operators
        i += 1
    if parens != 0:
        raise PromQLSyntaxError(f"unbalanced parentheses in {expr!r}")
    return ExtractResult(names, unresolved, functions)


def _matchers(tokens: list[Token], i: int, names: set[str], unresolved: list[str]) -> int:
    """tokens[i] is '{'; parse `name op "value"` matchers up to '}'."""
    end = _skip_group(tokens, i, "{", "}")
    body = tokens[i + 1 : end - 1]
    # split on top-level commas
    items: list[list[Token]] = [[]]
    for tok in body:
        if tok.kind == "punct" and tok.text == ",":
            items.append([])
        else:
            items[-1].append(tok)
    for item in items:
        if not item:
            continue  # trailing comma is legal
        if len(item) == 1 and item[0].kind == "string":
            names.add(_unquote(item[0].text))  # Prometheus 3: {"metric.name"}
            continue
        if len(item) != 3 or item[0].kind not in ("ident", "string") or item[1].kind != "op" or item[2].kind != "string":
            raise PromQLSyntaxError("bad label matcher: " + " ".join(t.text for t in item))
        label = item[0].text if item[0].kind == "ident" else _unquote(item[0].text)
        op = item[1].text
        if op not in ("=", "!=", "=~", "!~"):
            raise PromQLSyntaxError(f"bad matcher operator {op!r}")
        if label == "__name__":
            if op == "=":
                names.add(_unquote(item[2].text))
            else:
                unresolved.append(" ".join(t.text for t in item))
    return end


def metric_names(expr: str) -> set[str]:
    """Metric names selected by a PromQL expression (no Grafana variables)."""
    result = extract(expr)
    if result.unresolved:
        raise PromQLSyntaxError(f"cannot resolve metric names of {result.unresolved} in {expr!r}")
    return result.names


# ---------------------------------------------------------------------------
# Grafana
# ---------------------------------------------------------------------------
GRAFANA_BUILTINS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "__interval_ms": "60000",
    "__range_s": "3600",
    "__range_ms": "3600000",
}

_VAR_RE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")


def dashboard_variables(dashboard: Mapping[str, Any]) -> dict[str, str]:
    """Dashboard template variables with a value usable in a syntax check."""
    values: dict[str, str] = {}
    for var in dashboard.get("templating", {}).get("list", []):
        name = var.get("name")
        if not name:
            continue
        kind = var.get("type")
        if kind == "interval":
            current = (var.get("current") or {}).get("value") or "5m"
            values[name] = str(current)
        elif kind == "datasource":
            values[name] = "prometheus"
        else:
            values[name] = var.get("allValue") or ".*"
    return values


def substitute_variables(expr: str, variables: Mapping[str, str]) -> str:
    """Replace Grafana variables ($x, ${x}, ${x:fmt}, [[x]]) by sample values.

    Unknown `$name`s are left alone (e.g. `$1` in label_replace's
    replacement string); the tokenizer rejects any left outside a string.
    """
    merged = {**GRAFANA_BUILTINS, **variables}

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        return merged.get(name, m.group(0))

    return _VAR_RE.sub(repl, expr)


@dataclass(frozen=True)
class LocatedExpr:
    where: str  # human-readable location, e.g. 'panel 3 "Consumer lag" target A'
    raw: str  # as written in the dashboard
    expr: str  # PromQL with Grafana variables substituted


_LABEL_VALUES_RE = re.compile(r"^\s*label_values\s*\((?P<args>.*)\)\s*$", re.S)
_QUERY_RESULT_RE = re.compile(r"^\s*query_result\s*\((?P<expr>.*)\)\s*$", re.S)
_NO_METRIC_RE = re.compile(r"^\s*(metrics|label_names)\s*\(.*\)\s*$", re.S)


def _variable_query_exprs(query: str) -> list[str]:
    """PromQL inside a Grafana Prometheus variable query."""
    m = _LABEL_VALUES_RE.match(query)
    if m:
        args = m.group("args")
        # label_values(label) or label_values(selector, label): the label is
        # the text after the last top-level comma.
        depth = 0
        split_at = -1
        in_str: str | None = None
        for pos, ch in enumerate(args):
            if in_str:
                if ch == in_str and args[pos - 1] != "\\":
                    in_str = None
            elif ch in "\"'`":
                in_str = ch
            elif ch in "({[":
                depth += 1
            elif ch in ")}]":
                depth -= 1
            elif ch == "," and depth == 0:
                split_at = pos
        return [args[:split_at]] if split_at >= 0 else []
    m = _QUERY_RESULT_RE.match(query)
    if m:
        return [m.group("expr")]
    if _NO_METRIC_RE.match(query):
        return []
    return [query]  # a plain PromQL query


def _is_prometheus(ds: Any, default: bool) -> bool:
    if ds is None:
        return default
    if isinstance(ds, str):
        return "prom" in ds.lower() or ds.startswith("$")
    if isinstance(ds, Mapping):
        t = ds.get("type")
        if t is None:
            return default
        return t == "prometheus"
    return default


def _walk_panels(panels: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _walk_panels(panel.get("panels", []) or [])  # collapsed rows


def dashboard_exprs(dashboard: Path | str | Mapping[str, Any]) -> list[LocatedExpr]:
    """Every Prometheus expression in a dashboard: panel targets, query
    variables and annotations."""
    if not isinstance(dashboard, Mapping):
        dashboard = json.loads(Path(dashboard).read_text(encoding="utf-8"))
    variables = dashboard_variables(dashboard)
    found: list[LocatedExpr] = []

    def add(where: str, raw: str) -> None:
        found.append(LocatedExpr(where, raw, substitute_variables(raw, variables)))

    for panel in _walk_panels(dashboard.get("panels", [])):
        panel_ds = panel.get("datasource")
        for target in panel.get("targets", []) or []:
            ds = target.get("datasource", panel_ds)
            if not _is_prometheus(ds, default=True):
                continue
            expr = target.get("expr")
            if expr:
                add(f'panel {panel.get("id")} "{panel.get("title")}" target {target.get("refId")}', expr)

    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query" or not _is_prometheus(var.get("datasource"), default=True):
            continue
        query = var.get("query")
        if isinstance(query, Mapping):
            query = query.get("query")
        query = query or var.get("definition")
        if not query:
            continue
        for expr in _variable_query_exprs(query):
            add(f'variable "{var.get("name")}"', expr)

    for ann in dashboard.get("annotations", {}).get("list", []):
        if ann.get("expr") and _is_prometheus(ann.get("datasource"), default=False):
            add(f'annotation "{ann.get("name")}"', ann["expr"])
    return found


def dashboard_metric_names(path: Path | str) -> set[str]:
    """Metric (sample) names used by every Prometheus query of a dashboard."""
    names: set[str] = set()
    for located in dashboard_exprs(path):
        try:
            names |= metric_names(located.expr)
        except PromQLSyntaxError as exc:
            raise PromQLSyntaxError(f"{located.where}: {exc}") from exc
    return names


# ---------------------------------------------------------------------------
# Syntax check with Prometheus's own parser
# ---------------------------------------------------------------------------
def promtool_check_exprs(promtool: str, exprs: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `promtool check rules` on a rule file with one recording rule per
    expression (keys become rule names), i.e. parse them with the real PromQL
    parser.  Returns the completed process (returncode 0 = all valid)."""
    rules = [{"record": f"check:expr:{i}", "expr": expr, "labels": {"where": key}} for i, (key, expr) in enumerate(exprs.items())]
    doc = {"groups": [{"name": "dashboard-expressions", "rules": rules}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exprs.rules.yml"
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")  # JSON is YAML
        return subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
