"""Settings for the campaign site, every value read from the environment with a safe default.

With nothing set, the site runs on the embedded default: SQLite and a Celery broker on a SQLite file
under var/, mail printed on the worker's console. DATABASE_URL, REDIS_URL and EMAIL_HOST switch to
PostgreSQL, Redis and SMTP. The README lists every variable.
"""

import os
import re
import secrets
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from campaign.logs import LINE_FORMAT, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_secret(name, default=""):
    """A secret from NAME, or from the file that NAME_FILE points at (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return env(name, default)


VAR_DIR = Path(env("CAMPAIGN_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# Management commands that sign nothing (no link, session or address hash): they run without a
# SECRET_KEY even with DEBUG off, so the README's commands work as written on a fresh clone.
KEYLESS_COMMANDS = {"import_legislators", "load_demo", "build_us_map"}
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY and Path(sys.argv[0]).name == "manage.py" and sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS:
    # A key nobody knows, new in each run: whatever such a command might sign could not be trusted.
    SECRET_KEY = secrets.token_urlsafe(50)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) to a long random value, "
            "or set DEBUG=1 for local development."
        )
    # Development only: signed links made with this key are worthless elsewhere.
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

PORT = env_int("PORT", 8000)
SITE_URL = env("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A refused form gets a page of the site, in the page's language, that says to reload and try again.
CSRF_FAILURE_VIEW = "petitions.signing.views.csrf_failure"

INSTALLED_APPS = [
    # The admin site with two-factor login (campaign/admin.py), in place of django.contrib.admin.
    "campaign.apps.CampaignAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "petitions",
]

MIDDLEWARE = [
    # First, so that every log line of a request carries its id (campaign/logs.py).
    "campaign.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "campaign.security.ContentSecurityPolicyMiddleware",
    "campaign.security.PermissionsPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# django-axes watches every login and refuses one after AXES_FAILURE_LIMIT failures.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "campaign.urls"
WSGI_APPLICATION = "campaign.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "petitions.context_processors.alternates",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another. Connections persist between
# requests and are checked before reuse, so a restarted PostgreSQL costs one failed check, not a 500.
# Persistent connections rather than psycopg's pool: each gunicorn thread and each Celery prefork
# child keeps exactly one connection, so the count per host is plain arithmetic (docs/deploy.md);
# a pool opened before Celery forks its children would be shared across processes, and its
# background threads do not survive the fork. Past a few hosts, PgBouncer in front of PostgreSQL
# pools across every host, which a per-process pool cannot do.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write the same file: WAL lets readers go on while one writes,
    # and IMMEDIATE transactions take the write lock up front instead of failing half-way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis that fails soft: with Redis down, pages render and signatures are saved.
            "BACKEND": "campaign.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "campaign",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # A cache the web and worker processes share, so counts and rate limits agree between them.
    # Past MAX_ENTRIES files it deletes a third of them at random, rate-limit counters included:
    # at Django's default of 300, about 150 signers in ten minutes (two keys each) made it forget
    # how often one address had signed, and a burst from one address got through.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: Belarusian first, since most supporters read it; English for everyone else and for
# the letters, which go to US officials in English.
LANGUAGE_CODE = "be"
LANGUAGES = [("be", _("Belarusian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django has no Belarusian date formats; ours write "26 лістапада 2026" (campaign/formats/be).
FORMAT_MODULE_PATH = ["campaign.formats"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# In production, `collectstatic` (run when the image is built) writes content-hashed, compressed
# copies and a manifest; pages then link the hashed names, which whitenoise serves with
# "Cache-Control: max-age=315360000, public, immutable", since a changed file gets a new name.
# Without the manifest a page fails loudly rather than link a file that is not there.
# With DEBUG, files are served as they are in static/, with no build step.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Files under their own names (not hashed: robots, a favicon) may change between releases.
WHITENOISE_MAX_AGE = 0 if DEBUG else 3600

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail: printed on the console unless an SMTP server is named.
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Free Belarusian Political Prisoners <campaign@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL is set, otherwise kombu's SQLAlchemy transport on a SQLite file
# under var/ (campaign/broker.py), where a worker never reads a message still being written.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = f"sqlite:///{VAR_DIR / 'broker.sqlite3'}"
    CELERY_BROKER_TRANSPORT = "campaign.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # How often a worker looks for new messages. kombu's default of 1 s caps a worker at one
        # message a second, since it looks again only after finishing each one.
        "polling_interval": 0.1,
    }
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes the database connection after every task unless this is set: each
# letter then paid for a new PostgreSQL connection (a backend process forked per task), a quarter of
# a worker's time in the benchmark (docs/benchmarks.md). The fixup now leaves connections alone and
# campaign/celery.py treats a task like a request: CONN_MAX_AGE and the health check before reuse.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Processes per worker (`--concurrency` overrides it). Celery's default, one per core, suits tasks
# that compute; ours mostly wait on SMTP, a receiver's API and PostgreSQL. On 2 cores `make bench`
# delivered 149 e-mail letters a second with 2 processes, 185 with 4 and 206 with 6 (one run each).
CELERY_WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 3 * (os.cpu_count() or 1))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "mail"
# Confirmations and receipts never wait behind a backlog of letters, nor behind organizers' news:
# an update to every signer is sent in rate-limited batches that hold a worker for up to a minute.
CELERY_TASK_ROUTES = {
    "petitions.tasks.deliver_letter": {"queue": "letters"},
    "petitions.tasks.deliver_letters": {"queue": "letters"},
    "petitions.tasks.deliver_due_letters": {"queue": "letters"},
    "petitions.tasks.sweep_letters": {"queue": "letters"},
    "petitions.tasks.send_update": {"queue": "news"},
    "petitions.tasks.send_update_test": {"queue": "news"},
    "petitions.tasks.resume_updates": {"queue": "news"},
    "petitions.tasks.send_followups": {"queue": "news"},
}
CELERY_BEAT_SCHEDULE = {
    # Every LETTER_REMINDER_GRACE_SECONDS (petitions/tasks.py): a letter whose reminder was lost goes
    # out within a minute.
    "sweep-letters": {"task": "petitions.tasks.sweep_letters", "schedule": 30.0},
    "purge-personal-data": {"task": "petitions.tasks.purge_personal_data", "schedule": 3600.0},
    "sweep-confirmations": {"task": "petitions.tasks.sweep_confirmations", "schedule": 60.0},
    "resume-updates": {"task": "petitions.tasks.resume_updates", "schedule": 60.0},
    "send-followups": {"task": "petitions.tasks.send_followups", "schedule": 900.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Organizers are told of letters that need them (petitions/organizers/digest.py): a digest every day at
# ORGANIZER_DIGEST_HOUR (UTC), and an alarm at once when one channel has ORGANIZER_ALARM_FAILURES
# failed attempts within ORGANIZER_ALARM_MINUTES, at most once every ORGANIZER_ALARM_EVERY_MINUTES.
# They go to the active staff of the Organizers group who have an e-mail address, and to
# ORGANIZER_DIGEST_TO (addresses separated by commas).
ORGANIZER_DIGEST_TO = env_list("ORGANIZER_DIGEST_TO")
ORGANIZER_DIGEST_HOUR = env_int("ORGANIZER_DIGEST_HOUR", 7)
ORGANIZER_ALARM_FAILURES = env_int("ORGANIZER_ALARM_FAILURES", 20)
ORGANIZER_ALARM_MINUTES = env_int("ORGANIZER_ALARM_MINUTES", 10)
ORGANIZER_ALARM_EVERY_MINUTES = env_int("ORGANIZER_ALARM_EVERY_MINUTES", 60)
if not 0 <= ORGANIZER_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured(f"ORGANIZER_DIGEST_HOUR must be an hour from 0 to 23, not {ORGANIZER_DIGEST_HOUR}")
CELERY_BEAT_SCHEDULE["organizer-digest"] = {
    "task": "petitions.tasks.start_organizer_digest",
    "schedule": crontab(hour=ORGANIZER_DIGEST_HOUR, minute=0),
}
CELERY_BEAT_SCHEDULE["resume-organizer-digests"] = {
    "task": "petitions.tasks.resume_organizer_digests",
    "schedule": 300.0,
}
CELERY_TASK_ROUTES.update(
    {
        "petitions.tasks.send_organizer_digest": {"queue": "mail"},
        "petitions.tasks.start_organizer_digest": {"queue": "mail"},
        "petitions.tasks.resume_organizer_digests": {"queue": "mail"},
    }
)

# The campaign's own rules.
CONFIRMATION_MAX_AGE_DAYS = env_int("CONFIRMATION_MAX_AGE_DAYS", 7)
COUNT_CACHE_SECONDS = env_int("COUNT_CACHE_SECONDS", 5)
LETTER_MAX_ATTEMPTS = env_int("LETTER_MAX_ATTEMPTS", 8)
LETTER_RETRY_BASE_SECONDS = env_int("LETTER_RETRY_BASE_SECONDS", 60)
LETTER_LEASE_SECONDS = env_int("LETTER_LEASE_SECONDS", 300)
UNCONFIRMED_RETENTION_DAYS = env_int("UNCONFIRMED_RETENTION_DAYS", 30)
CLOSED_PETITION_RETENTION_DAYS = env_int("CLOSED_PETITION_RETENTION_DAYS", 180)
# django-axes' records of staff log-ins (addresses, browsers, usernames) are dropped after this many
# days: long enough to look into a break-in attempt, not a history of where staff work from.
STAFF_LOGIN_RETENTION_DAYS = env_int("STAFF_LOGIN_RETENTION_DAYS", 30)
# A signer's status and withdraw links work this long; then their page offers new ones by e-mail.
# A link forwarded or left in an old mailbox stops opening the signer's letters after the retention period.
SIGNER_LINK_MAX_AGE_DAYS = env_int("SIGNER_LINK_MAX_AGE_DAYS", CLOSED_PETITION_RETENTION_DAYS)
# Updates to signers: how many e-mails a second, how many a task sends before it hands over to
# the next, and how long a claimed e-mail may stay unconfirmed before it counts as interrupted.
UPDATE_SEND_RATE = float(env("UPDATE_SEND_RATE", "5"))
UPDATE_BATCH_SIZE = env_int("UPDATE_BATCH_SIZE", 200)
UPDATE_CLAIM_SECONDS = env_int("UPDATE_CLAIM_SECONDS", 300)
# The follow-up: days after a signer's letters were delivered, and before the one reminder.
FOLLOWUP_DAYS = env_int("FOLLOWUP_DAYS", 14)
FOLLOWUP_REMINDER_DAYS = env_int("FOLLOWUP_REMINDER_DAYS", 7)
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 180)
LEGISLATORS_URL = env("LEGISLATORS_URL", "https://unitedstates.github.io/congress-legislators/legislators-current.json")

# One line per event with the request (or task) id, e-mail addresses and signers' tokens taken out
# (campaign/logs.py).
# Workers and beat use this too (campaign/celery.py); gunicorn.conf.py builds gunicorn's alike.
LOG_FORMAT = LINE_FORMAT
LOGGING = logging_config(
    formats={"line": LOG_FORMAT},
    handlers={
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["request_id", "scrub_email", "redact_tokens"],
        }
    },
    root={"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    loggers={"django.db.backends": {"level": "WARNING"}},
)

# Production hardening; `manage.py check --deploy` is clean when DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers and Docker probe over plain HTTP, inside the network: answer, do not redirect.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# The admin's address; moving it off /admin/ turns away most drive-by login attempts.
ADMIN_URL = env("ADMIN_URL", "admin").strip("/") + "/"

# --- Abuse resistance, privacy and the admin's locks ------------------------------------------


def env_rates(name, default):
    """Rate limits as django-ratelimit writes them ("2/m,5/5m": two a minute, five in five minutes)."""
    rates = env_list(name, default)
    for rate in rates:
        if not re.fullmatch(r"\d+/\d*[smhd]", rate):
            raise ImproperlyConfigured(f"{name} must be rates such as 2/m,5/5m, not {rate!r}")
    return rates


# Proxies in front of the site that append the client's address to X-Forwarded-For. With 0 the
# address is REMOTE_ADDR and the header is ignored, since a client can send it with any value.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Signing and asking for a new confirmation link, per IP address and per e-mail address, per
# petition. Past a limit a signature is quietly quarantined for organizers to review.
SIGN_RATES_PER_IP = env_rates("SIGN_RATES_PER_IP", "2/m,5/5m")
SIGN_RATES_PER_EMAIL = env_rates("SIGN_RATES_PER_EMAIL", "3/10m")
RESEND_RATES_PER_IP = env_rates("RESEND_RATES_PER_IP", "2/m,5/5m")
RESEND_RATES_PER_EMAIL = env_rates("RESEND_RATES_PER_EMAIL", "1/m,3/h")
# What one address is: an IPv4 address, or an IPv6 /IPV6_HOST_PREFIX (a host is given a whole /64 and
# picks addresses in it at will). Its network, with looser limits, is the IPv4 /IPV4_NETWORK_PREFIX
# or the IPv6 /IPV6_NETWORK_PREFIX. A crowd on one venue's Wi-Fi or a carrier's shared address trips
# these too: it is quarantined, never lost, and organizers release it by network (docs/deploy.md).
IPV6_HOST_PREFIX = env_int("IPV6_HOST_PREFIX", 64)
IPV6_NETWORK_PREFIX = env_int("IPV6_NETWORK_PREFIX", 48)
IPV4_NETWORK_PREFIX = env_int("IPV4_NETWORK_PREFIX", 24)
for _name, _length, _most in (
    ("IPV6_HOST_PREFIX", IPV6_HOST_PREFIX, 128),
    ("IPV6_NETWORK_PREFIX", IPV6_NETWORK_PREFIX, 128),
    ("IPV4_NETWORK_PREFIX", IPV4_NETWORK_PREFIX, 32),
):
    if not 0 < _length <= _most:
        raise ImproperlyConfigured(f"{_name} must be a prefix length from 1 to {_most}, not {_length}")
SIGN_RATES_PER_NETWORK = env_rates("SIGN_RATES_PER_NETWORK", "10/m,30/10m")
RESEND_RATES_PER_NETWORK = env_rates("RESEND_RATES_PER_NETWORK", "10/m,30/10m")
# Confirming, per address and per network: past a limit the confirmation is held, not lost, for
# organizers to release (releasing confirms it). Each takes a mailbox, so the limits are looser.
CONFIRM_RATES_PER_IP = env_rates("CONFIRM_RATES_PER_IP", "5/m,20/h")
CONFIRM_RATES_PER_NETWORK = env_rates("CONFIRM_RATES_PER_NETWORK", "20/m,100/h")
# When the cache cannot be reached, let signatures through as pending rather than quarantine
# everyone: a flood during an outage is still visible in the activity view afterwards.
RATELIMIT_FAIL_OPEN = env_bool("RATELIMIT_FAIL_OPEN", True)
# The least time, in seconds, a person takes between seeing the form and sending it; 0 turns the
# check off.
SIGN_MIN_SECONDS = env_int("SIGN_MIN_SECONDS", 3)
# How long a shown form's stamp may be sent back (each stamp signs once); a form open longer comes
# back with a request to send it again.
SIGN_FORM_MAX_SECONDS = env_int("SIGN_FORM_MAX_SECONDS", 4 * 3600)
# An optional CAPTCHA on the sign form: "" (off), "turnstile" or "hcaptcha".
CAPTCHA_PROVIDER = env("CAPTCHA_PROVIDER").lower()
if CAPTCHA_PROVIDER not in ("", "turnstile", "hcaptcha"):
    raise ImproperlyConfigured(f"CAPTCHA_PROVIDER must be turnstile, hcaptcha or empty, not {CAPTCHA_PROVIDER!r}")
CAPTCHA_SITE_KEY = env("CAPTCHA_SITE_KEY")
CAPTCHA_SECRET_KEY = env_secret("CAPTCHA_SECRET_KEY")
CAPTCHA_VERIFY_URL = env("CAPTCHA_VERIFY_URL")  # Empty: the provider's own address.
if CAPTCHA_PROVIDER and not (CAPTCHA_SITE_KEY and CAPTCHA_SECRET_KEY):
    raise ImproperlyConfigured("CAPTCHA_PROVIDER needs CAPTCHA_SITE_KEY and CAPTCHA_SECRET_KEY.")
# IP addresses are kept only as an HMAC under this key (SECRET_KEY when unset), and dropped after
# IP_HASH_RETENTION_DAYS: long enough to review a flood, not long enough to track anyone.
IP_HASH_KEY = env_secret("IP_HASH_KEY")
IP_HASH_RETENTION_DAYS = env_int("IP_HASH_RETENTION_DAYS", 14)
# A pending signature whose confirmation is not out this long after signing lost its reminder
# (the broker was down); the sweeper sends it.
CONFIRMATION_SWEEP_GRACE_SECONDS = env_int("CONFIRMATION_SWEEP_GRACE_SECONDS", 60)
# After the mail server refused or failed, confirmations wait this long in the database; beat's
# sweep (every minute) then sends them.
CONFIRMATION_RETRY_SECONDS = env_int("CONFIRMATION_RETRY_SECONDS", 60)
# Where the web and the mail worker share a host, confirmations wait while the web is short of CPU:
# in a surge the host signs more people a second, and their e-mails follow once it eases
# (docs/deploy.md, docs/benchmarks.md). WEB_CPU_PRESSURE_FILE names the `cpu.pressure` file of the
# web's control group (Linux PSI); unset, confirmations never wait. They wait while its "some avg10",
# and its share over the quarter second after, are at least WEB_CPU_PRESSURE_LIMIT percent, and
# never past CONFIRMATION_MAX_HOLD_SECONDS.
WEB_CPU_PRESSURE_FILE = env("WEB_CPU_PRESSURE_FILE")
WEB_CPU_PRESSURE_LIMIT = env_int("WEB_CPU_PRESSURE_LIMIT", 60)
CONFIRMATION_MAX_HOLD_SECONDS = env_int("CONFIRMATION_MAX_HOLD_SECONDS", 120)

# The admin's locks: django-axes locks a username and address out after repeated failures, and
# the username alone after AXES_USERNAME_FAILURE_LIMIT failures from any addresses (campaign/logins.py);
# django-otp asks for a TOTP code from anyone with a device, from everyone with ADMIN_REQUIRE_2FA.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_USERNAME_FAILURE_LIMIT = env_int("AXES_USERNAME_FAILURE_LIMIT", 10)
AXES_HANDLER = "campaign.logins.UsernameLockoutHandler"
AXES_LOCKOUT_CALLABLE = "campaign.logins.lockout_response"
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "petitions.signing.abuse.client_ip"
AXES_LOCKOUT_TEMPLATE = None
# django-axes logs its settings at every start of every process ("AXES: BEGIN ..."): noise.
AXES_VERBOSE = False
ADMIN_REQUIRE_2FA = env_bool("ADMIN_REQUIRE_2FA", False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Campaign admin")

# Content-Security-Policy (django-csp 4.0's format): scripts and styles from our own files only,
# never inline. A view that must be embedded elsewhere (the counter widget) opts out of framing
# protection with Django's @xframe_options_exempt and csp.decorators.csp_replace({"frame-ancestors":
# ["*"]}), which lift X-Frame-Options DENY and this policy's frame-ancestors 'none' for it alone
# (csp_update would append to 'none' rather than replace it).
_CAPTCHA_ORIGINS = {
    "turnstile": ["https://challenges.cloudflare.com"],
    "hcaptcha": ["https://hcaptcha.com", "https://*.hcaptcha.com"],
}.get(CAPTCHA_PROVIDER, [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", *_CAPTCHA_ORIGINS],
        "style-src": ["'self'", *_CAPTCHA_ORIGINS],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *_CAPTCHA_ORIGINS],
        "frame-src": _CAPTCHA_ORIGINS or ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# What the browser may let pages use: nothing the site needs, so nothing at all.
PERMISSIONS_POLICY = env(
    "PERMISSIONS_POLICY",
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=(), browsing-topics=()",
)

# Letter delivery channels (petitions/delivery/). Recipients' non-secret channel settings live in
# the admin; everything secret (the CWC API key, HTTP tokens) comes from the environment only.
# CWC (Communicating with Congress): the endpoint is given without its ?apikey=, which is added.
CWC_ENDPOINT = env("CWC_ENDPOINT")
CWC_API_KEY = env_secret("CWC_API_KEY")
CWC_DELIVERY_AGENT = env("CWC_DELIVERY_AGENT")
CWC_DELIVERY_AGENT_ACK_EMAIL = env("CWC_DELIVERY_AGENT_ACK_EMAIL")
CWC_DELIVERY_AGENT_CONTACT_NAME = env("CWC_DELIVERY_AGENT_CONTACT_NAME")
CWC_DELIVERY_AGENT_CONTACT_EMAIL = env("CWC_DELIVERY_AGENT_CONTACT_EMAIL")
CWC_DELIVERY_AGENT_CONTACT_PHONE = env("CWC_DELIVERY_AGENT_CONTACT_PHONE")
CWC_CAMPAIGN_ID = env("CWC_CAMPAIGN_ID")
# The Senate asks vendors for at most 5 to 10 messages a second; counted across all workers.
CWC_RATE_LIMIT = env_int("CWC_RATE_LIMIT", 5)

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def env_weekly_windows(name, default):
    """Weekly windows as "Sun 00-06, Wed 05-07" (weekday, first hour, hour it ends), as tuples of
    (weekday with Monday 0, first hour, end hour); an empty value means none."""
    windows = []
    for item in env_list(name, default):
        match = re.fullmatch(r"([A-Za-z]{3})\w*\s+(\d{1,2})(?::00)?\s*-\s*(\d{1,2})(?::00)?", item)
        day = match and match[1].lower()
        if not match or day not in _WEEKDAYS or not 0 <= int(match[2]) < int(match[3]) <= 24:
            raise ImproperlyConfigured(f"{name} must be windows such as 'Sun 00-06, Wed 05-07', not {item!r}")
        windows.append((_WEEKDAYS.index(day), int(match[2]), int(match[3])))
    return windows


# The Senate's CWC maintenance windows in US Eastern time, when it takes no messages: letters wait
# for the window's end without using an attempt. The default is the Senate's published schedule
# (Sunday 00:00-06:00 and Wednesday 05:00-07:00); set it when the Senate changes it, or empty to
# turn the windows off (a stand-in receiver that is not the Senate).
SENATE_CWC_MAINTENANCE_WINDOWS = "Sun 00-06, Wed 05-07"
CWC_MAINTENANCE_WINDOWS = env_weekly_windows("CWC_MAINTENANCE_WINDOWS", SENATE_CWC_MAINTENANCE_WINDOWS)


# The delivery channel a senator gets when `import_legislators` first creates them: CWC once the
# server has a CWC endpoint, none otherwise (their letters then wait for organizers). Senators
# already in the database keep the channel organizers gave them.
IMPORTED_SENATOR_CHANNEL = env("IMPORTED_SENATOR_CHANNEL", "cwc" if CWC_ENDPOINT else "").strip().lower()
if IMPORTED_SENATOR_CHANNEL in ("none", "-"):
    IMPORTED_SENATOR_CHANNEL = ""
if IMPORTED_SENATOR_CHANNEL not in ("", "cwc", "email", "http", "print"):
    raise ImproperlyConfigured(
        f"IMPORTED_SENATOR_CHANNEL must be cwc, email, http, print or none, not {IMPORTED_SENATOR_CHANNEL!r}"
    )


# Bearer tokens for HTTP recipients, as "name=token,other=token2"; a recipient's settings name one.
def _http_tokens(value):
    pairs = [item.strip().partition("=") for item in value.split(",") if item.strip()]
    if any(not name or not sep or not token for name, sep, token in pairs):
        raise ImproperlyConfigured("DELIVERY_HTTP_TOKENS must look like name=token,other=token2")
    return {name.strip(): token.strip() for name, _sep, token in pairs}


DELIVERY_HTTP_TOKENS = _http_tokens(env_secret("DELIVERY_HTTP_TOKENS"))
# How long a CWC or HTTP receiver may take to answer; keep it well under LETTER_LEASE_SECONDS.
DELIVERY_TIMEOUT_SECONDS = env_int("DELIVERY_TIMEOUT_SECONDS", 30)
