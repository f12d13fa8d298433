# syntax=docker/dockerfile:1
#
# tollwatch worker image:  docker build -t tollwatch .
#   docker run --rm -e KAFKA_BOOTSTRAP_SERVERS=broker:9092 -p 6066:6066 tollwatch
# Used by docker-compose.yml; see deploy/README.md.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the project and its dependencies into a virtualenv ------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# A compiler for any dependency without a wheel for this platform; it stays
# in this stage and does not reach the runtime image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/tollwatch
ENV PATH=/opt/tollwatch/bin:$PATH

WORKDIR /src
# .dockerignore keeps the context to what `pip install .` needs.
COPY . .
RUN pip install --upgrade pip \
 && pip install . \
 && python -c "import stream.cli"

# --- runtime ------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/tollwatch/bin:$PATH \
    TOLLWATCH_DATA_DIR=/var/lib/tollwatch \
    TOLLWATCH_WEB_PORT=6066

# Unprivileged user; it owns the state directory so that a fresh (anonymous
# or named) volume mounted there inherits the ownership.
RUN groupadd --system --gid 10001 tollwatch \
 && useradd --system --uid 10001 --gid tollwatch --home-dir /var/lib/tollwatch \
      --no-create-home --shell /usr/sbin/nologin tollwatch \
 && mkdir -p /var/lib/tollwatch \
 && chown tollwatch:tollwatch /var/lib/tollwatch

COPY --from=build /opt/tollwatch /opt/tollwatch

USER 10001:10001
WORKDIR /var/lib/tollwatch

# RocksDB table state; rebuilt from the changelog topics when lost.
VOLUME ["/var/lib/tollwatch"]

# Faust web server: /metrics for Prometheus, the read API (/incidents), and /ready.
EXPOSE 6066

# Healthy once /ready says 200: partitions assigned and tables recovered from their
# changelogs (503 with the reason before, and while a rebalance restores partitions).

HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=4 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('TOLLWATCH_WEB_PORT', '6066'), timeout=5)"]

CMD ["tollwatch", "worker"]
