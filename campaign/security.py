"""Response headers Django and django-csp do not set: the Permissions-Policy."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Tells the browser which powerful features (camera, location...) pages may use: none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
