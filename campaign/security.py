"""Response security headers: the content security policy, built once, and the Permissions-Policy."""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view sets on its response to change or lift the policy for itself (csp.decorators).
_VIEW_OVERRIDES = (
    "_csp_exempt",
    "_csp_exempt_ro",
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)

# The headers settings give every response: (policy, report-only policy, whether settings exclude paths).
_settings_policies = []


@receiver(setting_changed)
def _forget_settings_policies(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.clear()


def _policies_from_settings():
    if not _settings_policies:
        excluded = any(
            (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
            for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
        )
        _settings_policies.append((build_policy(), build_policy(report_only=True), excluded))
    return _settings_policies[0]


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy from settings built once instead of for every response.

    Kept because django-csp as it comes cost 33 % more CPU per cookie-less petition page answered
    from Django's page cache (4.27 against 3.21 ms, ranges apart; within the spread for the signing
    POST and form-token GET), median of four alternating rounds in one process (bench/plain_cpu.py,
    6 December 2026): what a deployment without the proxy serves the crowd. A response no view
    changed the policy for, with no nonce, always gets the same headers, so they are built once
    (and again when a test changes the setting). Everything else goes through django-csp as before:
    a view's csp_update, csp_replace or csp_exempt, a nonce, paths excluded in settings, and the
    error pages DEBUG leaves without a policy.
    """

    def process_response(self, request, response):
        policy, report_only, excluded = _policies_from_settings()
        if (
            excluded
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _VIEW_OVERRIDES)
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        if policy and HEADER not in response:
            response[HEADER] = policy
        if report_only and HEADER_REPORT_ONLY not in response:
            response[HEADER_REPORT_ONLY] = report_only
        # As django-csp does: a nonce asked for once the header is written is an error, not a silent miss.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class PermissionsPolicyMiddleware:
    """Tells the browser which powerful features (camera, location...) pages may use: none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
