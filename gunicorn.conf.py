"""gunicorn's settings for the web process: `gunicorn -c gunicorn.conf.py campaign.wsgi` (bin/entrypoint web).

Every value can be changed from the environment; the README's table lists the variables.
"""

import gc
import multiprocessing
import os

# Only the log filters and formats: gunicorn reads this file before Django is set up (campaign/logs.py
# imports nothing of Django's). gunicorn puts its working directory (--chdir) on sys.path first.
from campaign.logs import ACCESS_LINE_FORMAT, LINE_FORMAT, logging_config


def _int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value else default


_cpus = multiprocessing.cpu_count()

# Inside a container the port must be reachable from the other containers; tests bind 127.0.0.1.
bind = [f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{_int('PORT', 8000)}"]  # noqa: S104

# Processes for CPU, threads for waiting on PostgreSQL, Redis and the client: one process per core
# plus one, four threads each. Each thread holds one database connection (CONN_MAX_AGE), so a host
# uses workers x threads connections: 12 on 2 cores. docs/deploy.md has the arithmetic for many hosts.
workers = _int("WEB_CONCURRENCY", _cpus + 1)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread"

# Load the site once in the master, then fork the workers from it (WEB_PRELOAD=0 loads it in each).
# Measured under `make bench`'s load: each worker's peak resident size falls by about 3 MB (85 to 82)
# and its private memory by about 7 MB (63 to 56), as the workers share the pages the master filled;
# a worker that max_requests replaces starts without importing Django again. It is safe because
# loading the site opens no connection: Django, redis-py and Celery connect on first use in each
# worker (campaign/tests/test_web_memory.py checks the master holds none). The cost: on SIGHUP
# gunicorn rereads its settings but not the code; a deploy starts new processes anyway.
preload_app = os.environ.get("WEB_PRELOAD", "1") != "0"


def when_ready(server):
    """In the master, once the site is loaded and before the first fork: leave the workers less to redo.

    Measured with the benchmark's load (3 workers, 2,000 requests of each read and 500 signatures): each
    worker's peak resident size falls by about 2 MB, half from each step.
    """
    if not preload_app:
        return
    _initialize_libpq_crypto(server)
    # A worker's garbage collections would otherwise walk (and write to) every object the master
    # loaded. Collect the master's own garbage first, so that nothing dead is kept for good and its
    # free slots are reused by the workers, then move what is left out of the collector's sight.
    gc.collect()
    gc.freeze()
    server.log.info("froze %d objects of the preloaded site", gc.get_freeze_count())


def _initialize_libpq_crypto(server):
    """Run libpq's OpenSSL set-up (random generator, SHA-256, HMAC) once, here, without a connection.

    psycopg's wheel brings a libpq with its own libcrypto; the first SCRAM login of each process
    initialises it, about 1 MB of libcrypto pages and heap per worker. Hashing a throwaway password
    the way a SCRAM login does runs the same code; the PGconn is one that failed before any network.
    """
    try:
        from psycopg import pq

        pgconn = pq.PGconn.connect_start(b"service=campaign-no-such-service")
        try:
            pgconn.encrypt_password(b"-", b"-", b"scram-sha-256")
        finally:
            pgconn.finish()
    except Exception as exc:  # a speed-up only: the workers initialise it themselves
        server.log.warning("libpq's crypto not initialised in the master: %s", exc)


# A request that takes longer than this is stuck: the worker is killed and replaced.
timeout = _int("WEB_TIMEOUT", 30)
# On SIGTERM (a deploy, a scale-down), requests in flight get this long to finish.
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
# Longer than a load balancer's own idle timeout would make it reuse a connection we just closed;
# behind one with a 60 s idle timeout (AWS ALB), set WEB_KEEPALIVE=65.
keepalive = _int("WEB_KEEPALIVE", 5)
# Replace each process after a number of requests, staggered, so a slow leak never takes a host down.
# Not much sooner: a new process warms its caches again (and with WEB_PRELOAD=0 imports Django, about
# a second of CPU). At 2,000, a surge of 1,500 requests/s restarted each process every four seconds
# and the read endpoints stalled near 1,300 requests/s; without it they served 2,400 to 2,800 (wrk,
# before preloading). At 50,000 that is a restart a minute or two per process under a surge.
max_requests = _int("WEB_MAX_REQUESTS", 50000)
max_requests_jitter = max_requests // 10

# The load balancer terminates TLS and says so in X-Forwarded-Proto; Django reads it itself
# (SECURE_PROXY_SSL_HEADER). gunicorn is told to trust it from any address because only the load
# balancer can reach the web hosts: keep it that way (docs/deploy.md).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# gunicorn's control socket sits at one path per user: two instances on a host (a blue-green
# deploy, the tests) would take it from each other. Signals (HUP, TERM, TTIN) do the same job.
control_socket_disable = True

# Logs: one line per event on stdout (access) and stderr (gunicorn's own), in the site's format.
# The access line names the request id and never the client's address (%(h)s), the query string
# (%(q)s, where a form may carry an e-mail address), the referrer or the user agent, and the path's
# signed token in a signer's link is replaced (campaign.logs.redact_tokens). Behind nginx, which
# writes the same line (deploy/nginx.conf), compose.yaml sets WEB_ACCESS_LOG empty: no access line
# here. It cost 53 us of CPU per request in one process, 14 % of the form-token request in gunicorn
# under load (docs/benchmarks.md).
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
errorlog = "-"
access_log_format = '%({x-request-id}o)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# The error lines have the site's columns and filters (settings.LOGGING); the access lines have the
# request id first in their message.
logconfig_dict = logging_config(
    formats={"access": ACCESS_LINE_FORMAT, "app": LINE_FORMAT},
    handlers={
        "access": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "access",
            "filters": ["scrub_email", "redact_tokens"],
        },
        "error": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "app",
            "filters": ["request_id", "scrub_email", "redact_tokens"],
        },
    },
    root={"handlers": ["error"], "level": "INFO"},
    loggers={
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
    },
)
