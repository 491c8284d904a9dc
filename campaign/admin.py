"""The admin site: a password and, from anyone who has a TOTP device or when required, a code."""

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


def _needs_second_factor(user):
    return settings.ADMIN_REQUIRE_2FA or user_has_device(user)


class CampaignAdminAuthenticationForm(OTPAdminAuthenticationForm):
    """Asks for the TOTP code from users who have a device, and from everyone with ADMIN_REQUIRE_2FA."""

    def clean(self):
        self.cleaned_data = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        if user is not None and _needs_second_factor(user):
            self.clean_otp(user)
        return self.cleaned_data


class CampaignAdminSite(OTPAdminSite):
    """Django's admin behind django-otp: two-factor is available, and compulsory with ADMIN_REQUIRE_2FA.

    A staff member without a device, while two-factor is not compulsory, gets in with a password;
    one with a device must use it. A superuser gives a colleague a device under "TOTP devices",
    which shows the QR code to scan.
    """

    login_form = CampaignAdminAuthenticationForm
    site_header = _("Campaign administration")
    site_title = _("Campaign administration")
    # The lists need the width at 1280 px (signer, state, status and date beside the filters);
    # the home page and the breadcrumbs lead everywhere the sidebar did.
    enable_nav_sidebar = False

    def __init__(self, name="admin"):
        super().__init__(name)

    # Security apps named for organizers rather than by their package; the campaign comes first.
    APP_NAMES = {
        "axes": _("Security: log-in attempts"),
        "otp_totp": _("Security: two-factor devices"),
        "auth": _("Staff accounts and groups"),
    }

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            if app["app_label"] in self.APP_NAMES:
                app["name"] = self.APP_NAMES[app["app_label"]]
        return sorted(apps, key=lambda app: app["app_label"] != "petitions")

    def has_permission(self, request):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_verified() or not _needs_second_factor(user)
