"""The sitemap: the public pages in both languages, each listing its translation as an alternate."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Petition


class PetitionSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "daily"

    def items(self):
        return Petition.objects.published().order_by("pk")


class PageSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "monthly"

    def items(self):
        return ["petitions:home", "petitions:privacy"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {"petitions": PetitionSitemap, "pages": PageSitemap}
