"""`make run`'s bin/dev: the development site and its worker start together and stop together."""

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .conftest import BASE_DIR, free_port, wait_until

pytestmark = pytest.mark.slow


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _group_members(pgid):
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except ProcessLookupError:
                continue
    return members


def test_ctrl_c_stops_the_site_and_the_worker_together(tmp_path):
    port = free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "1",
        "CAMPAIGN_VAR_DIR": str(tmp_path / "var"),
        "PORT": str(port),
        "VENV": str(Path(sys.executable).parent.parent),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
    log = tmp_path / "dev.log"
    with open(log, "wb") as out:
        # A terminal's Ctrl-C sends SIGINT to the whole foreground process group: a session of our own
        # stands in for the terminal.
        dev = subprocess.Popen(
            [str(BASE_DIR / "bin" / "dev")], cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_until(lambda: b"ready." in log.read_bytes(), timeout=60, message="the worker")

        def site_answers():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    return answer.status == 200
            except OSError:
                return False

        wait_until(site_answers, timeout=60, message="the site")
        members = _group_members(dev.pid)
        assert len(members) >= 3, "bin/dev, the site and the worker"

        os.killpg(dev.pid, signal.SIGINT)

        dev.wait(timeout=60)
        wait_until(lambda: not any(_alive(pid) for pid in members), timeout=60, message="every process to end")
        assert not site_answers()
    finally:
        if dev.poll() is None or _group_members(dev.pid):
            os.killpg(dev.pid, signal.SIGKILL)
