"""A web worker imports only what serving pages needs: the PDF and HTTP libraries wait for their tasks."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent.parent

# Serve one request through the whole URL configuration (the admin's included), then report.
SCRIPT = """
import io, json, sys
import campaign.wsgi
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/robots.txt", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(),
           "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
result = campaign.wsgi.application(environ, lambda status, headers, exc_info=None: None)
b"".join(result)
result.close()
print(json.dumps(sorted(name for name in sys.modules if "." not in name)))
"""


def test_a_web_worker_serving_pages_never_imports_fpdf_lxml_or_requests():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "campaign.test_settings", "PYTHONPATH": str(BASE)}
    env.pop("REDIS_URL", None)
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=BASE, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    imported = set(json.loads(output.splitlines()[-1]))

    assert "django" in imported and "petitions" in imported, "the script did load the site"
    assert not imported & {"fpdf", "fontTools", "PIL", "lxml", "requests"}
