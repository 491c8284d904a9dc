"""Imports the 100 senators and the sitting President from the congress-legislators dataset."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from petitions import legislators

# Output stays in English: Django runs management commands with translation deactivated.
OFFLINE_HELP = """\
Senators were not imported: {error}
The site runs without senators until they are. To import them, download
{url} (or the .yaml beside it) and either run
    make run LEGISLATORS_FILE=/path/to/legislators-current.json
or
    .venv/bin/python manage.py import_legislators /path/to/legislators-current.json"""


class Command(BaseCommand):
    help = (
        "Create or update the senators from congress-legislators' legislators-current file (JSON or YAML), "
        "retire those no longer listed, and name the sitting President from its executive file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", help="legislators-current.json or .yaml; by default downloaded from LEGISLATORS_URL"
        )
        parser.add_argument(
            "--executive",
            metavar="PATH",
            help="executive.json or .yaml; by default the one beside the legislators file or its address",
        )
        parser.add_argument(
            "--president-name", metavar="NAME", help="name the President so instead of reading the executive file"
        )
        parser.add_argument(
            "--if-offline-skip",
            action="store_true",
            help="when no path is given and the download fails, say so and exit successfully (for make run)",
        )

    def handle(self, *args, path=None, executive=None, president_name=None, if_offline_skip=False, **options):
        try:
            people = legislators.read_file(path) if path else legislators.download(settings.LEGISLATORS_URL)
        except legislators.DatasetError as error:
            if path is None and if_offline_skip:
                self.stderr.write(self.style.WARNING(OFFLINE_HELP.format(error=error, url=settings.LEGISLATORS_URL)))
                return
            hint = "" if path else "\nGive the path of a downloaded legislators-current.json or .yaml instead."
            raise CommandError(f"{error}{hint}") from error
        try:
            records = legislators.senators(people)
            if president_name is None:
                president_name = self._president_name(path, executive, if_offline_skip)
            # One transaction: a file that breaks halfway through changes nothing.
            with transaction.atomic():
                changes = legislators.import_senators(records)
                president_changed = president_name and legislators.update_president(president_name)
        except legislators.DatasetError as error:
            raise CommandError(str(error)) from error
        self._report(changes, options["verbosity"])
        if president_name:
            self.stdout.write(f"President: {president_name} ({'updated' if president_changed else 'unchanged'}).")

    def _president_name(self, path, executive, if_offline_skip):
        """The sitting President's name from the executive file, or None (with a word why)."""
        if executive is None and path is not None:
            executive = legislators.executive_path(path)
            if executive is None:
                self.stderr.write(
                    "President unchanged: no executive.json or .yaml beside the legislators file "
                    "(give --executive PATH or --president-name NAME)."
                )
                return None
        try:
            if executive is not None:
                people = legislators.read_file(executive)
            else:
                people = legislators.download(legislators.executive_url(settings.LEGISLATORS_URL))
        except legislators.DownloadError as error:
            if not if_offline_skip:
                raise
            self.stderr.write(self.style.WARNING(f"President unchanged: {error}"))
            return None
        name = legislators.president_name(people, timezone.localdate())
        if name is None:
            self.stderr.write(self.style.WARNING("President unchanged: no presidential term in the file covers today."))
        return name

    def _report(self, changes, verbosity):
        self.stdout.write(
            f"Senators: {len(changes.created)} created, {len(changes.updated)} updated, "
            f"{len(changes.unchanged)} unchanged, {len(changes.retired)} retired."
        )
        listed = [("Retired (no longer listed)", changes.retired)]
        if verbosity >= 2:
            listed = [("Created", changes.created), ("Updated", changes.updated), *listed]
        for label, senators in listed:
            if senators:
                self.stdout.write(f"{label}: " + "; ".join(str(senator) for senator in senators))
