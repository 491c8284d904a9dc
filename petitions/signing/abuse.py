"""Abuse resistance on the sign form: who is asking, how often, from where, and whether it is a bot.

Nothing here refuses a person loudly. A request that trips a check is told what everyone is told,
and its signature is quarantined for organizers to release or delete, so a bot learns nothing.
"""

import ipaddress
import logging
import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, _split_rate, get_usage

from ..models import BlockedNetwork, Signature

log = logging.getLogger(__name__)

_FORM_STARTED_SALT = "petitions.form-started"
_CAPTCHA_VERIFY_URLS = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    "hcaptcha": "https://api.hcaptcha.com/siteverify",
}
CAPTCHA_RESPONSE_FIELDS = {"turnstile": "cf-turnstile-response", "hcaptcha": "h-captcha-response"}
CAPTCHA_SCRIPTS = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/api.js",
    "hcaptcha": "https://js.hcaptcha.com/1/api.js",
}
CAPTCHA_WIDGET_CLASSES = {"turnstile": "cf-turnstile", "hcaptcha": "h-captcha"}


class Reason:
    """Why a signature was quarantined, as stored on it for organizers."""

    RATE_IP = "rate-ip"
    RATE_NETWORK = "rate-network"
    RATE_EMAIL = "rate-email"
    HONEYPOT = "honeypot"
    TOO_FAST = "too-fast"
    REUSED_STAMP = "reused-stamp"
    NETWORK = "blocked-network"
    # A confirmation held, not lost: the signer pressed the button, and releasing it confirms.
    CONFIRM_IP = "confirm-ip"
    CONFIRM_NETWORK = "confirm-network"


# Confirmations held by a limit: releasing one confirms it, since the signer already pressed the button.
HELD_CONFIRMATION_REASONS = (Reason.CONFIRM_IP, Reason.CONFIRM_NETWORK)
# What a crowd on one network trips (a rally's Wi-Fi, a carrier's shared address), as against a bot's
# traps: organizers see these grouped by network and release a cluster at once.
CROWD_REASONS = (Reason.RATE_IP, Reason.RATE_NETWORK, *HELD_CONFIRMATION_REASONS)


def is_held_confirmation(signature):
    """Whether the signer pressed confirm past a confirmation limit: it waits for organizers to release."""
    return signature.status == Signature.Status.QUARANTINED and signature.quarantine_reason in HELD_CONFIRMATION_REASONS


# --- The client's address ----------------------------------------------------------------------


