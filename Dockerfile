# syntax=docker/dockerfile:1
#
# The telecare backend image: `telecare api` by default; `telecare ingest`, `telecare migrate` and
# `telecare simulate` with another command. It needs an external PostgreSQL/TimescaleDB and Mosquitto
# (TELECARE_DATABASE_URL, TELECARE_MQTT_URL): `telecare run`, which starts embedded servers, is for
# development machines and does not work in this image. See docs/production.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: build the wheel (the SQL migrations are package data inside it) and a venv from it ----
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# What is copied is filtered by .dockerignore.
COPY . .

# Every dependency ships manylinux wheels for CPython 3.11, so no compiler is needed here either.
# The venv has no pip or setuptools of its own: pip installs into it from outside (--python).
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install /wheels/telecare-*.whl

# ---- runtime: the interpreter, the venv and nothing else ----
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="telecare" \
      org.opencontainers.image.description="Telecare backend: MQTT ingest, HTTP API" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}" \
    TELECARE_API_HOST=0.0.0.0 \
    TELECARE_LOG_FORMAT=json

RUN groupadd --system --gid 10001 telecare \
    && useradd --system --uid 10001 --gid telecare --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin telecare

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
USER 10001:10001

EXPOSE 8000

# Liveness of the API process only; /ready also checks database, migrations and broker.
# curl is not in the slim image, so Python does the request. Services of this image that serve no
# HTTP (ingest, migrate) switch the check off in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('TELECARE_API_PORT', '8000') + '/health', timeout=4)"]

ENTRYPOINT ["telecare"]
CMD ["api"]
