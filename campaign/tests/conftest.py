"""Processes started the way production starts them: bin/entrypoint, with production settings.

The shared fixtures (data, the SMTP server) come from petitions/tests/conftest.py.
"""

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from petitions.tests.conftest import (  # noqa: F401 - fixtures are found by name
    free_port,
    purge_broker,
    service_env,
    smtp_server,
    wait_until,
    worker_database_url,
)

BASE_DIR = Path(__file__).resolve().parents[2]
ENTRYPOINT = BASE_DIR / "bin" / "entrypoint"
SITE_HOST = "petition.example.org"


def production_env(**extra):
    """The environment of a production process: campaign.settings, DEBUG unset, nothing inherited.

    The test process's own environment is left out on purpose: test_settings puts test-only values
    there (SECRET_KEY, SECURE_SSL_REDIRECT=0) that production must do without.
    """
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "campaign.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": SITE_HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{SITE_HOST}",
        "SITE_URL": f"https://{SITE_HOST}",
        "CAMPAIGN_VAR_DIR": str(settings.VAR_DIR),
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    # Under a fake clock (Debian's faketime, `make test-clocks`) the site's processes keep the test's
    # date, as a deployment's web and workers share one: on the real clock, a mail worker sent no
    # confirmation for a signature the test had written a month before.
    env.update({name: os.environ[name] for name in ("LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED") if name in os.environ})
    env.update({key: str(value) for key, value in extra.items() if value is not None})
    return env


def web_env(port, static_root, **extra):
    """A production web process on PORT of loopback, on the test database, with two workers.

    One proxy in front (the signer's address is the last one in X-Forwarded-For), and the form's
    timing trap off: it expects a person's few seconds between page and submit.
    """
    return production_env(
        DATABASE_URL=worker_database_url(),
        STATIC_ROOT=static_root,
        PORT=port,
        BIND_HOST="127.0.0.1",
        WEB_CONCURRENCY=2,
        TRUSTED_PROXY_COUNT=1,
        SIGN_MIN_SECONDS=0,
        **extra,
    )


class Service:
    """A process of the site (bin/entrypoint ARGS), its output in a log file under var/."""

    def __init__(self, args, env, name):
        self.args = [str(ENTRYPOINT), *args]
        self.env = env
        self.log_path = Path(settings.VAR_DIR) / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log"
        self.process = None
        self.terminated = False

    def start(self, ready=None, timeout=60):
        """Start, then wait until READY appears in the output (or the process exits)."""
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603
            self.args, cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if ready:
            wait_until(
                lambda: ready in self.output() or self.process.poll() is not None,
                timeout=timeout,
                message=f"{' '.join(self.args[1:])} to print {ready!r}",
            )
            if ready not in self.output():
                raise AssertionError(f"{self.args} exited with {self.process.poll()}:\n{self.output()}")
        return self

    def output(self):
        return self.log_path.read_text(errors="replace")

    def terminate(self):
        if self.process and self.process.poll() is None and not self.terminated:
            self.process.send_signal(signal.SIGTERM)
            self.terminated = True

    def stop(self, timeout=30):
        """SIGTERM to the main process, as Docker stops a container; the return code says if it shut down
        cleanly. Stragglers of its process group are killed either way."""
        self.terminate()
        if self.process and self.process.poll() is None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.process and not self.log.closed:
            self.log.close()
        return self.process.returncode if self.process else None


@pytest.fixture
def start_service():
    """Start processes through bin/entrypoint; every one is stopped when the test ends."""
    started = []

    def start(args, env, name=None, ready=None, timeout=60):
        service = Service(args, env, name or args[0])
        started.append(service)
        return service.start(ready=ready, timeout=timeout)

    yield start
    # All at once: a worker's warm shutdown takes seconds, and they need not wait for each other.
    for service in started:
        service.terminate()
    for service in started:
        service.stop()


class RedisServer:
    """A redis-server of the test's own on a free loopback port, to stop and start again."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603
            [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=service_env(),
        )  # fmt: skip
        wait_until(self._answers, timeout=10, message=f"redis-server on port {self.port}")
        return self

    def _answers(self):
        import redis

        try:
            return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """STATIC_ROOT filled by collectstatic with production settings, as the image build does."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = production_env(STATIC_ROOT=root)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (root / "staticfiles.json").exists()
    return root
