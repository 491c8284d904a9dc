"""The request id: taken from the load balancer's X-Request-ID or made here, logged and returned."""

import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

from .logs import request_id

# A proxy's id is trusted only when it looks like one: it lands in every log line of the request.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every log line of the request, and gunicorn's access line, carry the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = rid
        # Kept past the middleware's return: Django logs a failed response after it. Cleared when the
        # response is closed, so lines logged between requests carry no stale id.
        request_id.set(rid)
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


@receiver(request_finished, dispatch_uid="campaign.middleware.forget_request_id")
def _forget_request_id(**kwargs):
    request_id.set("-")
