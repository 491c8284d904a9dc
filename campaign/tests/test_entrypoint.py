"""bin/entrypoint, as the image runs it: web, worker by queue, beat and migrate on real local services."""

import json
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from petitions.models import Letter, Recipient
from petitions.signing import services
from petitions.tests.conftest import make_petition, make_president, sign_data

from .conftest import BASE_DIR, ENTRYPOINT, SITE_HOST, free_port, production_env, purge_broker, wait_until
from .conftest import worker_database_url as database_url

pytestmark = pytest.mark.slow


def _get(port, path):
    """(status, body) of GET PATH on loopback, with the site's host name as a load balancer sends it."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": SITE_HOST})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _web_env(port, **extra):
    return production_env(PORT=port, BIND_HOST="127.0.0.1", WEB_CONCURRENCY=1, WEB_THREADS=2, **extra)


def test_readyz_answers_503_while_redis_is_stopped_and_200_when_it_is_back(
    transactional_db, redis_server, start_service, collected_static
):
    port = free_port()
    env = _web_env(port, DATABASE_URL=database_url(), REDIS_URL=redis_server.url, STATIC_ROOT=collected_static)
    start_service(["web"], env, ready="Booting worker")
    wait_until(lambda: _get(port, "/healthz")[0] == 200, timeout=30, message="/healthz")
    assert json.loads(_get(port, "/readyz")[1]) == {
        "ready": True,
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "static": "ok",
        "migrations": "ok",
    }

    redis_server.stop()
    status, body = _get(port, "/readyz")
    assert status == 503
    assert json.loads(body) == {
        "ready": False,
        "database": "ok",
        "cache": "down",
        "broker": "down",
        "static": "ok",
        "migrations": "ok",
    }
    assert _get(port, "/healthz")[0] == 200, "the process is still up: only readiness fails"

    redis_server.start()
    wait_until(lambda: _get(port, "/readyz")[0] == 200, timeout=10, message="/readyz to recover")


def test_the_web_process_refuses_to_start_without_a_secret_key(start_service):
    env = _web_env(free_port())
    del env["SECRET_KEY"]
    web = start_service(["web"], env)
    wait_until(lambda: web.process.poll() is not None, timeout=60, message="gunicorn to give up")
    assert web.process.returncode != 0
    assert "SECRET_KEY is not set" in web.output()


def test_healthcheck_asks_the_web_process_with_an_allowed_host_name(transactional_db, start_service):
    port = free_port()
    env = _web_env(port, DATABASE_URL=database_url())
    check = production_env(PORT=port, ALLOWED_HOSTS=f".{SITE_HOST},localhost")
    assert subprocess.run([ENTRYPOINT, "healthcheck"], env=check, capture_output=True).returncode == 1  # noqa: S603
    start_service(["web"], env, ready="Booting worker")
    wait_until(
        lambda: subprocess.run([ENTRYPOINT, "healthcheck"], env=check, capture_output=True).returncode == 0,  # noqa: S603
        timeout=30,
        message="bin/entrypoint healthcheck to pass",
    )


def _sign(petition, recipients):
    data = {
        **sign_data(),
        "country": "",
        "wants_updates": False,
        "recipients": recipients,
    }
    return services.sign(petition, data, "en")


def test_a_mail_worker_sends_confirmations_and_leaves_letters_to_the_letters_worker(
    transactional_db, smtp_server, start_service
):
    purge_broker()
    petition = make_petition()
    president = make_president(channel=Recipient.Channel.EMAIL, channel_settings={"address": "letters@example.gov"})
    env = production_env(DATABASE_URL=database_url(), EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp_server.port)
    mail_worker = start_service(["worker", "mail"], env, name="worker-mail", ready="ready.")
    # Its tasks wait on the network: three processes per core unless WORKER_CONCURRENCY says otherwise.
    assert f"concurrency: {3 * os.cpu_count()} (prefork)" in mail_worker.output()

    signature = _sign(petition, [president])
    [confirmation] = smtp_server.wait_for(1)
    assert confirmation["To"] == "ada@example.org"

    assert services.confirm_signature(signature)
    [letter] = Letter.objects.all()
    receipt = smtp_server.wait_for(2)[1]
    assert receipt["To"] == "ada@example.org"
    # The receipt went out after the letter was queued: the mail worker left the letter alone.
    letter.refresh_from_db()
    assert letter.status == Letter.Status.QUEUED and letter.attempts == 0

    env["WORKER_CONCURRENCY"] = "2"
    letters_worker = start_service(["worker", "letters"], env, name="worker-letters", ready="ready.")
    assert "concurrency: 2 (prefork)" in letters_worker.output()
    wait_until(
        lambda: Letter.objects.filter(pk=letter.pk, status=Letter.Status.DELIVERED).exists(),
        timeout=30,
        message="the letters worker to deliver the letter",
    )
    assert smtp_server.wait_for(3)[2]["To"] == "letters@example.gov"


def test_beat_starts_keeps_its_schedule_under_var_and_stops_cleanly(transactional_db, start_service, settings):
    env = production_env(DATABASE_URL=database_url())
    beat = start_service(["beat"], env, ready="beat: Starting...")
    wait_until(lambda: list(settings.VAR_DIR.glob("celerybeat-schedule*")), timeout=10, message="the schedule file")
    assert beat.process.poll() is None
    assert beat.stop() == 0


def test_migrate_applies_the_migrations_then_exits(tmp_path):
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}", CAMPAIGN_VAR_DIR=tmp_path)
    first = subprocess.run([ENTRYPOINT, "migrate"], cwd=BASE_DIR, env=env, capture_output=True, text=True)  # noqa: S603
    assert first.returncode == 0, first.stderr
    assert "Applying petitions.0001" in first.stdout
    again = subprocess.run([ENTRYPOINT, "migrate"], cwd=BASE_DIR, env=env, capture_output=True, text=True)  # noqa: S603
    assert again.returncode == 0 and "No migrations to apply." in again.stdout
