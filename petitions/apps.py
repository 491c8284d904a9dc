"""The petitions app: the appeal, its signatures and the letters they send."""

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = _("Campaign")

    def ready(self):
        # Imported here, not at the top: Django loads apps.py before any model may be imported.
        from .models import BlockedEmailDomain, BlockedNetwork, Petition, Recipient, forget_kept

        # Registered on import: the organizers' admin, which lives with their other pages rather than
        # in the admin.py Django looks for, and the deploy check that names unreachable recipients.
        from .organizers import admin, readiness  # noqa: F401

        # What the sign form keeps in memory (models.kept) is read afresh after any change here.
        for model in (BlockedEmailDomain, BlockedNetwork, Petition, Recipient):
            post_save.connect(forget_kept, sender=model, dispatch_uid=f"forget-kept-{model.__name__}")
            post_delete.connect(forget_kept, sender=model, dispatch_uid=f"forget-kept-{model.__name__}-delete")
