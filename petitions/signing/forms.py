"""The forms supporters fill in: signing a petition, confirming it, asking for a new link."""

import bisect
import functools
import re
import sys
import time
import unicodedata
from array import array
from pathlib import Path

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.choices import BaseChoiceIterator
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import STATE_CHOICES, STATES_WITH_SENATORS, BlockedEmailDomain, Signature, by_name
from . import abuse

_ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")
_PHONE_RE = re.compile(r"^\+?[\d\s().-]{7,25}$")
# Bidirectional overrides can make a name display as something other than what was typed.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

SENATORS = "senators"
PRESIDENT = "president"


def _has_control_characters(value, allow_newlines=False):
    for char in value:
        if allow_newlines and char in "\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI_CONTROLS:
            return True
    return False


class _CleanTextMixin:
    """Refuses control characters in every text field: one line where a line is expected."""

    multiline_fields = ("note",)
    trap_fields = ()

    def _clean_text_fields(self):
        for name, value in list(self.cleaned_data.items()):
            if not isinstance(value, str) or name in self.trap_fields:
                continue
            value = value.replace("\r\n", "\n").replace("\r", "\n") if name in self.multiline_fields else value
            if _has_control_characters(value, allow_newlines=name in self.multiline_fields):
                self.add_error(name, gettext("Please remove control characters or line breaks from this field."))
            else:
                self.cleaned_data[name] = value.strip()


class _Choices(BaseChoiceIterator):
    """Choices already in the form Django's fields keep them, which they therefore take as they are.

    Given a list, a ChoiceField and its widget each normalize it again, entry by entry: for the
    57 states that was half the cost of building a sign form, on every signing POST. Nothing
    changes them, so every form's copy of a field shares them: copying the titles' list took 25 of
    the 38 us of copying their field (each form deep-copies its fields).
    """

    def __init__(self, choices):
        self.choices = tuple(choices)

    def __iter__(self):
        return iter(self.choices)

    def __len__(self):
        return len(self.choices)

    def __deepcopy__(self, memo):
        return self


@functools.lru_cache(maxsize=8)
def _state_choices(language):
    """The states as a reader of LANGUAGE looks them up (Аёва is under А), sorted once per language.

    Every signing POST builds the form, and sorting 56 translated names each time cost as much as
    validating half the fields.
    """
    return _Choices([("", "—"), *by_name(STATE_CHOICES)])


