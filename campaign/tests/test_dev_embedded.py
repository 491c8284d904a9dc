"""`make run`'s bin/dev on the embedded default, with nothing set but a var/ of its own: the SQLite
broker keeps up with thousands of messages while people sign, a dead worker is replaced while the
site keeps answering, and Ctrl-C or SIGTERM to the process group ends everything promptly with 0."""

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from .conftest import BASE_DIR, free_port, wait_until

pytestmark = pytest.mark.slow

MESSAGES = 2000
SIGNERS = 5


def _processes_of(var):
    """Every process started with CAMPAIGN_VAR_DIR=var: bin/dev, the site, the worker, its children."""
    marker = f"CAMPAIGN_VAR_DIR={var}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Dev:
    def __init__(self, tmp_path):
        self.var = tmp_path / "var"
        self.port = free_port()
        self.log = tmp_path / "dev.log"
        self.env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DEBUG": "1",
            "CAMPAIGN_VAR_DIR": str(self.var),
            "PORT": str(self.port),
            "VENV": str(Path(sys.executable).parent.parent),
            # Many signers from 127.0.0.1 within seconds, faster than any person.
            "SIGN_RATES_PER_IP": "100000/m",
            "SIGN_RATES_PER_NETWORK": "100000/m",
            "SIGN_MIN_SECONDS": "0",
        }
        self.process = None

    def manage(self, *args, **kwargs):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env, check=True, timeout=120, **kwargs
        )

    def start(self):
        self.manage("migrate", "-v0")
        self.manage("load_demo", capture_output=True)
        with open(self.log, "wb") as out:
            # A session of its own stands in for the terminal, whose Ctrl-C goes to the whole group.
            self.process = subprocess.Popen(
                [str(BASE_DIR / "bin" / "dev")], cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_until(lambda: self.output().count("ready.") >= 1, timeout=90, message="the worker")
        wait_until(self.site_answers, timeout=90, message="the site")
        return self

    def output(self):
        return self.log.read_text(errors="replace")

    def site_answers(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as answer:
                return answer.status == 200
        except OSError:
            return False

    def worker(self):
        """The worker's main process: it leads its own process group."""
        for pid in _processes_of(self.var):
            if "celery" in _cmdline(pid) and os.getpgid(pid) == pid:
                return pid
        return None

    def queued(self):
        with sqlite3.connect(self.var / "broker.sqlite3", timeout=30) as broker:
            return broker.execute("SELECT count(*) FROM kombu_message").fetchone()[0]

    def kill_everything(self):
        for pid in _processes_of(self.var):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def dev(tmp_path):
    dev = Dev(tmp_path)
    try:
        yield dev.start()
    finally:
        dev.kill_everything()


def _sign(base, number):
    session = requests.Session()
    page = session.get(f"{base}/be/p/free-political-prisoners/", timeout=30)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    data = {
        "title": "Ms.", "first_name": "Ada", "last_name": f"Signer{number}", "email": f"signer{number}@example.org",
        "address": "1007 Grand Ave", "city": "Des Moines", "state": "IA", "zip_code": "50309", "country": "",
        "phone": "", "note": "", "recipients": ["president"], "consent": "on",
    }  # fmt: skip
    if token:
        data["csrfmiddlewaretoken"] = token.group(1)
    else:
        # The page is one cached copy for everyone: its script fetches this visitor's token.
        token_url = re.search(r'data-token-url="([^"]+)"', page.text).group(1)
        data.update(session.get(f"{base}{token_url}", timeout=30).json())
    signed = session.post(
        f"{base}/be/p/free-political-prisoners/", data=data, headers={"Origin": base}, allow_redirects=False,
        timeout=60,
    )  # fmt: skip
    assert signed.status_code == 302, signed.text[:1000]


def test_every_message_queued_while_people_sign_is_consumed(dev):
    base = f"http://127.0.0.1:{dev.port}"
    # Thousands of cheap tasks on two queues from another process, as fast as it can publish them,
    # while supporters sign through the site, whose confirmations go on the mail queue.
    publisher = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c",
         "from campaign.celery import app\n"
         f"for n in range({MESSAGES}):\n"
         "    app.send_task('petitions.tasks.resume_updates' if n % 2 else 'petitions.tasks.sweep_confirmations')\n"],
        cwd=BASE_DIR, env=dev.env,
    )  # fmt: skip
    try:
        wait_until(lambda: dev.queued() > 0 or publisher.poll() is not None, timeout=60, message="publishing")
        for number in range(SIGNERS):
            _sign(base, number)
        assert publisher.wait(timeout=240) == 0
    finally:
        if publisher.poll() is None:
            publisher.kill()

    def consumed():
        output = dev.output()
        done = len(re.findall(r"Task petitions\.tasks\.(resume_updates|sweep_confirmations)\[\S+\] succeeded", output))
        return dev.queued() == 0 and done >= MESSAGES

    wait_until(consumed, timeout=300, interval=1, message=f"{MESSAGES} messages to be consumed")
    output = dev.output()
    for number in range(SIGNERS):
        wait_until(lambda n=number: f"signer{n}@example.org" in dev.output(), timeout=60, message="confirmations")
    assert "JSONDecodeError" not in output
    assert "bin/dev: the worker exited" not in output, "the worker never died"
    assert dev.site_answers()


def test_a_killed_worker_is_replaced_and_the_site_keeps_answering(dev):
    first = dev.worker()
    children = [pid for pid in _processes_of(dev.var) if os.getpgid(pid) == first]
    assert len(children) >= 3, "the worker, its pool and beat"

    os.kill(first, signal.SIGKILL)

    wait_until(lambda: "bin/dev: the worker exited with status 137; starting another in 1s" in dev.output(),
               timeout=30, message="bin/dev to notice")  # fmt: skip
    assert dev.site_answers()
    wait_until(lambda: dev.output().count("ready.") >= 2, timeout=90, message="a new worker")
    second = dev.worker()
    assert second and second != first
    assert dev.site_answers()
    # What the dead worker left, its pool and its beat, is gone: no second beat sends every task twice.
    wait_until(lambda: not any(pid in _processes_of(dev.var) for pid in children), timeout=30, message="leftovers")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_the_process_group_ends_everything_with_status_0(dev, signum):
    assert len(_processes_of(dev.var)) >= 5, "bin/dev, the site (two processes), the worker, its pool and beat"
    started = time.monotonic()

    os.killpg(dev.process.pid, signum)

    assert dev.process.wait(timeout=30) == 0
    wait_until(lambda: not _processes_of(dev.var), timeout=10, message="every process to end")
    assert time.monotonic() - started < 20
    assert "did not stop" not in dev.output()
