"""The admin's app config: Django's admin, served by the campaign's two-factor admin site."""

from django.contrib.admin.apps import AdminConfig


class CampaignAdminConfig(AdminConfig):
    default_site = "campaign.admin.CampaignAdminSite"
