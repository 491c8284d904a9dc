"""`make test` runs two pytest processes: each keeps its files, broker, cache and Redis database apart."""

import os
from pathlib import Path

import pytest
from django.conf import settings

PROCESS = os.environ.get("PYTEST_XDIST_WORKER")

pytestmark = pytest.mark.skipif(not PROCESS, reason="runs in a pytest-xdist process (make test)")


def test_this_process_has_a_var_folder_of_its_own():
    assert Path(settings.VAR_DIR).name == PROCESS
    if not os.environ.get("REDIS_URL"):
        # The embedded broker and the file cache live in it: shared, one process's workers would
        # take the other's messages.
        assert Path(settings.CELERY_BROKER_URL.removeprefix("sqlite:///")).parent == Path(settings.VAR_DIR)
        assert Path(settings.CACHES["default"]["LOCATION"]).parent == Path(settings.VAR_DIR)
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert Path(settings.DATABASES["default"]["TEST"]["NAME"]).parent == Path(settings.VAR_DIR)
