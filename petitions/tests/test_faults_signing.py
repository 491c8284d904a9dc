"""Faults while people sign: Redis stops, PostgreSQL restarts, the SMTP server refuses. Nothing is lost.

Each test starts the real thing on its own loopback port (never the shared servers), breaks it,
mends it, and ends with a count of what was kept.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.urls import reverse

from petitions.models import Letter, Signature
from petitions.signing import services
from petitions.tasks import sweep_confirmations

from .conftest import (
    BASE_DIR,
    WorkerProcess,
    free_port,
    make_president,
    service_env,
    sign_data,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.slow

REDIS_SERVER = shutil.which("redis-server")
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class RedisServer:
    """A throwaway redis-server on a free loopback port, without persistence."""

    def __init__(self, port):
        self.port = port
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=service_env()
        )
        wait_until(lambda: _port_open(self.port), timeout=10, message="redis-server to listen")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _port_open(port):
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class WebServer:
    """The site in its own process (Django's server), on the test database and the given Redis."""

    def __init__(self, env, log_path):
        self.port = free_port()
        self.env = env
        self.log_path = log_path
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until(lambda: _port_open(self.port), timeout=30, message="the web server to listen")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)
        self.log.close()


def sign_over_http(base, slug, session, **fields):
    page = session.get(f"{base}/be/p/{slug}/", timeout=30)
    assert page.status_code == 200
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if found:
        tokens = {"csrfmiddlewaretoken": found.group(1)}
    else:
        # The page is served from a shared cache without a token: sign.js fetches one, as here.
        tokens = session.get(f"{base}/be/p/{slug}/form-token/", timeout=30).json()
    data = {**sign_data(**fields), **tokens}
    return session.post(f"{base}/be/p/{slug}/", data=data, allow_redirects=False, timeout=30)


def run_manage(env, code, timeout=60):
    """Run Python in a Django shell of the site's settings, as the web or beat process would."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


@pytest.mark.skipif(not REDIS_SERVER, reason="redis-server is not installed")
def test_signatures_made_while_redis_is_down_are_saved_and_confirmed_later(
    petition, recipients, smtp_server, start_worker
):
    redis = RedisServer(free_port()).start()
    env = worker_env(REDIS_URL=redis.url, CONFIRMATION_SWEEP_GRACE_SECONDS=1)
    web = WebServer(env, settings.VAR_DIR / f"web-{os.getpid()}.log").start()
    try:
        start_worker(env={"REDIS_URL": redis.url, "CONFIRMATION_SWEEP_GRACE_SECONDS": 1})
        session = requests.Session()
        for n in range(3):
            assert sign_over_http(web.url, petition.slug, session, email=f"before{n}@example.org").status_code == 302
        smtp_server.wait_for(3)

        redis.stop()
        durations = []
        for n in range(4):
            started = time.monotonic()
            response = sign_over_http(web.url, petition.slug, session, email=f"during{n}@example.org")
            durations.append(time.monotonic() - started)
            assert response.status_code == 302, response.text[:500]
            assert response.headers["Location"].endswith(f"/p/{petition.slug}/signed/")
        assert session.get(f"{web.url}/be/", timeout=30).status_code == 200
        unsent = Signature.objects.filter(confirmation_sent_at__isnull=True)
        assert unsent.count() == 4 and Signature.objects.count() == 7
        time.sleep(1.5)
        assert len(smtp_server.messages) == 3

        redis.start()
        # What beat does every minute: send the confirmations whose reminder never reached the broker.
        assert run_manage(env, "from petitions.tasks import sweep_confirmations; print(sweep_confirmations())").strip()
        messages = smtp_server.wait_for(7, timeout=60)
        time.sleep(1)
        assert sorted(m["To"] for m in smtp_server.messages) == sorted(
            [f"before{n}@example.org" for n in range(3)] + [f"during{n}@example.org" for n in range(4)]
        ), "every signer got exactly one link"

        for message in messages:
            body = message.get_body(("plain",)).get_content()
            link = re.search(r"https?://\S+(/be/confirm/\S+/)", body).group(1)
            page = session.get(web.url + link, timeout=30)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            ids = [str(r.pk) for r in recipients]
            confirmed = session.post(
                web.url + link, data={"csrfmiddlewaretoken": token, "recipients": ids}, allow_redirects=False
            )
            assert confirmed.status_code == 302
    finally:
        web.stop()
        redis.stop()
    kept = Signature.objects.filter(status=Signature.Status.CONFIRMED).count()
    print(f"\nRedis outage: 7 signed (4 while down), {kept} confirmed, {len(messages)} links sent; "
          f"signing while down took {max(durations):.2f}s at most")  # fmt: skip
    assert kept == 7


# --- PostgreSQL ---------------------------------------------------------------------------------


class PostgresServer:
    """A throwaway PostgreSQL cluster under var/, owned by the postgres user when we run as root."""

    def __init__(self, data_dir, port):
        self.data_dir = Path(data_dir)
        self.port = port
        self.bin = Path(PG_BIN[-1])
        self.as_postgres = os.geteuid() == 0

    def _run(self, *command):
        command = [str(self.bin / command[0]), *command[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        if self.as_postgres:
            shutil.chown(self.data_dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "campaign", "-A", "trust", "-E", "UTF8", "--no-sync")
        return self

    def start(self):
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.data_dir / "log"), "-w", "start")
        return self

    def stop(self):
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def url(self, name):
        return f"postgres://campaign@127.0.0.1:{self.port}/{name}"


_MAKE_LETTERS = """
from petitions.signing import services
from petitions.models import Petition, Recipient, Signature
from petitions.tests.conftest import make_petition, sign_data
petition = Petition.objects.first() or make_petition()
president = Recipient.objects.filter(kind="president").first() or Recipient.objects.create(
    kind="president", name="The President", channel="email", channel_settings={{"address": "intake@wh.example"}})
