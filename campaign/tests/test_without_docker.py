"""docs/deploy.md's "Without Docker" steps, followed as written on a fresh copy of the repository.

The commands are read from the section's code block, so the doc and this test cannot drift apart.
Only what a deployer fills in is substituted, each in SUBSTITUTIONS or in the environment file
made from .env.example (secrets, addresses, the port, the first organizer's answers), plus one
substitution for the test's sake: the virtualenv is the suite's own, so that step 1's
`pip install -r requirements.txt` finds every pinned package installed and, with PIP_NO_INDEX,
never reaches the network. Everything listens on 127.0.0.1, on the test database and Redis.
"""

import contextlib
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from petitions.models import Recipient
from petitions.tests.conftest import make_petition

from .conftest import BASE_DIR, SITE_HOST, free_port, wait_until, worker_database_url
from .test_readme import dataset_server  # noqa: F401 - a fixture, found by name

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DEPLOY_DOC = BASE_DIR / "docs" / "deploy.md"
USERNAME = "organizer"

# The doc's text on the left, what the test runs in its place on the right.
SUBSTITUTIONS = {
    "python3 -m venv .venv": f"ln -s {BASE_DIR / '.venv'} .venv",
    "<that username>": USERNAME,
}


def _documented_steps():
    """The commands of the "Without Docker" section's code block, in order, comments dropped."""
    section = DEPLOY_DOC.read_text().split("\n## Without Docker\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    steps = [re.split(r"\s+#\s", line, maxsplit=1)[0].strip() for line in block.splitlines()]
    return [step for step in steps if step]


def _substituted(steps, env_file):
    text = "\n".join(steps)
    for written, run in {**SUBSTITUTIONS, "/etc/campaign.env": str(env_file)}.items():
        assert written in text, f"docs/deploy.md no longer says {written!r}: update SUBSTITUTIONS"
        text = text.replace(written, run)
    return text.splitlines()


def _fresh_copy(destination):
    """The files git tracks, as they are in the working tree: what a clone of this commit holds."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=BASE_DIR, capture_output=True, check=True)  # noqa: S607
    for name in listed.stdout.decode().split("\0"):
        source = BASE_DIR / name
        if name and source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def _environment_file(path, filled):
    """.env.example with the deployer's values filled in, each in place of its (commented) line."""
    text = (BASE_DIR / ".env.example").read_text()
    for name, value in filled.items():
        line = f"{name}={value}"
        text, found = re.subn(rf"^#?\s*{name}=.*$", lambda _, line=line: line, text, count=1, flags=re.MULTILINE)
        assert found, f".env.example has no line for {name}"
    path.write_text(text)


def _shell_env():
    """A deployer's login shell: no Django settings, no virtualenv on PATH, no fake clock."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def _run(script, cwd, timeout=300):
    return subprocess.run(  # noqa: S603
        ["/bin/bash", "-c", script], cwd=cwd, env=_shell_env(), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _run_answering(script, cwd, answers, timeout=120):
    """Run SCRIPT on a terminal of its own, typing each of ANSWERS once its prompt has appeared.

    createsuperuser asks only on a terminal, and reads the password with echo off, which discards
    whatever was typed before the prompt: hence one answer at a time.
    """
    primary, secondary = os.openpty()
    process = subprocess.Popen(  # noqa: S603
        ["/bin/bash", "-c", script], cwd=cwd, env=_shell_env(),
        stdin=secondary, stdout=secondary, stderr=secondary, start_new_session=True,
    )  # fmt: skip
    os.close(secondary)
    output, position, pending = b"", 0, list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([primary], [], [], 0.2)[0]:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:  # EIO: the command and everything it started have exited.
                    break
                if not chunk:
                    break
                output += chunk
            # A prompt (in the site's default language) ends in ": " and waits for its answer.
            if pending and len(output) > position and output.endswith(b": "):
                position = len(output)
                os.write(primary, pending.pop(0).encode() + b"\n")
        else:
            raise AssertionError(f"{script!r} still waits after {timeout}s:\n{output.decode(errors='replace')}")
        process.wait(10)
    finally:
        os.close(primary)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    return process.returncode, output.decode(errors="replace")


class _Service:
    """One of step 6's long-running commands, started the way a service manager would start it."""

    def __init__(self, script, cwd, log_path):
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603
            ["/bin/bash", "-c", script], cwd=cwd, env=_shell_env(), stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def output(self):
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text, timeout=120):
        wait_until(lambda: text in self.output() or self.process.poll() is not None, timeout, message=repr(text))
        assert text in self.output(), f"exited with {self.process.poll()}:\n{self.output()}"

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(40)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log.close()


