"""Shared test data and real local servers: an SMTP server on loopback and Celery worker processes."""

import contextlib
import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from petitions import demo, tasks
from petitions.models import Petition, Recipient, Signature, forget_kept

from .browser import chromium, open_page, site  # noqa: F401 - fixtures for the browser tests

BASE_DIR = Path(__file__).resolve().parents[2]
SHARED_DATA = BASE_DIR.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a request leaves its own active in the thread, so
    a test that reverse()s without a language would otherwise depend on the test that ran before it."""
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _nothing_kept():
    """Every test reads the blocked lists and the officials afresh: a rolled-back test leaves no
    signal behind, so what an earlier test kept in memory (models.kept) would outlive its rows."""
    forget_kept()


@pytest.fixture(autouse=True)
def _no_worker_reminded():
    """Every test's first pending signature and first confirmation remind a worker: a reminder an
    earlier test set in the cache (Redis or files, outliving the test) would otherwise say one is
    already on its way."""
    from django.core.cache import cache

    cache.delete_many(
        [
            tasks.CONFIRMATIONS_REMINDED_KEY,
            tasks.CONFIRMATIONS_HELD_KEY,
            tasks.LETTERS_REMINDED_KEY,
            tasks.PACED_LETTERS_REMINDED_KEY,
        ]
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env():
    """The environment for a server a test starts (redis-server): without a fake clock.

    The suite is run under Debian's faketime to show that no test depends on the date or hour
    (`make test-clocks`); a server is outside the code under test, as PostgreSQL is, and
    redis-server does not start with libfaketime loaded.
    """
    return {name: value for name, value in os.environ.items() if name not in ("LD_PRELOAD", "FAKETIME")}


def wait_until(predicate, timeout=30, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


# --- Data -------------------------------------------------------------------------------------


def make_petition(**fields):
    values = {
        "slug": "free-political-prisoners",
        "title_be": demo.TITLE_BE,
        "title_en": demo.TITLE_EN,
        "introduction_be": demo.INTRODUCTION_BE,
        "introduction_en": demo.INTRODUCTION_EN,
        "letter_be": demo.LETTER_BE,
        "letter_en": demo.LETTER_EN,
        "goal": 100,
        "status": Petition.Status.OPEN,
    }
    values.update(fields)
    petition = Petition.objects.create(**values)
    # SQLite test databases hand out the same primary keys again after each test's rollback, and
    # the cache outlives the test: a count cached by an earlier test must not show up here.
    petition.forget_count()
    return petition


def make_confirmed_signatures(petition, count):
    """COUNT confirmed signatures from Iowa on PETITION, with the cached count forgotten."""
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            status=Signature.Status.CONFIRMED,
            title="Ms.",
            first_name="A",
            last_name="B",
            email=f"s{n}@example.org",
            email_normalized=f"s{n}@example.org",
            address="1 Main St",
            city="Ames",
            state="IA",
            zip_code="50010",
            language="be",
            letter_hash=petition.letter_hash(),
        )
        for n in range(count)
    )
    petition.forget_count()


def make_senator(state="IA", senate_class=2, name="Joni Ernst", last_name="Ernst", **fields):
    values = {
        "kind": Recipient.Kind.SENATOR,
        "name": name,
        "last_name": last_name,
        "state": state,
        "senate_class": senate_class,
        "bioguide_id": f"X{state}{senate_class}{Recipient.objects.count():03d}",
    }
    values.update(fields)
    return Recipient.objects.create(**values)


def make_president(**fields):
    values = {"kind": Recipient.Kind.PRESIDENT, "name": "The President of the United States"}
    values.update(fields)
    return Recipient.objects.create(**values)


def sign_data(**overrides):
    """A valid sign-form submission from Iowa writing to both senators and the President."""
    data = {
        "title": "Ms.",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "address": "1007 Grand Ave",
        "city": "Des Moines",
        "state": "IA",
        "zip_code": "50309",
        "country": "",
        "phone": "",
        "note": "",
        "recipients": ["senators", "president"],
        "consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def petition(db):
    return make_petition()


@pytest.fixture
def recipients(db):
    """Iowa's two senators and the President."""
    return [
        make_senator("IA", 2, "Joni Ernst", "Ernst"),
        make_senator("IA", 3, "Chuck Grassley", "Grassley"),
        make_president(),
    ]


# --- SMTP -------------------------------------------------------------------------------------


class RecordingHandler:
    """An aiosmtpd handler that keeps every message it receives, or refuses them while told to."""

    def __init__(self):
        self.messages = []
        self.refuse_with = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self):
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def wait_for(self, count, timeout=30):
        wait_until(lambda: len(self.messages) >= count, timeout, message=f"{count} e-mails")
        return self.messages

    def refuse(self, reply="451 4.3.0 Try again later"):
        self.handler.refuse_with = reply

    def accept(self):
        self.handler.refuse_with = None


