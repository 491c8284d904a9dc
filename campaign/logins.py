"""The admin's log-in locks: per username and address, and per username across every address.

django-axes counts failures per username and address pair (AXES_FAILURE_LIMIT). Someone who tries
one account's passwords from many addresses never meets that limit, so the username alone has a
higher one too (AXES_USERNAME_FAILURE_LIMIT), counted over the same cool-off. Either locks the
account out for AXES_COOLOFF_HOURS, with a page that says which and how to get back in; a
superuser unlocks it sooner with `manage.py axes_reset_username <username>` or by deleting its
"Access attempts" in the admin.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render


def username_failures(request, username):
    """Failed log-ins for USERNAME from any address within the cool-off."""
    if not username:
        return 0
    attempts = AccessAttempt.objects.filter(username=username)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def username_locked(request, credentials=None):
    """Whether the username in this request is locked out across addresses."""
    username = get_client_username(request, credentials)
    return username_failures(request, username) >= settings.AXES_USERNAME_FAILURE_LIMIT


class UsernameLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler that also locks a username out across addresses.

    Axes asks get_failures whether a request is locked (at least AXES_FAILURE_LIMIT) and, after a
    failure, whether to lock it now: a username past its own limit answers as if its pair were too.
    A successful log-in resets only its own address's count (AXES_RESET_ON_SUCCESS), so the owner
    logging in does not wipe out the count of someone trying from elsewhere.
    """

    def get_failures(self, request, credentials=None):
        failures = super().get_failures(request, credentials)
        if username_locked(request, credentials):
            return max(failures, get_failure_limit(request, credentials))
        return failures


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out log-in gets: which lock, for how long, and how to get back in."""
    hours = get_cool_off(request)
    context = {
        "across_addresses": username_locked(request, credentials),
        "hours": round(hours.total_seconds() / 3600) if hours else None,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username_failure_limit": settings.AXES_USERNAME_FAILURE_LIMIT,
    }
    # Rendered here: axes' middleware returns it after the view, too late for a TemplateResponse.
    return render(request, "admin/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
