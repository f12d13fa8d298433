# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TOOLS  := .venv-tools
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-fast lint install tools system-deps bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

# check-jsonschema pins a click newer than faust-streaming accepts: it lives in its own venv.
$(TOOLS)/.installed-stamp:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet check-jsonschema
	touch $@

tools: $(TOOLS)/.installed-stamp

# Debian's prometheus gives promtool and a real Prometheus server for the integration test.
# The tests start their own Prometheus on a free port; the package's service, which apt starts
# on install, is stopped right after installing it, and nothing else: a Prometheus the user
# runs is left alone.
system-deps:
	@if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then \
		echo "installing Debian package prometheus (promtool, prometheus)"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
		$$SUDO service prometheus stop >/dev/null 2>&1 || true; \
	fi

demo: $(STAMP)
	$(BIN)/tollwatch demo

test: $(STAMP) tools system-deps lint
	$(BIN)/pytest -q -ra

# Lint and types: configured in pyproject.toml ([tool.ruff], [tool.mypy]); both must be clean.
lint: $(STAMP)
	$(BIN)/ruff check stream tests
	$(BIN)/mypy

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not integration and not prometheus"

bench: $(STAMP)
	$(BIN)/tollwatch bench --extract ../shared/corpus/articles.jsonl

eval: $(STAMP)
	$(BIN)/tollwatch eval ../shared/corpus/articles.jsonl

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache
