# syntax=docker/dockerfile:1
# One Dockerfile for every service image; the service is a build argument. Each image has one
# entry point, `service`, the service's own command, which takes the command as argument:
#   <service> api | worker | migrate | await-schema   (tier-engine adds rollup)
# Kubernetes probes decide health (no HEALTHCHECK). Build from the repository root:
#   docker build --build-arg SERVICE=capacity -t partner-credit/capacity .
# Both stages on the same Python image, so the virtualenv's interpreter links stay valid.
ARG SERVICE

FROM python:3.11-slim-bookworm AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<service>" >&2; exit 1; }
# uv as pinned in the Makefile (UV_VERSION).
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app
WORKDIR /src
# The lock decides every version. Dependencies first, so a source change reuses this layer;
# every member's pyproject.toml is needed to read the workspace, only this service is built.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/activity-ingest/pyproject.toml services/activity-ingest/
COPY services/credit-ledger/pyproject.toml services/credit-ledger/
COPY services/tier-engine/pyproject.toml services/tier-engine/
COPY services/capacity/pyproject.toml services/capacity/
COPY services/partner-portal/pyproject.toml services/partner-portal/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "$SERVICE"
# Production leaves out the dev group, so keel's embedded servers and test tools stay out.
COPY shared/ shared/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "$SERVICE" \
    && ln -s "/app/bin/$SERVICE" /app/bin/service

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
COPY --from=build /app /app
# Bytecode is compiled at build time: the root filesystem can be read-only.
ENV PATH=/app/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SERVICE_HOST=0.0.0.0
USER 10001:10001
EXPOSE 8000 9100
ENTRYPOINT ["service"]
CMD ["api"]
