# A newcomer's targets: `make run` serves the site with a worker, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= campaign.settings

.PHONY: run test test-in-window test-clocks lint format messages check-messages migrations-check deploy-check bench bench-smoke screenshots clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Development defaults: DEBUG on, SQLite and the embedded broker (a SQLite file) under var/, mail on the console.
run: export DEBUG ?= 1
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py import_legislators --if-offline-skip $(if $(LEGISLATORS_FILE),"$(LEGISLATORS_FILE)")
	@echo "Serving http://127.0.0.1:$(PORT)/ with a Celery worker; Ctrl-C stops both."
	@PORT=$(PORT) VENV=$(VENV) bin/dev

# The test settings, whatever DJANGO_SETTINGS_MODULE the shell has: the line at the top exports
# campaign.settings, which pytest-django would otherwise prefer to pyproject.toml's choice.
# Two processes (pytest-xdist), each file's tests in one of them: much of the suite waits on the
# servers, workers and browsers it starts. TEST_PROCESSES=0 runs it in this process alone.
TEST_PROCESSES ?= 2
PARALLEL := $(if $(filter-out 0,$(TEST_PROCESSES)),-n $(TEST_PROCESSES) --dist loadfile)
test: export DJANGO_SETTINGS_MODULE = campaign.test_settings
test: $(VENV)/.installed
	$(VENV)/bin/pytest $(PARALLEL)

# The delivery tests and the smoke benchmark again with the clock (Debian's faketime) inside the
# Senate's Sunday CWC maintenance window, 03:30 Eastern: the hour CI runs at never decides the result.
IN_WINDOW_TESTS := petitions/tests/test_cwc.py petitions/tests/test_cwc_windows.py petitions/tests/test_delivery.py \
	petitions/tests/test_delivery_faults.py petitions/tests/test_letter_batches.py bench/test_smoke.py
test-in-window: export DJANGO_SETTINGS_MODULE = campaign.test_settings
test-in-window: $(VENV)/.installed
	TZ=UTC faketime "2026-12-06 08:30:00" $(VENV)/bin/pytest -q -p no:cacheprovider $(PARALLEL) $(IN_WINDOW_TESTS)

# The whole suite at each moment that clock-bound code gets wrong, in two processes as `make test`
# runs it (6 min 20 s to 6 min 55 s a moment on PostgreSQL here): inside both CWC windows, the
# last seconds of a month, both America/New_York DST changes, a leap day.
CLOCKS := "2026-12-06 05:30:00" "2026-12-09 10:30:00" "2026-12-31 23:59:50" "2026-11-01 05:59:50" \
	"2027-03-14 06:59:50" "2028-02-29 12:00:00"
test-clocks: export DJANGO_SETTINGS_MODULE = campaign.test_settings
test-clocks: $(VENV)/.installed
	@for moment in $(CLOCKS); do \
		echo "The suite at $$moment UTC"; \
		TZ=UTC faketime "$$moment" $(VENV)/bin/pytest -q -p no:cacheprovider $(PARALLEL) || exit 1; \
	done

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerates the catalogues from the code and templates (needs GNU gettext), then compiles them.
# Both commands walk the whole tree: the virtualenv, var/ and collected static files are not ours.
MESSAGES_IGNORE := -i ".venv/*" -i "var/*" -i "staticfiles/*" -i "test-artifacts/*"
messages: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py makemessages --no-location --no-obsolete -l be -l en $(MESSAGES_IGNORE)
	DEBUG=1 $(PY) manage.py compilemessages -l be -l en $(MESSAGES_IGNORE)

# The load benchmark (docs/benchmarks.md): the production configuration on loopback, nginx in front,
# PostgreSQL on 5432 and Redis on 6379 (BENCH_DATABASE_URL, BENCH_REDIS_URL), driven by wrk.
bench: $(VENV)/.installed
	$(PY) bench/run.py

bench-smoke: $(VENV)/.installed
	$(PY) bench/run.py --smoke

# PNGs of the petition page (375 and 1280 px, both languages) and the admin's lists and dashboard
# under docs/screenshots/, from a demo site on 127.0.0.1 with its own SQLite under var/screenshots.
screenshots: $(VENV)/.installed
	$(PY) bin/screenshots

migrations-check: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

# `manage.py check --deploy` with production values (DEBUG unset, HTTPS settings at their defaults):
# any warning fails, as a real deployment must pass it.
deploy-check: $(VENV)/.installed
	env -u DEBUG -u SECURE_SSL_REDIRECT -u SESSION_COOKIE_SECURE -u CSRF_COOKIE_SECURE -u SECURE_HSTS_SECONDS \
		DJANGO_SETTINGS_MODULE=campaign.settings ALLOWED_HOSTS=petition.example.org \
		SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var staticfiles
