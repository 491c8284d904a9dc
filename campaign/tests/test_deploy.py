"""Production settings and the deployment files: `check --deploy`, SECRET_KEY, env docs, compose."""

import re
import subprocess
import sys

import pytest
import yaml
from django.conf import settings

from .conftest import BASE_DIR, production_env


def _manage(*args, env):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_does_flag_a_debug_site():
    """The check above could pass by checking nothing: with DEBUG on, it must complain."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(DEBUG="1"))
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout


def test_the_site_refuses_to_start_without_a_secret_key_when_debug_is_off():
    env = production_env()
    del env["SECRET_KEY"]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_development_site_starts_without_a_secret_key():
    env = production_env(DEBUG="1")
    del env["SECRET_KEY"]
    result = _manage("check", env=env)
    assert result.returncode == 0, result.stderr


def _documented_variables(path):
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)`", path.read_text(), re.MULTILINE))


def _settings_variables():
    """Every variable that campaign/settings.py and gunicorn.conf.py read."""
    names = set()
    for path in (BASE_DIR / "campaign" / "settings.py", BASE_DIR / "gunicorn.conf.py"):
        text = path.read_text()
        names |= set(re.findall(r"""\benv(?:_[a-z]+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
        names |= set(re.findall(r"""_int\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
        names |= set(re.findall(r"""os\.environ\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
    return names


def test_every_environment_variable_is_in_the_readme_table():
    variables = _settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"} <= variables
    missing = sorted(variables - _documented_variables(BASE_DIR / "README.md"))
    assert not missing, f"add these to the README's table of environment variables: {missing}"


def test_every_environment_variable_is_in_env_example():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.MULTILINE))
    missing = sorted(_settings_variables() - listed)
    assert not missing, f"add these to .env.example: {missing}"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((BASE_DIR / "compose.yaml").read_text())


def test_compose_runs_every_queue_that_tasks_are_routed_to(compose):
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    served = {}
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if command[:1] == ["worker"]:
            for queue in command[1].split(","):
                served.setdefault(queue, []).append(name)
    assert set(served) == queues == {"mail", "letters", "news"}
    # Separate workers: a backlog of letters or news must never sit in front of a confirmation e-mail.
    assert len({tuple(names) for names in served.values()}) == 3


def test_compose_serves_signers_before_workers_when_the_host_is_short_of_cpu(compose):
    services = compose["services"]
    workers = [name for name, service in services.items() if (service.get("command") or [None])[0] == "worker"]
    assert workers and {services[name].get("cpu_shares") for name in workers} == {128}
    # The web, PostgreSQL and Redis keep the default weight (1024): eight times a worker's.
    assert all("cpu_shares" not in services[name] for name in ("web", "db", "redis"))
    # make bench gives its workers the nice value whose weight is nearest (137 against 1024).
    assert re.search(r"^WORKER_NICE = 9$", (BASE_DIR / "bench" / "run.py").read_text(), re.MULTILINE)


def test_compose_has_one_beat_migrations_first_and_healthy_backends(compose):
    services = compose["services"]
    commands = {name: (service.get("command") or [None])[0] for name, service in services.items()}
    assert list(commands.values()).count("beat") == 1
    for name, command in commands.items():
        if command in ("web", "worker", "beat"):
            depends = services[name]["depends_on"]
            assert depends["migrate"]["condition"] == "service_completed_successfully", name
            assert depends["db"]["condition"] == depends["redis"]["condition"] == "service_healthy", name
    for backend in ("db", "redis"):
        assert services[backend]["healthcheck"]["test"]
        [volume] = services[backend]["volumes"]
        assert volume.split(":")[0] in compose["volumes"]


def test_the_dockerfile_builds_on_slim_python_and_runs_as_a_user_through_the_entrypoint():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, re.MULTILINE)
    stages = re.findall(r"^FROM \S+ AS (\w+)", dockerfile, re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert re.search(r"^USER campaign$", runtime, re.MULTILINE)
    assert "HEALTHCHECK" in runtime and '["/app/bin/entrypoint", "healthcheck"]' in runtime
    assert 'ENTRYPOINT ["/app/bin/entrypoint"]' in runtime
    for line in (BASE_DIR / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "==" in line, f"requirements.txt must pin every package: {line}"
