"""Fixtures for every test folder: the test database keeps what its migrations made."""

import pytest
from django.db.models.signals import post_migrate


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The migrated test database, whose staff groups come back after every flush.

    A transactional test ends with a flush, which empties every table; the post_migrate signal it
    sends recreates content types and permissions, but not the groups migrations made (Organizers,
    Data stewards, Translators, Delivery managers). In one process pytest-django runs every
    transactional test after the others, so none noticed; `make test` runs each file's tests
    together in one of two processes, and a later file's tests would find no groups.
    """
    from django.contrib.auth.models import Group, Permission

    with django_db_blocker.unblock():
        groups = {
            group.name: list(group.permissions.values_list("content_type__app_label", "codename"))
            for group in Group.objects.all()
        }

    def restore_groups(sender, using, **kwargs):
        existing = Permission.objects.using(using).select_related("content_type")
        by_key = {(permission.content_type.app_label, permission.codename): permission for permission in existing}
        for name, permissions in groups.items():
            group, _created = Group.objects.using(using).get_or_create(name=name)
            group.permissions.set([by_key[key] for key in permissions])

    # After the petitions app's own post_migrate work: its permissions exist by then.
    post_migrate.connect(restore_groups, sender=_petitions_config(), weak=False, dispatch_uid="tests-restore-groups")
    yield
    post_migrate.disconnect(sender=_petitions_config(), dispatch_uid="tests-restore-groups")


def _petitions_config():
    from django.apps import apps

    return apps.get_app_config("petitions")
