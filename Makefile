# A newcomer's targets: `make run` serves the site with a worker, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= campaign.settings

.PHONY: run test lint format messages check-messages migrations-check deploy-check bench bench-smoke clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Development defaults: DEBUG on, SQLite and the filesystem broker under var/, mail on the console.
run: export DEBUG ?= 1
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py import_legislators --if-offline-skip $(if $(LEGISLATORS_FILE),"$(LEGISLATORS_FILE)")
	@echo "Serving http://127.0.0.1:$(PORT)/ with a Celery worker; Ctrl-C stops both."
	@PORT=$(PORT) VENV=$(VENV) bin/dev

# The test settings, whatever DJANGO_SETTINGS_MODULE the shell has: the line at the top exports
# campaign.settings, which pytest-django would otherwise prefer to pyproject.toml's choice.
test: export DJANGO_SETTINGS_MODULE = campaign.test_settings
test: $(VENV)/.installed
	$(VENV)/bin/pytest

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

# The load benchmark of issue 7 (docs/benchmarks.md): the production configuration on loopback,
# PostgreSQL on 5432 and Redis on 6379 (BENCH_DATABASE_URL, BENCH_REDIS_URL), driven by wrk.
bench: $(VENV)/.installed
	$(PY) bench/run.py

bench-smoke: $(VENV)/.installed
	$(PY) bench/run.py --smoke

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
