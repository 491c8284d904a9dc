"""/readyz takes a host out of rotation when it would serve 500s: no static manifest, migrations pending."""

import json

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

from campaign import views

pytestmark = pytest.mark.django_db

_MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


def _readyz(client):
    response = client.get(reverse("readyz"))
    return response.status_code, json.loads(response.content)


def test_readyz_is_ready_with_the_manifest_and_every_migration_applied(client, settings, tmp_path):
    settings.STORAGES, settings.STATIC_ROOT = _MANIFEST_STORAGE, tmp_path
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1", "hash": ""}')

    assert _readyz(client) == (
        200,
        {"ready": True, "database": "ok", "cache": "ok", "broker": "ok", "static": "ok", "migrations": "ok"},
    )


def test_readyz_fails_when_collectstatic_was_not_run(client, settings, tmp_path):
    settings.STORAGES, settings.STATIC_ROOT = _MANIFEST_STORAGE, tmp_path

    status, body = _readyz(client)

    assert (status, body["ready"], body["static"]) == (503, False, "down")


def test_readyz_fails_while_a_migration_is_pending(client, monkeypatch):
    monkeypatch.setattr(views, "_migrated", False)
    MigrationRecorder.Migration.objects.filter(app="petitions").order_by("-id").first().delete()

    status, body = _readyz(client)

    assert (status, body["ready"], body["migrations"]) == (503, False, "down")
    assert body["static"] == "ok"  # The test settings link plain names: no manifest to miss.
