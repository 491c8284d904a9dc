"""The site's URLs: language-prefixed pages, the admin, and the language switcher."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

ADMIN_URL = settings.ADMIN_URL

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
]
urlpatterns += i18n_patterns(
    path(ADMIN_URL, admin.site.urls),
    path("", include("petitions.urls")),
)
