"""Probes for load balancers and orchestrators: /healthz (the process is up), /readyz (it can work)."""

import logging

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app

log = logging.getLogger(__name__)

# A probe must answer before the load balancer gives up on it (typically 2 to 5 seconds).
_BROKER_TIMEOUT_SECONDS = 1


@never_cache
@require_GET
def healthz(request):
    """200 while the process serves requests: restart it when this fails, nothing more."""
    return HttpResponse("ok\n", content_type="text/plain")


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache():
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # The cache fails soft (campaign/cache.py): a get would quietly miss, so ask Redis itself.
        cache._cache.get_client(write=True).ping()
    else:
        cache.set("readyz", "ok", 10)
        if cache.get("readyz") != "ok":
            raise RuntimeError("the cache did not return what was stored")


def _broker():
    with app.connection_for_write(url=settings.CELERY_BROKER_URL, connect_timeout=_BROKER_TIMEOUT_SECONDS) as broker:
        # One try, no retries: a probe reports the state now, the load balancer asks again soon.
        broker.ensure_connection(max_retries=0, timeout=_BROKER_TIMEOUT_SECONDS)


def _static():
    """Production storage links hashed names from collectstatic's manifest: without it every page is a 500."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    if isinstance(staticfiles_storage, ManifestFilesMixin) and staticfiles_storage.read_manifest() is None:
        raise RuntimeError(f"no {staticfiles_storage.manifest_name} in STATIC_ROOT: run collectstatic")


# Set once every migration is applied: a running release does not unapply them, and loading the
# migration graph costs more than the other checks together.
_migrated = False


def _migrations():
    global _migrated
    if _migrated:
        return
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise RuntimeError(f"{len(pending)} migrations not applied: run migrate")
    _migrated = True


_CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "static": _static, "migrations": _migrations}


@never_cache
@require_GET
def readyz(request):
    """200 when the database, the cache and the broker answer, collectstatic's manifest is there and
    every migration is applied; 503 naming the checks that fail.

    Take a web process out of rotation on 503; it comes back by itself when they do.
    """
    results = {}
    for name, check in _CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            # The reason goes to the log only: the probe is public and the message may name hosts.
            log.warning("readyz: %s is down: %s: %s", name, type(exc).__name__, exc)
            results[name] = "down"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse({"ready": ready, **results}, status=200 if ready else 503)