def _valid_ip(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request):
    """The client's address, trusting X-Forwarded-For only as far as our own proxies wrote it.

    Each of TRUSTED_PROXY_COUNT proxies appends the address it received the request from, so the
    client is the TRUSTED_PROXY_COUNT-th entry from the right; anything further left was written by
    the client and may be forged. With no trusted proxies the header is ignored altogether.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            address = _valid_ip(forwarded[-count])
            if address:
                return address
    return _valid_ip(remote) or "0.0.0.0"  # noqa: S104 - a placeholder, never bound


def _keyed_hash(kind, value):
    key = settings.IP_HASH_KEY or settings.SECRET_KEY
    return salted_hmac(f"petitions.{kind}", value, secret=key, algorithm="sha256").hexdigest()


def ip_host(ip):
    """What counts as one address: an IPv4 address, or the IPv6 /64 (IPV6_HOST_PREFIX) it is in.

    An IPv6 host is usually given a whole /64 and picks addresses in it at will, so counting single
    IPv6 addresses would let one machine sign as many times as it likes.
    """
    address = ipaddress.ip_address(ip)
    if address.version == 4:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{settings.IPV6_HOST_PREFIX}", strict=False))


def hash_ip(ip):
    """An HMAC of the address (see ip_host): equal addresses give equal hashes, but it cannot be read back."""
    return _keyed_hash("ip", ip_host(ip))


def ip_prefix(ip):
    """The network of an address, a looser unit than ip_host: a flood, or a crowd, usually shares it.

    IPV4_NETWORK_PREFIX (a /24) or IPV6_NETWORK_PREFIX (a /48, what a site or a carrier's customer is given).
    """
    address = ipaddress.ip_address(ip)
    length = settings.IPV4_NETWORK_PREFIX if address.version == 4 else settings.IPV6_NETWORK_PREFIX
    return str(ipaddress.ip_network(f"{address}/{length}", strict=False))


def hash_ip_prefix(ip):
    """An HMAC of the address's network.

    We keep a keyed hash rather than the prefix itself: a /24 can narrow a signer down to a town or
    an employer, which for an exile with family in Belarus is too much to keep. The hash still
    groups a flood from one network for the activity view, and is dropped with the address hash.
    """
    return _keyed_hash("ip-prefix", ip_prefix(ip))


def ip_is_blocked(ip):
    """Whether the address falls in a network organizers have blocked. Checked before hashing."""
    return BlockedNetwork.blocks(ip)


# --- Rate limits --------------------------------------------------------------------------------


def over_limits(request, checks, once=None):
    """Count one more request against each (group, value, rates) of CHECKS; for each, whether it went over.

    ONCE ({key: seconds}) are one-time marks, a form stamp's nonce: each is set in the same count,
    and whether it was set before follows the checks' answers, one per key.

    Counters live in the Django cache (Redis in production), keyed and windowed as django-ratelimit
    keys them, so its get_usage reads the same counts. On Redis every counter of every check and
    every mark is counted in one round trip (FailSoftRedisCache.count_many); elsewhere one by one.
    With the cache down nothing can be counted, and RATELIMIT_FAIL_OPEN decides for both.
    """
    once = once or {}
    # With the limits switched off, every check answers False; the marks are still kept.
    enabled = getattr(settings, "RATELIMIT_ENABLE", True)
    counted = checks if enabled else []
    if not hasattr(cache, "count_many"):
        over = [any(_over_one(request, group, value, rate) for rate in rates) for group, value, rates in counted]
        used = [not cache.add(key, 1, timeout) for key, timeout in once.items()]
    else:
        counters = [[_counter(group, value, rate) for rate in rates] for group, value, rates in counted]
        timeouts = {key: timeout for check in counters for key, _limit, timeout in check} | once
        counts = cache.count_many(timeouts) if timeouts else {}
        over = [any(_exceeded(counts.get(key), limit) for key, limit, _timeout in check) for check in counters]
        used = [_exceeded(counts.get(key), 1) for key in once]
    return (over if enabled else [False] * len(checks)) + used


def _counter(group, value, rate):
    """The cache key django-ratelimit counts VALUE under for RATE in GROUP now, the limit, the key's timeout."""
    # Its own key and window rules: private to it, pinned with it, and compared with get_usage in the tests.
    limit, period = _split_rate(rate)
    key = _make_cache_key(f"{group}:{rate}", _get_window(value, period), rate, value, ALL)
    return key, limit, period + EXPIRATION_FUDGE


def _exceeded(count, limit):
    if count is None:
        return not settings.RATELIMIT_FAIL_OPEN
    return count > limit


def _over_one(request, group, value, rate):
    usage = get_usage(request, group=f"{group}:{rate}", key=lambda _group, _request: value, rate=rate, increment=True)
    return usage is not None and usage["should_limit"]


def signing_quarantine_reason(request, petition, email_normalized, ip, ip_hash, ip_prefix_hash=None, form_stamp=None):
    """Why a signature from this request should be quarantined, or "" when it may go ahead.

    IP_HASH is hash_ip(IP) and IP_PREFIX_HASH hash_ip_prefix(IP), which the caller keeps with the
    signature anyway. The address (an IPv6 /64) has the tight limit, its network a looser one.
    FORM_STAMP, the form's start stamp, may sign once: its nonce is marked in the limits' round trip.
    """
    if ip_prefix_hash is None:
        ip_prefix_hash = hash_ip_prefix(ip)
    stamp = form_stamp_mark(form_stamp)
    # Every check counts the request, so a flood keeps counting even once it is caught.
    by_ip, by_network, by_email, *stamp_used = over_limits(
        request,
        [
            (f"sign-ip:{petition.pk}", ip_hash, settings.SIGN_RATES_PER_IP),
            (f"sign-net:{petition.pk}", ip_prefix_hash, settings.SIGN_RATES_PER_NETWORK),
            (f"sign-email:{petition.pk}", email_normalized, settings.SIGN_RATES_PER_EMAIL),
        ],
        once=stamp,
    )
    if any(stamp_used):
        return Reason.REUSED_STAMP
    if ip_is_blocked(ip):
        return Reason.NETWORK
    if by_ip:
        return Reason.RATE_IP
    return Reason.RATE_NETWORK if by_network else Reason.RATE_EMAIL if by_email else ""


def resend_allowed(request, petition, email_normalized):
    ip = client_ip(request)
    by_ip, by_network, by_email = over_limits(
        request,
        [
            (f"resend-ip:{petition.pk}", hash_ip(ip), settings.RESEND_RATES_PER_IP),
            (f"resend-net:{petition.pk}", hash_ip_prefix(ip), settings.RESEND_RATES_PER_NETWORK),
            (f"resend-email:{petition.pk}", email_normalized, settings.RESEND_RATES_PER_EMAIL),
        ],
    )
    return not (by_ip or by_network or by_email)


def confirmation_hold_reason(request, petition):
    """Why a confirmation from this request should be held for organizers, or "" when it may go ahead.

    Confirming takes a mailbox per signature, so the limits are looser than for signing; past them
    the confirmation is kept, not lost (services.hold_confirmation), and releasing it confirms.
    """
    ip = client_ip(request)
    by_ip, by_network = over_limits(
        request,
        [
            (f"confirm-ip:{petition.pk}", hash_ip(ip), settings.CONFIRM_RATES_PER_IP),
            (f"confirm-net:{petition.pk}", hash_ip_prefix(ip), settings.CONFIRM_RATES_PER_NETWORK),
        ],
    )
    return Reason.CONFIRM_IP if by_ip else Reason.CONFIRM_NETWORK if by_network else ""


# --- Bot traps ----------------------------------------------------------------------------------


def form_started_token(started=None):
    """A signed stamp the form carries: when it was shown (STARTED, now by default) and a one-time nonce.

    The time says how long the person took to fill the form in; the nonce lets a stamp be used for
    one signature only (form_stamp_mark), so a bot cannot fetch one and post with it for ever.
    """
    return signing.dumps(
        [time.time() if started is None else started, secrets.token_urlsafe(12)], salt=_FORM_STARTED_SALT
    )


def _read_stamp(token):
    """(started, nonce) of a genuine stamp, or None."""
    try:
        started, nonce = signing.loads(token or "", salt=_FORM_STARTED_SALT)
        return float(started), str(nonce)
    except (signing.BadSignature, TypeError, ValueError):
        return None


def filled_too_fast(token):
    """True when the form came back sooner than a person could fill it in, or without a valid stamp."""
    if settings.SIGN_MIN_SECONDS <= 0:
        return False
    stamp = _read_stamp(token)
    return stamp is None or time.time() - stamp[0] < settings.SIGN_MIN_SECONDS


def form_stamp_expired(token):
    """True for a genuine stamp older than SIGN_FORM_MAX_SECONDS: the form was open too long to take."""
    stamp = _read_stamp(token)
    return stamp is not None and time.time() - stamp[0] > settings.SIGN_FORM_MAX_SECONDS


def form_stamp_mark(token):
    """The one-time mark of a genuine stamp ({key: seconds}), so that each stamp signs once; {} for any other.

    The nonce is remembered for as long as its stamp can be taken (SIGN_FORM_MAX_SECONDS). It is
    marked with the signing request's rate limits (signing_quarantine_reason), in their round trip.
    """
    stamp = _read_stamp(token)
    if stamp is None:
        return {}
    return {f"form-stamp:{stamp[1]}": settings.SIGN_FORM_MAX_SECONDS + 60}


# --- CAPTCHA ------------------------------------------------------------------------------------


def captcha_enabled():
    return bool(settings.CAPTCHA_PROVIDER)


def captcha_passed(response_token, ip):
    """Ask the CAPTCHA provider, server to server, whether the browser solved the challenge.

    A provider that cannot be reached counts as a failure: the person is asked to try again, and
    the form keeps what they typed.
    """
    if not response_token:
        return False
    # Imported here: only a site with a CAPTCHA needs it, and it costs every web worker a few MB.
    import requests

    url = settings.CAPTCHA_VERIFY_URL or _CAPTCHA_VERIFY_URLS[settings.CAPTCHA_PROVIDER]
    data = {"secret": settings.CAPTCHA_SECRET_KEY, "response": response_token, "remoteip": ip}
    try:
        answer = requests.post(url, data=data, timeout=5)
        answer.raise_for_status()
        return bool(answer.json().get("success"))
    except (requests.RequestException, ValueError) as exc:
        log.warning("CAPTCHA provider unreachable: %s", type(exc).__name__)
        return False
