# mudhub: `make run` sets up and serves the embedded mode; `make test` sets up and runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MUDHUB_BIND ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: run serve worker beat migrate seed test test-embedded fuzz lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

migrate: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput -v0

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py runserver $(MUDHUB_BIND)

serve: migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/gunicorn aggregator.wsgi:application --bind $(MUDHUB_BIND) --workers $${WEB_CONCURRENCY:-2} --access-logfile -

worker: migrate
	$(BIN)/celery -A aggregator worker --loglevel INFO

beat: migrate
	$(BIN)/celery -A aggregator beat --loglevel INFO --schedule var/celerybeat-schedule

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The embedded mode (SQLite, inline tasks, file cache) with no service configured:
# the API and pipeline tests that need no PostgreSQL, Redis or worker.
test-embedded: $(VENV)/.dev
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL \
		$(BIN)/python -m pytest -m "not postgres and not redis and not celery" $(PYTEST_ARGS)

# The contract test run long: schemathesis (every phase and check) against a live server on
# PostgreSQL with many more examples per operation than `make test` uses (thousands of requests).
FUZZ_EXAMPLES ?= 60
fuzz: $(VENV)/.dev
	MUDHUB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) MUDHUB_FUZZ_TIMEOUT=3600 \
		$(BIN)/python -m pytest tests/api/test_contract.py -s $(PYTEST_ARGS)

bench: $(VENV)/.dev
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .hypothesis
