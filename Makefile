# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := NETWORK_DEMO_MODE=1 NETWORK_PUBLIC_URL=http://$(HOST):$(PORT) $(BIN)/flask --app app

.PHONY: run test fuzz install lint clean translations catalogues cluster cluster-stop cluster-status

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
run: install catalogues
	$(FLASK) db upgrade
	$(FLASK) demo load
	@$(FLASK) demo accounts
	$(FLASK) run --host $(HOST) --port $(PORT)

# Two pytest-xdist workers (one per core of the development machine), whole test files to each: every worker has
# its own PostgreSQL and Redis databases (tests/conftest.py). TEST_WORKERS=0 runs the tests in this process.
TEST_WORKERS ?= 2
test: install catalogues
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The long fuzzing run (tests/fuzz, hypothesis profile "fuzz"): FUZZ_EXAMPLES inputs per form, import and API
# operation, bursts of 8 threads; prints the figures and writes them to tests/fuzz/last-run.json.
FUZZ_EXAMPLES ?= 300
fuzz: install
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/fuzz -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache

# The interface in the six UN languages (issue 13): English in the code, the five others in
# translations/<lang>/LC_MESSAGES/messages.po (docs/translations.md). `make translations` extracts the strings and
# merges them into every catalogue (a new string appears untranslated, a changed one "fuzzy"); translators then fill
# the .po files. The compiled .mo files are never committed: `make run` and `make test` build them from the .po
# files whenever a .po is newer (`make catalogues`), so a page never shows an old translation.
TRANSLATED := fr es ru ar zh
CATALOGUES := $(foreach lang,$(TRANSLATED),translations/$(lang)/LC_MESSAGES/messages.mo)

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _ln:1,2 -k lazy_ngettext:1,2 -k _lp:1c,2 -k lazy_pgettext:1c,2 --sort-by-file -o messages.pot .
	@for lang in $(TRANSLATED); do \
	  test -f translations/$$lang/LC_MESSAGES/messages.po \
	    || $(BIN)/pybabel init -i messages.pot -d translations -l $$lang; \
	done
	$(BIN)/pybabel update -i messages.pot -d translations
	$(MAKE) catalogues

catalogues: $(CATALOGUES)

# Written beside and then renamed: a test or a server reading the catalogue meanwhile sees the old or the new one.
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@.tmp
	mv $@.tmp $@

# A local cluster (issue 16): two gunicorn application servers on PostgreSQL and Redis behind nginx with TLS
# (https://127.0.0.1:8443, a self-signed certificate), plus the worker; deploy/cluster.sh says what it needs.
cluster: install catalogues
	bash deploy/cluster.sh start

cluster-stop:
	bash deploy/cluster.sh stop

cluster-status:
	bash deploy/cluster.sh status
