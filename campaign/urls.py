"""The site's URLs: language-prefixed pages, the admin, and the language switcher."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from campaign import views as campaign_views

ADMIN_URL = settings.ADMIN_URL

urlpatterns = [
    # Probes for load balancers: no language prefix, no HTTPS redirect (SECURE_REDIRECT_EXEMPT).
    path("healthz", campaign_views.healthz, name="healthz"),
    path("readyz", campaign_views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
]
urlpatterns += i18n_patterns(
    path(ADMIN_URL, admin.site.urls),
    path("", include("petitions.urls")),
)