@pytest.fixture
def smtp_server(settings):
    server = SMTPServer()
    server.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    yield server
    server.controller.stop()


@pytest.fixture
def sessions(smtp_server):
    """The client address of each message the server took: one per SMTP connection used."""
    from petitions import smtp

    peers = []
    handle_data = smtp_server.handler.handle_DATA

    async def recording(server, session, envelope):
        answer = await handle_data(server, session, envelope)
        if answer.startswith("250"):
            peers.append(session.peer)
        return answer

    smtp_server.handler.handle_DATA = recording
    smtp.kept.close()
    yield peers
    smtp.kept.close()


# --- Celery workers ---------------------------------------------------------------------------


def run_as_a_worker(task, *args):
    """Run TASK's body as a worker would: a retry publishes a new message and raises Retry."""
    task.push_request(id="test-run", args=list(args), kwargs={}, retries=0, called_directly=False, is_eager=False)
    try:
        return task.run(*args)
    finally:
        task.pop_request()


def worker_database_url():
    """The address of the test database, for processes the tests start."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def purge_broker():
    """Drop messages left by earlier tests: they name rows of a database that no longer exists.

    The keys that say a reminder is waiting in the broker go with them: left set, they would stop
    this test's signer from reminding a worker for up to a minute.
    """
    cache.delete_many(
        [
            tasks.CONFIRMATIONS_REMINDED_KEY,
            tasks.CONFIRMATIONS_HELD_KEY,
            tasks.LETTERS_REMINDED_KEY,
            tasks.PACED_LETTERS_REMINDED_KEY,
        ]
    )
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        from campaign.celery import app

        with app.connection_for_write() as conn:
            for queue in ("mail", "letters", "news"):
                conn.default_channel.queue_purge(queue)


class WorkerProcess:
    """A real `celery worker` process on the test database and broker."""

    def __init__(self, env, queues="mail,letters,news", concurrency=1, log_path=None, extra_args=()):
        self.env = env
        self.queues = queues
        self.concurrency = concurrency
        self.log_path = Path(log_path or settings.VAR_DIR / f"worker-{os.getpid()}-{time.monotonic_ns()}.log")
        self.extra_args = list(extra_args)
        self.process = None

    def start(self):
        command = [
            sys.executable, "-m", "celery", "-A", "campaign", "worker", "-Q", self.queues,
            f"--concurrency={self.concurrency}", "--pool=prefork", "--loglevel=INFO", "--without-gossip",
            "--without-mingle", "--without-heartbeat", *self.extra_args,
        ]  # fmt: skip
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        start_offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until(
            lambda: b"ready." in self.log_path.read_bytes()[start_offset:] or self.process.poll() is not None,
            timeout=60,
            message="the Celery worker to start",
        )
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited early:\n{self.output()}")
        return self

    def output(self):
        return self.log_path.read_text(errors="replace")

    def kill(self):
        """SIGKILL the worker and its pool children at once, as a crash or OOM kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self):
        if self.process and self.process.poll() is None:
            # SIGTERM to the main process alone: it stops its pool children itself (a warm shutdown).
            # Signalling the whole group kills the children under it and leaves it waiting for them.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # Any pool child left behind.
        if not self.log.closed:
            self.log.close()


def worker_env(**extra):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="campaign.test_settings",
        DATABASE_URL=worker_database_url(),
        CAMPAIGN_VAR_DIR=str(settings.VAR_DIR),
        SITE_URL=settings.SITE_URL,
    )
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        env.update(EMAIL_HOST=settings.EMAIL_HOST, EMAIL_PORT=str(settings.EMAIL_PORT))
    env.update({key: str(value) for key, value in extra.items()})
    return env


@pytest.fixture
def start_worker(transactional_db):
    """Start real Celery workers; every one is stopped when the test ends."""
    workers = []
    purge_broker()

    def start(**kwargs):
        env = worker_env(**kwargs.pop("env", {}))
        worker = WorkerProcess(env, **kwargs).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


# --- Receivers of letters ---------------------------------------------------------------------


@pytest.fixture
def cwc_receiver(settings):
    """A CWC endpoint on loopback that validates every message; the site's CWC settings point at it."""
    from .receivers import CWCReceiver, cwc_settings

    receiver = CWCReceiver().start()
    for name, value in cwc_settings(receiver.endpoint).items():
        setattr(settings, name, value)
    yield receiver
    receiver.stop()


@pytest.fixture
def http_receiver():
    """An HTTP endpoint on loopback that records what is POSTed to it."""
    from .receivers import HTTPReceiver

    receiver = HTTPReceiver().start()
    yield receiver
    receiver.stop()
