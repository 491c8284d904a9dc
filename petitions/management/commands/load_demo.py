"""Creates the demo petition and the President as a recipient, once; later runs change nothing."""

from django.core.management.base import BaseCommand

from petitions import demo
from petitions.models import Petition, Recipient


class Command(BaseCommand):
    help = "Load the campaign's first appeal as an open petition, unless it exists already."

    def handle(self, *args, **options):
        petition, created = Petition.objects.get_or_create(
            slug="free-political-prisoners",
            defaults={
                "title_be": demo.TITLE_BE,
                "title_en": demo.TITLE_EN,
                "introduction_be": demo.INTRODUCTION_BE,
                "introduction_en": demo.INTRODUCTION_EN,
                "letter_be": demo.LETTER_BE,
                "letter_en": demo.LETTER_EN,
                "subject": "Release Belarusian political prisoners",
                "goal": 10000,
                "status": Petition.Status.OPEN,
            },
        )
        self.stdout.write(f"Demo petition {'created' if created else 'already there'}: {petition.get_absolute_url()}")
        if not Recipient.objects.filter(kind=Recipient.Kind.PRESIDENT).exists():
            # The President's contact form admits no software: letters are printed and posted.
            Recipient.objects.create(
                kind=Recipient.Kind.PRESIDENT,
                name="The President of the United States",
                office="The White House",
                office_address=demo.PRESIDENT_ADDRESS,
                website="https://www.whitehouse.gov/",
                contact_form="https://www.whitehouse.gov/contact/",
                channel=Recipient.Channel.PRINT,
            )
            self.stdout.write("Added the President as a recipient (letters are printed and posted).")