for n in range({start}, {stop}):
    data = sign_data(email=f"signer{{n}}@example.org", recipients=[president])
    fields = {{k: data[k] for k in ("title", "first_name", "last_name", "email", "address", "city", "state",
              "zip_code", "phone", "note")}}
    signature = Signature.objects.create(
        petition=petition, language="en", letter_hash=petition.letter_hash(), letter_text=petition.letter_en,
        email_normalized=fields["email"], country="United States", **fields)
    signature.recipients.set([president])
    services.confirm_signature(signature)
"""
_COUNT = (
    "from petitions.models import Letter; "
    "print(Letter.objects.count(), Letter.objects.filter(status='delivered').count())"
)
_SWEEP = "from petitions.tasks import sweep_letters; sweep_letters(); "


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL's server binaries are not installed")
def test_the_worker_reconnects_after_postgresql_restarts_and_loses_no_letter(smtp_server):
    var = Path(settings.VAR_DIR) / f"pg-fault-{os.getpid()}"
    server = PostgresServer(var / "data", free_port()).init().start()
    worker = None
    try:
        env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
        subprocess.run(
            [str(server.bin / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "campaign", "faults"],
            check=True,
            timeout=60,
        )
        env.update(
            DJANGO_SETTINGS_MODULE="campaign.test_settings",
            DATABASE_URL=server.url("faults"),
            CAMPAIGN_VAR_DIR=str(var),
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_server.port),
            LETTER_LEASE_SECONDS="3",
            LETTER_RETRY_BASE_SECONDS="1",
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=BASE_DIR, env=env, check=True, timeout=120,
            capture_output=True,
        )  # fmt: skip
        worker = WorkerProcess(env, log_path=var / "worker.log").start()

        run_manage(env, _MAKE_LETTERS.format(start=0, stop=5))
        wait_until(lambda: run_manage(env, _COUNT).split() == ["5", "5"], timeout=60, message="the first letters")

        # Restart under the running worker, with letters just queued; then more letters after.
        run_manage(env, _MAKE_LETTERS.format(start=5, stop=10))
        server.stop()
        time.sleep(1)
        server.start()
        run_manage(env, _MAKE_LETTERS.format(start=10, stop=15))

        def all_delivered():
            # What beat does every minute: re-enqueue letters whose reminder or claim was lost.
            return run_manage(env, _SWEEP + _COUNT).split() == ["15", "15"]

        wait_until(all_delivered, timeout=120, interval=2, message="every letter delivered")
        letters = [m for m in smtp_server.messages if m["To"] == "intake@wh.example"]
        delivery_ids = {m["X-Delivery-Id"] for m in letters}
        print(f"\nPostgreSQL restart: 15 letters queued, 15 delivered, {len(letters)} e-mails "
              f"({len(letters) - len(delivery_ids)} duplicates)")  # fmt: skip
        assert len(delivery_ids) == 15
    finally:
        if worker:
            worker.stop()
        try:
            server.stop()
        finally:
            shutil.rmtree(var, ignore_errors=True)


# --- SMTP ---------------------------------------------------------------------------------------


def test_confirmations_and_letters_arrive_once_the_smtp_server_recovers(
    client, petition, smtp_server, start_worker, settings
):
    president = make_president(channel="email", channel_settings={"address": "intake@wh.example"})
    worker = start_worker(env={"LETTER_RETRY_BASE_SECONDS": 1, "CONFIRMATION_RETRY_SECONDS": 1})
    smtp_server.refuse()
    for n in range(3):
        data = sign_data(email=f"s{n}@example.org", recipients=["president"])
        assert client.post(reverse("petitions:detail", args=[petition.slug]), data).status_code == 302
    wait_until(lambda: worker.output().count("not sent yet") >= 1, timeout=30, message="refused confirmations")
    assert smtp_server.messages == []
    assert Signature.objects.filter(confirmation_sent_at__isnull=True).count() == 3

    # They wait in the database, not in the broker's retries: what beat does every minute sends them.
    smtp_server.accept()
    settings.CONFIRMATION_SWEEP_GRACE_SECONDS = 0
    time.sleep(1.5)
    assert sweep_confirmations() == 3
    smtp_server.wait_for(3, timeout=60)
    wait_until(lambda: not Signature.objects.filter(confirmation_sent_at__isnull=True).exists(), timeout=10)

    smtp_server.refuse()
    for signature in Signature.objects.all():
        assert services.confirm_signature(signature, [president.pk])
    wait_until(
        lambda: Letter.objects.filter(attempts__gte=1, status=Letter.Status.QUEUED).count() == 3,
        timeout=30,
        message="letters refused and waiting to retry",
    )
    smtp_server.accept()
    wait_until(
        lambda: Letter.objects.filter(status=Letter.Status.DELIVERED).count() == 3, timeout=60, message="letters"
    )
    messages = smtp_server.wait_for(9, timeout=60)
    letters = [m for m in messages if m["To"] == "intake@wh.example"]
    receipts = [m for m in messages if m["To"] != "intake@wh.example"]
    print(f"\nSMTP outage: 3 signed, 3 confirmed, {len(letters)} letters and {len(receipts)} other e-mails delivered")
    assert len({m["X-Delivery-Id"] for m in letters}) == 3
    assert len(receipts) == 6, "three confirmations and three receipts"
