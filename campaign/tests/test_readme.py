"""The README's commands work as written, and its table of environment variables lists each once."""

import functools
import re
import shutil
import subprocess
import threading
from collections import Counter
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from petitions.tests.conftest import SHARED_DATA

from .conftest import BASE_DIR, production_env

README = BASE_DIR / "README.md"
DATA = SHARED_DATA / "congress-legislators"


def _readme_import_lines():
    """The `manage.py import_legislators` lines of the README's section on senators, comments dropped."""
    section = README.read_text().split("## Senators and the President", 1)[1].split("\n## ", 1)[0]
    return [
        line.split("#", 1)[0].strip()
        for line in section.splitlines()
        if line.startswith(".venv/bin/python manage.py import_legislators")
    ]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def dataset_server():
    """The shared copy of the dataset, served over HTTP on loopback as its public address serves it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(DATA)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.slow
def test_the_readmes_import_legislators_lines_work_as_written_without_debug(tmp_path, dataset_server):
    """1. A checkout-like folder: the virtualenv and manage.py, and the dataset's files beside them.
    2. The database migrated, as `make run` or a deployment does first.
    3. Each README line run by a shell there, with DEBUG and SECRET_KEY unset.
    """
    lines = _readme_import_lines()
    assert lines == [
        ".venv/bin/python manage.py import_legislators",
        ".venv/bin/python manage.py import_legislators legislators-current.yaml",
    ]
    (tmp_path / ".venv").symlink_to(BASE_DIR / ".venv")
    (tmp_path / "manage.py").symlink_to(BASE_DIR / "manage.py")
    for name in ("legislators-current.yaml", "executive.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    env = production_env(CAMPAIGN_VAR_DIR=tmp_path / "var", LEGISLATORS_URL=f"{dataset_server}legislators-current.json")
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL", "REDIS_URL"):
        env.pop(name, None)

    def run(command, **extra):
        return subprocess.run(  # noqa: S603
            ["/bin/sh", "-c", command],
            cwd=tmp_path,
            env=env | extra,
            capture_output=True,
            text=True,
            timeout=300,
        )

    migrated = run(".venv/bin/python manage.py migrate --noinput", SECRET_KEY="only-for-the-migration-" + "x" * 30)
    assert migrated.returncode == 0, migrated.stderr

    first, second = (run(line) for line in lines)

    assert first.returncode == 0, first.stderr
    assert "Senators: 100 created" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "Senators: 0 created, 0 updated, 100 unchanged, 0 retired." in second.stdout
    assert "Traceback" not in first.stderr + second.stderr


def _table_variables():
    """The variables of the README's table of environment variables, in order, repeats kept."""
    return re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|", README.read_text(), re.MULTILINE)


def test_no_environment_variable_is_listed_twice_in_the_readme():
    repeated = sorted(name for name, count in Counter(_table_variables()).items() if count > 1)
    assert not repeated, f"one row each in the README's table: {repeated}"


def test_the_dashboard_cache_row_gives_the_settings_default():
    settings_text = (BASE_DIR / "campaign" / "settings.py").read_text()
    [default] = re.findall(r"""env_int\("DASHBOARD_CACHE_SECONDS", (\d+)\)""", settings_text)
    [row] = [line for line in README.read_text().splitlines() if line.startswith("| `DASHBOARD_CACHE_SECONDS` |")]
    assert f"| `{default}` |" in row


def test_the_readme_shows_port_next_to_make_run():
    commands = README.read_text().split("```", 2)[1]
    assert re.search(r"^make run PORT=\d+ ", commands, re.MULTILINE), commands
