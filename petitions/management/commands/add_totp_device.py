"""Give a staff member a TOTP device from the command line and print its QR code to scan.

With ADMIN_REQUIRE_2FA=1 nobody gets into the admin without a device, so the first ones (the
superuser's own, at least) are made here; later a superuser may add them under "TOTP devices".
"""

import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Add a TOTP device for a staff member and print the QR code (and otpauth:// link) to scan."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="phone", help="What to call the device (default: phone).")
        parser.add_argument(
            "--replace", action="store_true", help="Delete the user's other TOTP devices first (a lost phone)."
        )

    def handle(self, username, name, replace, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not user.is_staff:
            raise CommandError(f"{username!r} is not staff: the admin would not let them in anyway.")
        if replace:
            TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        code = qrcode.QRCode(border=1)
        code.add_data(device.config_url)
        picture = io.StringIO()
        code.print_ascii(out=picture, invert=True)
        self.stdout.write(picture.getvalue())
        self.stdout.write(device.config_url)
        self.stdout.write(
            f"Device {name!r} added for {username}. Scan the code with an authenticator app; the admin asks "
            "for its six digits at every log-in. Anyone who sees this output can make the codes: clear it."
        )
