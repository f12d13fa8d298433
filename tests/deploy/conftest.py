from __future__ import annotations

import pytest

from ._util import INSTALL_HINT_PROMTOOL, INSTALL_HINT_TOOLS, YamlUnavailable, check_jsonschema, load_yaml, promtool


@pytest.fixture(scope="session")
def promtool_path() -> str:
    path = promtool()
    if path is None:
        pytest.skip(INSTALL_HINT_PROMTOOL)
    return path


@pytest.fixture(scope="session")
def check_jsonschema_path() -> str:
    path = check_jsonschema()
    if path is None:
        pytest.skip("check-jsonschema not found (env CHECK_JSONSCHEMA or " + INSTALL_HINT_TOOLS + ")")
    return path


@pytest.fixture(scope="session")
def yaml_loader():
    """load_yaml, or skip when neither PyYAML nor the tool venv is available."""

    def load(path):
        try:
            return load_yaml(path)
        except YamlUnavailable as exc:
            pytest.skip(str(exc))

    return load
