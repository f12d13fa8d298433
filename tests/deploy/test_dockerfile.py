"""Dockerfile and .dockerignore (no Docker engine here: static checks, plus a
wheel build from exactly the files the build context would contain)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from ._util import DOCKERFILE, DOCKERIGNORE, INSTALL_HINT_TOOLS, REPO, TOOLS_VENV


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined, comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    out: list[tuple[str, str]] = []
    buf = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def last(name: str) -> str:
    values = [args for instr, args in instructions() if instr == name]
    assert values, f"no {name} instruction"
    return values[-1]


def test_base_image_is_python_311_slim() -> None:
    args = dict(re.findall(r"(\w+)=(\S+)", " ".join(a for i, a in instructions() if i == "ARG")))
    froms = [a for i, a in instructions() if i == "FROM"]
    images = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], f.split()[0]) for f in froms]
    assert images and all(img == "python:3.11-slim" for img in images), images


def test_installs_the_project_with_pip() -> None:
    runs = " ".join(a for i, a in instructions() if i == "RUN")
    assert re.search(r"pip install (--no-cache-dir )?\.(\s|$)", runs), "expected `pip install .`"


def test_runs_as_non_root_user() -> None:
    user = last("USER").split(":")[0]
    assert user not in {"root", "0"}
    # the user exists and owns the state directory
    runs = " ".join(a for i, a in instructions() if i == "RUN")
    assert "useradd" in runs and "chown" in runs


def test_state_volume_port_and_command() -> None:
    envs = " ".join(a for i, a in instructions() if i == "ENV")
    data_dir = re.search(r"TOLLWATCH_DATA_DIR=(\S+)", envs).group(1)
    assert data_dir in json.loads(last("VOLUME"))
    assert last("EXPOSE").split() == ["6066"]
    assert re.search(r"TOLLWATCH_WEB_PORT=6066\b", envs)
    assert json.loads(last("CMD")) == ["tollwatch", "worker"]
    # Healthy means ready (partitions assigned, tables recovered), not merely listening.
    assert "/ready" in last("HEALTHCHECK") and "/metrics" not in last("HEALTHCHECK")


def test_compose_uses_the_image_data_dir(yaml_loader) -> None:
    from ._util import COMPOSE_FILE

    envs = " ".join(a for i, a in instructions() if i == "ENV")
    data_dir = re.search(r"TOLLWATCH_DATA_DIR=(\S+)", envs).group(1)
    compose = yaml_loader(COMPOSE_FILE)
    assert compose["services"]["worker"]["environment"]["TOLLWATCH_DATA_DIR"] == data_dir


# --- .dockerignore -------------------------------------------------------------------
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's patternmatcher: * and ? stay within a path element, ** spans any."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip().lstrip("/").rstrip("/")
        rules.append((negate, _pattern_regex(pattern)))
    return rules


def is_excluded(rel: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Last matching rule wins; a rule matching a parent directory applies to
    its contents."""
    parts = rel.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return excluded


def context_files() -> list[str]:
    """Files `docker build .` would send (git-tracked or not, minus .dockerignore)."""
    rules = dockerignore_rules()
    can_prune = not any(negate for negate, _ in rules)  # no `!` rule can re-include
    files = []
    for root, dirs, names in os.walk(REPO):
        rel_root = Path(root).relative_to(REPO).as_posix()
        rel_root = "" if rel_root == "." else rel_root + "/"
        if can_prune:
            dirs[:] = [d for d in dirs if not is_excluded(rel_root + d, rules)]
        files += [rel_root + n for n in names if not is_excluded(rel_root + n, rules)]
    return sorted(files)


def test_dockerignore_matcher() -> None:
    rules = [(False, _pattern_regex("**/__pycache__")), (False, _pattern_regex("tests")),
             (False, _pattern_regex("*.md")), (True, _pattern_regex("README.md"))]
    assert is_excluded("stream/__pycache__/x.pyc", rules)
    assert is_excluded("__pycache__/x.pyc", rules)
    assert is_excluded("tests/deploy/test_x.py", rules)
    assert not is_excluded("stream/tests.py", rules)
    assert is_excluded("NOTES.md", rules)
    assert not is_excluded("README.md", rules)
    assert not is_excluded("docs/NOTES.md", rules)


def test_dockerignore_keeps_what_pip_install_needs() -> None:
    rules = dockerignore_rules()
    needed = ["pyproject.toml", "stream/__init__.py", "stream/cli.py"]
    needed += [p.relative_to(REPO).as_posix() for p in (REPO / "stream").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for optional in ("README.md", "LICENSE", "setup.py", "setup.cfg", "MANIFEST.in"):
        if (REPO / optional).exists():
            needed.append(optional)
    for rel in needed:
        assert not is_excluded(rel, rules), f"{rel} is excluded from the build context"


def test_dockerignore_drops_local_state() -> None:
    rules = dockerignore_rules()
    for rel in (".git/HEAD", ".venv/bin/python", ".venv-tools/bin/python", "stream/__pycache__/cli.cpython-311.pyc",
                "tests/deploy/test_compose.py", "var/tollwatch-data/v1/tables/incidents-0.db/CURRENT",
                "tollwatch.egg-info/PKG-INFO", "build/lib/stream/cli.py"):
        assert is_excluded(rel, rules), rel


def test_build_context_installs(tmp_path: Path) -> None:
    """`pip install .` works on exactly the files the build context holds:
    build the wheel (isolated, like the Dockerfile's pip) from a copy of them."""
    pip = TOOLS_VENV / "bin" / "pip"
    if not pip.exists():
        pytest.skip(INSTALL_HINT_TOOLS)
    ctx = tmp_path / "context"
    for rel in context_files():
        dest = ctx / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest)
    proc = subprocess.run(
        [str(pip), "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist"), str(ctx)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "dist").glob("tollwatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "stream/cli.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    entry_points = next(zipfile.ZipFile(wheel).read(n) for n in names if n.endswith("entry_points.txt")).decode()
    assert re.search(r"^tollwatch\s*=\s*stream\.cli:main", entry_points, re.M)
    # package data declared in pyproject.toml reaches the image
    for data in (REPO / "stream" / "extract" / "data").glob("*"):
        if data.is_file():
            assert f"stream/extract/data/{data.name}" in names, data.name
