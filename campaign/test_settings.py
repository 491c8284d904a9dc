"""Settings for the test suite: the real settings, with test-only defaults.

Tests share a file database and broker folder with the worker processes they start, so both live
under var/test/ rather than in memory.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_base = Path(__file__).resolve().parent.parent
# `make test` runs the suite in parallel processes (pytest-xdist: gw0, gw1, ...). Each has a var/
# of its own (SQLite database, embedded broker, file cache, logs: var/test/gw0/) and a Redis
# database of its own, next after REDIS_URL's, so that the Celery workers one process starts never
# take another's messages or flush its keys. Each inherits the environment of pytest's main
# process, which has read this file already; the processes a test starts inherit the changed
# values and keep them (CAMPAIGN_TEST_PROCESS says they are set).
_process = os.environ.get("PYTEST_XDIST_WORKER", "")
if _process and os.environ.get("CAMPAIGN_TEST_PROCESS") != _process:
    os.environ["CAMPAIGN_TEST_PROCESS"] = _process
    _var = Path(os.environ.get("CAMPAIGN_VAR_DIR") or _base / "var" / "test")
    os.environ["CAMPAIGN_VAR_DIR"] = str(_var / _process)
    if os.environ.get("REDIS_URL"):
        _redis = urlsplit(os.environ["REDIS_URL"])
        _number = int(_redis.path.strip("/") or 0) + 1 + int(_process.removeprefix("gw"))
        os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{_number}"))
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("CAMPAIGN_VAR_DIR", str(_base / "var" / "test"))
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Browser tests talk plain HTTP to a live server on loopback.
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Tests sign many times a minute from 127.0.0.1, faster than any person: the abuse checks stay out
# of their way, and petitions/tests/test_abuse.py turns them back on at production values.
for _rates in (
    "SIGN_RATES_PER_IP", "SIGN_RATES_PER_NETWORK", "SIGN_RATES_PER_EMAIL", "RESEND_RATES_PER_IP",
    "RESEND_RATES_PER_NETWORK", "RESEND_RATES_PER_EMAIL", "CONFIRM_RATES_PER_IP", "CONFIRM_RATES_PER_NETWORK",
):  # fmt: skip
    os.environ.setdefault(_rates, "100000/m")
os.environ.setdefault("SIGN_MIN_SECONDS", "0")
# The Senate's CWC maintenance windows would make the suite's outcome depend on the hour it runs;
# petitions/tests/test_cwc_windows.py turns them on with the clock fixed inside and outside them.
os.environ.setdefault("CWC_MAINTENANCE_WINDOWS", "")
# The test client's login() passes no request, which django-axes refuses; test_access.py enables it.
os.environ.setdefault("AXES_ENABLED", "0")

from .settings import *  # noqa: E402,F403
from .settings import DATABASES, STORAGES, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
# Pages link static files by their plain names: the hashed names of production need collectstatic,
# which the tests that serve production settings run themselves (campaign/tests/test_gunicorn.py).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Whitenoise indexes STATIC_ROOT when the first request builds the middleware, and warns when it
# is missing: an empty folder of the tests' own, which production settings fill by collectstatic.
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
