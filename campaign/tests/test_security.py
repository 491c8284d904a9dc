"""The content security policy built once: the same headers django-csp itself would write."""

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from campaign.security import ContentSecurityPolicyMiddleware


def _headers(middleware_class, response_for, path="/en/p/free/"):
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda request: response_for(request))
    response = middleware(request)
    return {name: response.get(name) for name in (HEADER, HEADER_REPORT_ONLY)}, request


def _plain(request):
    return HttpResponse("ok")


def _replaced(request):
    response = HttpResponse("ok")
    response._csp_replace = {"frame-ancestors": ["*"]}
    return response


def _with_nonce(request):
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")


@pytest.mark.parametrize("response_for", [_plain, _replaced, _with_nonce], ids=["plain", "csp_replace", "nonce"])
def test_every_response_gets_the_headers_django_csp_would_give_it(response_for):
    ours, _request = _headers(ContentSecurityPolicyMiddleware, response_for)
    theirs, _request = _headers(CSPMiddleware, response_for)
    assert ours[HEADER]
    if response_for is _with_nonce:
        # A fresh nonce each time: the same policy around it.
        assert ours[HEADER].split("'nonce-")[0] == theirs[HEADER].split("'nonce-")[0]
    else:
        assert ours == theirs
    if response_for is _replaced:
        assert "frame-ancestors *" in ours[HEADER]
    else:
        assert "frame-ancestors 'none'" in ours[HEADER]


def test_a_changed_setting_changes_the_kept_policy():
    before, _request = _headers(ContentSecurityPolicyMiddleware, _plain)
    policy = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["https://images.example.org"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy, CONTENT_SECURITY_POLICY_REPORT_ONLY=policy):
        during, _request = _headers(ContentSecurityPolicyMiddleware, _plain)
    after, _request = _headers(ContentSecurityPolicyMiddleware, _plain)
    # django-csp does not promise the directives' order.
    for header in (HEADER, HEADER_REPORT_ONLY):
        assert sorted(during[header].split("; ")) == ["default-src 'self'", "img-src https://images.example.org"]
    assert before == after != during
    assert before[HEADER_REPORT_ONLY] is None


def test_paths_settings_exclude_get_no_policy():
    policy = {"EXCLUDE_URL_PREFIXES": ["/admin/"], "DIRECTIVES": {"default-src": ["'self'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        excluded, _request = _headers(ContentSecurityPolicyMiddleware, _plain, path="/admin/login/")
        kept, _request = _headers(ContentSecurityPolicyMiddleware, _plain)
    assert excluded[HEADER] is None
    assert kept[HEADER] == "default-src 'self'"


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error():
    from csp.exceptions import CSPNonceError

    _headers_written, request = _headers(ContentSecurityPolicyMiddleware, _plain)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
