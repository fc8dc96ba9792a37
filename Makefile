# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := NETWORK_DEMO_MODE=1 NETWORK_PUBLIC_URL=http://$(HOST):$(PORT) $(BIN)/flask --app app

.PHONY: run test fuzz install lint clean translations cluster cluster-stop cluster-status

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet ".[test]"
	$(BIN)/python -m pip uninstall --quiet --yes practitioners-network >/dev/null 2>&1 || true
	touch $@

install: $(VENV)/.installed

# Demo mode: secrets are generated in the instance folder, mail goes to the console.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@$(FLASK) demo accounts
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long fuzzing run (tests/fuzz, hypothesis profile "fuzz"): FUZZ_EXAMPLES inputs per form, import and API
# operation, bursts of 8 threads; prints the figures and writes them to tests/fuzz/last-run.json.
FUZZ_EXAMPLES ?= 300
fuzz: install
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/fuzz -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache

# Extract user-facing strings for translators (the six UN languages: en, fr, es, ru, ar, zh).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o messages.pot .
	@echo "messages.pot written; create a language with: $(BIN)/pybabel init -i messages.pot -d translations -l fr"

# A local cluster (issue 16): two gunicorn application servers on PostgreSQL and Redis behind nginx with TLS
# (https://127.0.0.1:8443, a self-signed certificate), plus the worker; deploy/cluster.sh says what it needs.
cluster: install
	bash deploy/cluster.sh start

cluster-stop:
	bash deploy/cluster.sh stop

cluster-status:
	bash deploy/cluster.sh status
