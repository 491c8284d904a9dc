"""The Celery app: reads CELERY_* settings from Django and finds tasks in the apps."""

import os

from celery import Celery, signals

from .logs import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")

app = Celery("campaign")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _log_like_the_site(**kwargs):
    """Workers and beat log through settings.LOGGING: one line per event, e-mail addresses scrubbed."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def _pass_request_id(headers=None, **kwargs):
    """A task enqueued while serving a request carries the request's id to the worker's log lines."""
    if headers is not None and request_id.get() != "-":
        headers.setdefault("request_id", request_id.get())


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(task=None, **kwargs):
    """What Django does around each request: drop a connection past CONN_MAX_AGE or in error.

    The connection is then checked before its next use (CONN_HEALTH_CHECKS), so a restarted
    PostgreSQL costs one reconnect, not a failed task. A task run eagerly runs inside its caller's
    transaction, whose connection is not ours to close.
    """
    from django.db import close_old_connections

    if not getattr(getattr(task, "request", None), "is_eager", False):
        close_old_connections()


@signals.task_prerun.connect
def _log_with_request_id(task_id=None, task=None, **kwargs):
    request_id.set(getattr(task.request, "request_id", None) or task_id)


@signals.task_postrun.connect
def _forget_request_id(**kwargs):
    request_id.set("-")
