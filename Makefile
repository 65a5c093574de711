# One command per verb. Everything installs itself: a pinned uv into .local/tools, then the
# workspace (one lock file) into .venv. Only Python 3.11+ and make are needed beforehand.

SHELL := /bin/bash
UV_VERSION := 0.13.8
TOOLS := $(CURDIR)/.local/tools
UV := $(TOOLS)/bin/uv
PYTHON ?= python3
RUN := $(UV) run --frozen

.DEFAULT_GOAL := help

.PHONY: help
help: ## List every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages
	@touch $@

.PHONY: install
install: .venv/.synced ## Install uv and the whole workspace (done by every other target)

# Manifest tools live in their own locked environment: checkov pins packages the services outgrew.
DEPLOY_TOOLS := $(TOOLS)/deploy
$(DEPLOY_TOOLS)/.synced: $(UV) deploy/tools/uv.lock deploy/tools/pyproject.toml
	UV_PROJECT_ENVIRONMENT=$(DEPLOY_TOOLS) $(UV) sync --frozen --project deploy/tools
	@touch $@

.PHONY: run
run: install ## Run the system on embedded PostgreSQL and Kafka (or on the URLs you give)
	$(RUN) keel-devstack run

.PHONY: token
token: install ## Print a development token: make token SCOPE=partner:read PARTNER=p-1
	@$(RUN) keel-devstack token --scope $(or $(SCOPE),admin) $(if $(PARTNER),--partner-id $(PARTNER))

.PHONY: browser
browser: ## Debian's Chromium for the portal's browser tests (never `playwright install`)
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

.PHONY: dlq
dlq: install ## What the consumers dead-lettered from TOPIC, one JSON line each: make dlq TOPIC=deal.events.v1
	KAFKA_BOOTSTRAP_SERVERS=$${KAFKA_BOOTSTRAP_SERVERS:-$$(cat .local/kafka-servers)} $(RUN) keel-dlq $(TOPIC)

.PHONY: test
test: install browser k8s-validate ## Validate the manifests, then run every test against real PostgreSQL and Kafka
	$(RUN) pytest $(PYTEST_ARGS)

.PHONY: k8s-validate
k8s-validate: install $(DEPLOY_TOOLS)/.synced ## Validate offline: every overlay (yamllint, kubernetes-validate, checkov), the alert rules (promtool) and the dashboard
	@command -v promtool >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null)
	deploy/k8s/validate.sh $(CURDIR)/.venv/bin/kubectl $(DEPLOY_TOOLS)/bin

.PHONY: lint
lint: install ## ruff (lint and format check) and mypy
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy shared/src services/*/src

.PHONY: format
format: install ## Apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

SERVICES := activity-ingest credit-ledger tier-engine capacity partner-portal
REGISTRY ?= partner-credit
VERSION ?= 0.1.0

.PHONY: images
images: ## Build the five service images with Docker: make images REGISTRY=... VERSION=...
	for service in $(SERVICES); do \
	  docker build --build-arg SERVICE=$$service -t $(REGISTRY)/$$service:$(VERSION) . || exit 1; \
	done

.PHONY: asyncapi
asyncapi: install ## Write docs/asyncapi.json (AsyncAPI 3.0) from the event catalogue
	$(RUN) python -m keel.events.asyncapi docs/asyncapi.json

.PHONY: lock
lock: $(UV) ## Re-resolve the lock file after changing dependencies
	$(UV) lock

.PHONY: clean
clean: ## Remove the virtualenv and caches (keeps .local/postgres data)
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache

.PHONY: bench-ingest
bench-ingest: install ## Benchmark activity-ingest (starts the stack unless one runs): bench/results/ingest.json
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(RUN) python bench/ingest.py

.PHONY: bench-ledger
bench-ledger: install ## Benchmark credit-ledger (BENCH_LEDGER_EVENTS=200000 by default): bench/results/ledger.json
	$(RUN) python bench/ledger.py

.PHONY: bench-tier
bench-tier: install ## Benchmark the tier engine's rollup at 10k partners / 1M deals: bench/results/tier.json
	$(RUN) python bench/tier.py

.PHONY: bench-capacity
bench-capacity: install ## Benchmark capacity (50 clients over 1,000 partners): bench/results/capacity.json
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(RUN) python bench/registrations.py

.PHONY: demo
demo: install ## Post a seeded partner program into the running `make run` stack; prints sign-in links
	$(RUN) python demo/program.py

.PHONY: bench-portal
bench-portal: install ## Benchmark the partner portal (1,000 clients seeded through ingest): bench/results/portal.json
	$(RUN) python bench/portal.py
