# syntax=docker/dockerfile:1
# One image for every tracking process: the API (`serve`, the default command), the Kafka
# consumer (`consume`), the migration (`migrate`) and the metrics run (`calculate-metrics`).
#
#   docker build -t tracking:local .
#   docker run --rm tracking:local --help
#
# The builder installs the locked dependencies and the project (as a wheel, with its migrations)
# into /app/.venv; the final image holds that virtual environment and nothing else of the build.

# Both stages must use the same Python: the virtual environment points at its interpreter.
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /bin/uv
# The base image's Python, never a downloaded one; the environment outside the source tree.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# The dependencies first, from the lock alone: this layer is rebuilt only when uv.lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    uv sync --locked --no-dev --no-install-project --no-editable

# Then the project itself, installed as a wheel (not editable), so the environment needs no
# source tree. The wheel carries the migrations (pyproject.toml: force-include).
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
COPY migrations ./migrations
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable


FROM ${PYTHON_IMAGE}

# The user the Kubernetes manifests run as (securityContext.runAsUser/runAsGroup: 10001).
RUN groupadd --system --gid 10001 tracking \
    && useradd --system --uid 10001 --gid tracking --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin tracking

COPY --from=builder /app/.venv /app/.venv

# The bytecode was compiled in the builder, so Python writes none at run time and the root
# filesystem can be read-only. In a container, listen on its own interfaces, not on loopback.
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1 \
    TRACKING_HTTP_HOST=0.0.0.0
WORKDIR /app
USER 10001:10001

# 8000: the API (TRACKING_HTTP_PORT); 8001: the consumer's health and metrics (TRACKING_CONSUMER_PORT).
EXPOSE 8000 8001
ENTRYPOINT ["tracking"]
CMD ["serve"]
