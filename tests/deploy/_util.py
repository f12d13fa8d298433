"""Shared helpers for the deployment tests: paths, external tools, YAML."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
GRAFANA_DIR = DEPLOY / "grafana"
DASHBOARD_JSON = GRAFANA_DIR / "dashboards" / "tollwatch.json"
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

# The tool virtualenv that holds check-jsonschema (and, through it, ruamel.yaml).  It is kept
# apart from the project's .venv because check-jsonschema needs a newer click
# than faust-streaming accepts.
TOOLS_VENV = Path(os.environ.get("TOLLWATCH_TOOLS_VENV", REPO / ".venv-tools"))

INSTALL_HINT_PROMTOOL = "promtool not found: apt-get install -y prometheus (Debian package, provides /usr/bin/promtool)"
INSTALL_HINT_TOOLS = (
    "tool venv not found: python3 -m venv .venv-tools && "
    ".venv-tools/bin/pip install check-jsonschema  (or `make tools`)"
)


def promtool() -> str | None:
    """Path of promtool (env PROMTOOL overrides), or None."""
    env = os.environ.get("PROMTOOL")
    if env:
        return env
    return shutil.which("promtool")


def check_jsonschema() -> str | None:
    """Path of check-jsonschema (env CHECK_JSONSCHEMA overrides), or None."""
    env = os.environ.get("CHECK_JSONSCHEMA")
    if env:
        return env
    candidate = TOOLS_VENV / "bin" / "check-jsonschema"
    if candidate.exists():
        return str(candidate)
    return None


def tools_python() -> str | None:
    candidate = TOOLS_VENV / "bin" / "python"
    return str(candidate) if candidate.exists() else None


# Run by the tool venv's Python: PyYAML if installed, else ruamel.yaml, which
# check-jsonschema depends on (so `pip install check-jsonschema` is enough).
_YAML_TO_JSON = """
import json, sys
with open(sys.argv[1], encoding="utf-8") as fh:
    try:
        import yaml
    except ImportError:
        from ruamel.yaml import YAML
        data = YAML(typ="safe", pure=True).load(fh)
    else:
        data = yaml.safe_load(fh)
json.dump(data, sys.stdout)
"""


class YamlUnavailable(RuntimeError):
    pass


def load_yaml(path: Path) -> Any:
    """Parse a YAML file.

    Uses PyYAML in-process when the project venv has it, otherwise the tool
    venv's Python converts the file to JSON (PyYAML or ruamel.yaml there).  Raises
    YamlUnavailable when neither is there (callers skip).
    """
    try:
        import yaml  # type: ignore[import-not-found]
    except ImportError:
        py = tools_python()
        if py is None:
            raise YamlUnavailable("no PyYAML in this venv and " + INSTALL_HINT_TOOLS) from None
        proc = subprocess.run(
            [py, "-c", _YAML_TO_JSON, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            if "No module named" in proc.stderr:
                raise YamlUnavailable("no YAML library in the tool venv: " + INSTALL_HINT_TOOLS) from None
            raise ValueError(f"cannot parse {path}: {proc.stderr.strip()}") from None
        return json.loads(proc.stdout)
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)
