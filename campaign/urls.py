"""The site's URLs: language-prefixed pages, the admin, and the language switcher."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from campaign import views as campaign_views
from petitions.signing import views as petition_views
from petitions.sitemaps import SITEMAPS

ADMIN_URL = settings.ADMIN_URL

urlpatterns = [
    # Probes for load balancers: no language prefix, no HTTPS redirect (SECURE_REDIRECT_EXEMPT).
    path("healthz", campaign_views.healthz, name="healthz"),
    path("readyz", campaign_views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Addresses without a language: machines read them, and the count is the same in every language.
    path("robots.txt", petition_views.robots_txt, name="robots"),
    path("sitemap.xml", sitemap_views.sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("api/petitions/<slug:slug>/count.json", petition_views.count_json, name="api-petition-count"),
]
urlpatterns += i18n_patterns(
    path(ADMIN_URL, admin.site.urls),
    path("", include("petitions.urls")),
)