class SignatureForm(_CleanTextMixin, forms.Form):
    title = forms.ChoiceField(label=_("Title"), choices=_Choices([("", "—"), *Signature.Title.choices]))
    first_name = forms.CharField(
        label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("We send a link to confirm your signature. It is never shown publicly."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    lives_abroad = forms.BooleanField(
        label=_("I live outside the United States"),
        required=False,
        help_text=_(
            "Senators take letters only from their own constituents; from abroad you can write to the President."
        ),
    )
    address = forms.CharField(
        label=_("Street address"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    city = forms.CharField(
        label=_("City"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    state = forms.ChoiceField(
        label=_("State"),
        choices=(),  # Set per form in the page's language: see _state_choices.
        required=False,
        widget=forms.Select(attrs={"autocomplete": "address-level1"}),
    )
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=20,
        required=False,
        help_text=_("Five digits, or ZIP+4."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    zip_confirmed = forms.BooleanField(label=_("Yes, this ZIP code is right for my state"), required=False)
    country = forms.CharField(
        label=_("Country"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "country-name"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )
    note = forms.CharField(
        label=_("Personal note (optional)"),
        max_length=1500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Added under the letter, in English. Up to 1,500 characters."),
    )
    recipients = forms.MultipleChoiceField(
        label=_("Send my letter to"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one person to receive your letter.")},
    )
    wants_updates = forms.BooleanField(
        label=_("Send me news about this campaign (optional)"),
        required=False,
    )
    consent = forms.BooleanField(label=_("I have read the privacy notice and agree to it"))
    # Bot traps. People never see the first (it is off-screen, out of the tab order and hidden from
    # screen readers, and its label says to leave it empty); naive bots fill in every field. The
    # second carries a signed time the form was shown, so a form sent back at once gives a bot away.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)
    form_started = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
    trap_fields = ("website", "form_started")

    def __init__(self, *args, petition, client_ip=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.petition = petition
        self.client_ip = client_ip
        # The states as a reader of the page's language looks them up: Аёва is under А.
        self.fields["state"].choices = _state_choices(translation.get_language())
        if not self.is_bound:
            # A form that was sent keeps its own stamp; only a form about to be shown needs a new one.
            self.fields["form_started"].initial = abuse.form_started_token()
        choices = []
        if petition.allow_senators:
            choices.append((SENATORS, _("My state's two senators")))
        if petition.allow_president:
            choices.append((PRESIDENT, _("The President of the United States")))
        self.fields["recipients"].choices = choices
        self.fields["recipients"].initial = [value for value, _label in choices]

    @functools.cached_property
    def helper(self):
        """The form's layout for crispy-forms, built only when the form is shown (not for a valid POST)."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        helper.layout = Layout(
            *self._shown_fields(),
            Div(
                Field("website", tabindex="-1", autocomplete="off"),
                css_class="hp-field",
                aria_hidden="true",
            ),
            "form_started",
            HTML(self._captcha_widget()),
            # Named before the button; the template is rendered with the page's context.
            HTML('{% include "petitions/_recipients_preview.html" %}'),
        )
        helper.add_input(Submit("sign", _("Sign the appeal"), css_class="btn-primary btn-lg"))
        return helper

    def _shown_fields(self):
        """The fields in the order a signer fills them in: the country beside the city it belongs with.

        "This ZIP code is right for my state" is offered only once a ZIP code looked wrong for the
        state (or was already ticked): a signer who never needs it never sees it.
        """
        names = [name for name in self.fields if name not in self.trap_fields]
        for name in ("country", "postal_code"):
            names.remove(name)
            names.insert(names.index("state"), name)
        if not (getattr(self, "zip_warning", False) or self.data.get("zip_confirmed")):
            names.remove("zip_confirmed")
        return names

    @staticmethod
    def _captcha_widget():
        """The CAPTCHA provider's widget and script, when one is switched on; nothing otherwise."""
        provider = settings.CAPTCHA_PROVIDER
        if not provider:
            return ""
        return format_html(
            '<div class="{} mb-3" data-sitekey="{}"></div><script src="{}" async defer></script>',
            abuse.CAPTCHA_WIDGET_CLASSES[provider],
            settings.CAPTCHA_SITE_KEY,
            abuse.CAPTCHA_SCRIPTS[provider],
        )

    def bot_reason(self):
        """Why this submission looks like a bot's ("" when it does not): the honeypot or the timer.

        A stamp used before is caught with the rate limits (abuse.signing_quarantine_reason).
        """
        if (self.data.get("website") or "").strip():
            return abuse.Reason.HONEYPOT
        if abuse.filled_too_fast(self.data.get("form_started")):
            return abuse.Reason.TOO_FAST
        return ""

    def clean_email(self):
        email = self.cleaned_data["email"]
        if BlockedEmailDomain.blocks(email):
            raise forms.ValidationError(
                gettext("Addresses from this provider cannot be used to sign. Please use your own e-mail address.")
            )
        return email

    def clean_zip_code(self):
        return self.cleaned_data["zip_code"].strip()

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not _PHONE_RE.match(phone):
            raise forms.ValidationError(gettext("Enter a phone number with digits only, for example 515-555-0134."))
        digits = re.sub(r"\D", "", phone)
        # US numbers are written ###-###-#### so that CWC accepts them, and a US number of any other
        # length cannot be called back; numbers abroad, or written with a country code, are kept.
        abroad = self.cleaned_data.get("lives_abroad")
        if phone and (phone.startswith("+1") or not (phone.startswith("+") or abroad)):
            if len(digits) == 11 and digits.startswith("1"):
                digits = digits[1:]
            if len(digits) != 10:
                raise forms.ValidationError(gettext("Enter a phone number with digits only, for example 515-555-0134."))
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        return phone

    def clean(self):
        self._clean_text_fields()
        if abuse.form_stamp_expired(self.data.get("form_started")):
            self.add_error(None, gettext("This form was open for a long time. Please check it and send it again."))
            # The form comes back with a new stamp, dated as if shown just long enough ago: the person
            # has filled it in already.
            self.data = self.data.copy()
            self.data["form_started"] = abuse.form_started_token(time.time() - settings.SIGN_MIN_SECONDS)
        if abuse.captcha_enabled():
            token = self.data.get(abuse.CAPTCHA_RESPONSE_FIELDS[settings.CAPTCHA_PROVIDER])
            if not abuse.captcha_passed(token, self.client_ip or ""):
                message = gettext("Please complete the check that you are not a robot and send the form again.")
                self.add_error(None, message)
        data = self.cleaned_data
        abroad = data.get("lives_abroad")
        chosen = set(data.get("recipients") or [])
        if abroad:
            if not data.get("country"):
                self.add_error("country", gettext("Tell us which country you live in."))
            elif data["country"].strip().lower() in ("united states", "usa", "us", "u.s.", "u.s.a."):
                self.add_error(
                    "country", gettext("If you live in the United States, untick “I live outside the United States”.")
                )
            if not self.petition.allow_president:
                self.add_error(
                    "lives_abroad",
                    gettext(
                        "This appeal goes only to senators, who take letters only from their own constituents: "
                        "it cannot be signed from outside the United States."
                    ),
                )
            elif "recipients" in data:
                # Senators take letters only from their own constituents: from abroad the letter goes
                # to the President, whichever boxes a page without script or styles left ticked.
                # The confirmation page says so and names the President before anything is sent.
                data["recipients"] = [PRESIDENT]
            # The state and ZIP code fields are hidden on this path: what they hold was typed before
            # the signer said they live abroad.
            data["state"] = ""
            data["zip_code"] = data.get("postal_code", "")
        else:
            data["country"] = "United States"
            state = data.get("state")
            if not state:
                self.add_error("state", gettext("Choose your state."))
            elif SENATORS in chosen and state not in STATES_WITH_SENATORS:
                self.add_error(
                    "recipients",
                    gettext("Residents of DC and the territories have no senators. You can write to the President."),
                )
            self._check_zip(data)
        return data

    def _check_zip(self, data):
        zip_code = data.get("zip_code", "")
        if not zip_code:
            self.add_error("zip_code", gettext("Enter your ZIP code."))
            return
        if not _ZIP_RE.match(zip_code):
            self.add_error("zip_code", gettext("Enter a ZIP code of five digits, or ZIP+4 such as 50309-1234."))
            return
        state = data.get("state")
        if not state or data.get("zip_confirmed"):
            return
        # ZIP areas cross state lines, so a mismatch is a warning the signer can override.
        known = zip_states(zip_code[:5])
        if known and state not in known:
            self.add_error(
                "zip_code",
                gettext(
                    "This ZIP code usually belongs to %(states)s, not %(state)s. "
                    "Check it, or tick the box below to keep it."
                )
                % {"states": ", ".join(sorted(known)), "state": state},
            )
            self.zip_warning = True

    def signature_data(self, recipients):
        data = dict(self.cleaned_data)
        data["recipients"] = recipients
        return data


_ZIP_STATES_FILE = Path(__file__).parent.with_name("data") / "zip_states.txt"


@functools.cache
def _zip_runs():
    """The ZIP code runs of data/zip_states.txt: their first and last codes, and their states.

    The zipcodes package keeps every code with its city and coordinates: 55 MB in each web process
    and four seconds on its first lookup. These runs, made from its data, are read on a worker's
    first signature; in arrays of machine integers they take 0.4 MB (as lists of Python ints and
    tuples, 3.3 MB of each web process's 80 MB budget).
    """
    firsts, lasts, states = array("l"), array("l"), []
    with _ZIP_STATES_FILE.open() as lines:
        for line in lines:
            if line.strip() and not line.startswith("#"):
                first, last, state = line.split()
                firsts.append(int(first))
                lasts.append(int(last))
                states.append(sys.intern(state))
    return firsts, lasts, states


def zip_states(zip5):
    """The states a five-digit ZIP code is known in (none for an unknown code), from the zipcodes package's data."""
    if not (isinstance(zip5, str) and len(zip5) == 5 and zip5.isdigit()):
        return set()
    code = int(zip5)
    firsts, lasts, states = _zip_runs()
    index = bisect.bisect_right(firsts, code) - 1
    if index >= 0 and code <= lasts[index]:
        return {states[index]}
    return set()


class ConfirmForm(forms.Form):
    recipients = forms.MultipleChoiceField(
        label=_("Send my letter to"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one person to receive your letter.")},
    )

    def __init__(self, *args, signature, **kwargs):
        super().__init__(*args, **kwargs)
        recipients = signature.recipients.filter(is_active=True)
        self.fields["recipients"].choices = [(str(r.pk), str(r)) for r in recipients]
        self.fields["recipients"].initial = [str(r.pk) for r in recipients]

    def recipient_ids(self):
        return [int(pk) for pk in self.cleaned_data["recipients"]]


class ResendForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
