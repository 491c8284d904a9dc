"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")

_django = get_wsgi_application()

# The crowd's public pages are answered from the cache before Django's middleware runs (campaign/crowd.py).
from campaign.crowd import CrowdCache  # noqa: E402  (needs the settings get_wsgi_application loaded)

application = CrowdCache(_django)
