# The two commands a newcomer needs: `make demo` and `make test`. Each sets itself up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PERIOD ?= 2023-12

.PHONY: demo test setup system-packages bench smoke superset-check clean

setup: $(STAMP) system-packages

# Pinned dependencies from requirements.lock, then the project itself (editable, no deps).
$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Debian packages: CJK fonts for the bulletin; LibreOffice, Chromium, poppler, docker-compose for the tests.
system-packages:
	@scripts/ensure-system-packages.sh

demo: setup
	$(PY) scripts/demo.py --period $(PERIOD)

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The deployment shape live on this machine (no Docker): api-server, scheduler, dag-processor,
# triggerer and a Celery worker against throwaway PostgreSQL databases and Redis; the month
# triggered through the REST API; outputs and e-mails checked; everything stopped and dropped.
smoke: setup
	$(PY) scripts/smoke.py

# Apache Superset (dashboards/ bundle, SQL Lab) on a sample warehouse, checked in headless Chromium.
# Superset lives in its own virtualenv from superset/requirements.lock (its pins conflict with
# Airflow's), rebuilt only when the lock changes.
SUPERSET_VENV := .superset-venv
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed-stamp

$(SUPERSET_STAMP): superset/requirements.lock
	@test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/pip install --quiet --disable-pip-version-check -r superset/requirements.lock
	@touch $(SUPERSET_STAMP)

superset-check: setup $(SUPERSET_STAMP)
	$(PY) scripts/superset_check.py

# Province-scale benchmark against PostgreSQL COPY and a naive to_sql load; rewrites
# docs/performance.md (figures, machine, which targets hold). Not part of `make test`.
bench: setup
	$(PY) scripts/bench.py

clean:
	rm -rf output var .airflow inbox