def _get(port, path):
    """(status, body) of GET PATH as the load balancer sends it: the site's name, over HTTPS."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": SITE_HOST, "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None, b""


def test_the_without_docker_steps_deploy_a_site_that_serves_the_petition_page(
    transactional_db, tmp_path, smtp_server, request
):
    """1. A fresh copy of the repository and an environment file made from .env.example.
    2. Step by step, each command run by bash after the doc's environment step, as in one terminal;
       step 6's services each in a shell of its own, as a service manager runs them.
    3. Before collectstatic, the doc's web command answers /readyz with 503.
    4. After every step, /readyz answers 200 and the petition page links hashed static files that
       the web process serves.
    """
    if not (BASE_DIR / ".git").exists():
        pytest.skip("needs the git repository to make a fresh copy of it")
    checkout = tmp_path / "campaign"
    checkout.mkdir()
    _fresh_copy(checkout)
    port = free_port()
    dataset = request.getfixturevalue("dataset_server")
    filled = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": worker_database_url(),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": smtp_server.port,
        "EMAIL_USE_TLS": 0,
        "PORT": port,
        "BIND_HOST": "127.0.0.1",
        # Sized for a test machine: one web process and one worker process each.
        "WEB_CONCURRENCY": 1,
        "WORKER_CONCURRENCY": 1,
        "LEGISLATORS_URL": f"{dataset}legislators-current.json",
    }
    if os.environ.get("REDIS_URL"):
        filled["REDIS_URL"] = os.environ["REDIS_URL"]
    env_file = tmp_path / "campaign.env"
    _environment_file(env_file, filled)

    steps = _substituted(_documented_steps(), env_file)
    [environment] = [step for step in steps if str(env_file) in step]
    first = steps[: steps.index(environment)]
    services = [step for step in steps if re.search(r"bin/entrypoint (web|worker|beat)\b", step)]
    one_offs = [step for step in steps[steps.index(environment) + 1 :] if step not in services]
    [web] = [step for step in services if re.search(r"bin/entrypoint web\b", step)]
    assert any("collectstatic" in step for step in one_offs), one_offs

    started = []

    def start(step, name):
        service = _Service(f"{environment}\n{step}", checkout, tmp_path / f"{name}.log")
        started.append(service)
        return service

    try:
        for step in first:
            result = _run(step, checkout)
            assert result.returncode == 0, f"{step}\n{result.stdout}{result.stderr}"
        result = _run(environment, checkout)
        assert result.returncode == 0, f"{environment}\n{result.stdout}{result.stderr}"

        for step in one_offs:
            if "collectstatic" in step:
                early = start(web, "web-before-collectstatic")
                status, body = wait_until(
                    lambda: (answer := _get(port, "/readyz"))[0] and answer, timeout=120, message="/readyz"
                )
                assert (status, json.loads(body)["static"]) == (503, "down"), body
                early.stop()
            script = f"{environment}\n{step}"
            if "createsuperuser" in step:
                password = secrets.token_urlsafe(16)
                answers = [USERNAME, "organizer@example.org", password, password]
                returncode, output = _run_answering(script, checkout, answers)
                assert returncode == 0, f"{step}\n{output}"
                assert get_user_model().objects.filter(username=USERNAME, is_superuser=True).exists(), output
            else:
                result = _run(script, checkout)
                assert result.returncode == 0, f"{step}\n{result.stdout}{result.stderr}"

        assert (checkout / "staticfiles" / "staticfiles.json").exists()
        assert Recipient.objects.filter(kind=Recipient.Kind.SENATOR).count() == 100
        assert Recipient.objects.filter(kind=Recipient.Kind.PRESIDENT).exists()
        assert TOTPDevice.objects.filter(user__username=USERNAME, confirmed=True).exists()
        petition = make_petition()
        for number, step in enumerate(services):
            name = step.split("bin/entrypoint ", 1)[1].split()[0]
            service = start(step, f"{name}-{number}")
            service.wait_for({"web": "Booting worker", "worker": "ready.", "beat": "beat: Starting..."}[name])

        wait_until(lambda: _get(port, "/readyz")[0] == 200, timeout=60, message="/readyz to answer 200")
        assert json.loads(_get(port, "/readyz")[1])["ready"] is True
        with translation.override("en"):
            path = reverse("petitions:detail", kwargs={"slug": petition.slug})
        status, page = _get(port, path)
        assert status == 200, page[:2000]
        assert petition.title_en in page.decode()
        static = sorted(set(re.findall(r"""(?:href|src)="(/static/[^"?#]+)""", page.decode())))
        assert any(name.endswith(".css") for name in static), static
        for name in static:
            # collectstatic's names carry a hash of the content, which is what makes them cacheable.
            assert re.search(r"\.[0-9a-f]{12}\.\w+$", name), name
            assert _get(port, name)[0] == 200, name
    finally:
        for service in started:
            service.stop()
        shutil.rmtree(checkout, ignore_errors=True)
