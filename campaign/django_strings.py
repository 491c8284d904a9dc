"""Django's own messages that supporters meet, listed so our catalogue can give them in Belarusian.

Django ships Belarusian translations in taraškievica, while this site's interface uses the official
orthography. `make messages` picks the strings below up into locale/, and our catalogue wins over
Django's (LOCALE_PATHS comes first), so a form error on the petition page reads the same way as
the rest of the page. The msgids must stay exactly Django's. Nothing imports this module.
"""

from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy

# Errors the signature form can show next to a field.
FORM_ERRORS = [
    gettext_noop("This field is required."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Enter a valid value."),
    gettext_noop("Null characters are not allowed."),
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
]

# Django's page for a form sent without its CSRF cookie or token (a blocked cookie, a stale tab).
CSRF_FAILURE = [
    gettext_noop("Forbidden"),
    gettext_noop("CSRF verification failed. Request aborted."),
    gettext_noop(
        "You are seeing this message because this HTTPS site requires a “Referer header” to be sent by "
        "your web browser, but none was sent. This header is required for security reasons, to ensure "
        "that your browser is not being hijacked by third parties."
    ),
    gettext_noop(
        "If you have configured your browser to disable “Referer” headers, please re-enable them, at "
        "least for this site, or for HTTPS connections, or for “same-origin” requests."
    ),
    gettext_noop(
        'If you are using the <meta name="referrer" content="no-referrer"> tag or including the '
        "“Referrer-Policy: no-referrer” header, please remove them. The CSRF protection requires the "
        "“Referer” header to do strict referer checking. If you’re concerned about privacy, use "
        'alternatives like <a rel="noreferrer" …> for links to third-party sites.'
    ),
    gettext_noop(
        "You are seeing this message because this site requires a CSRF cookie when submitting forms. "
        "This cookie is required for security reasons, to ensure that your browser is not being "
        "hijacked by third parties."
    ),
    gettext_noop(
        "If you have configured your browser to disable cookies, please re-enable them, at least for "
        "this site, or for “same-origin” requests."
    ),
    gettext_noop("More information is available with DEBUG=True."),
]

# Month names in dates (campaign/formats/be): "F" is the nominative, "E" the genitive "26 лістапада".
MONTHS = [
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
]
MONTHS_IN_DATES = [
    pgettext_lazy("alt. month", "January"),
    pgettext_lazy("alt. month", "February"),
    pgettext_lazy("alt. month", "March"),
    pgettext_lazy("alt. month", "April"),
    pgettext_lazy("alt. month", "May"),
    pgettext_lazy("alt. month", "June"),
    pgettext_lazy("alt. month", "July"),
    pgettext_lazy("alt. month", "August"),
    pgettext_lazy("alt. month", "September"),
    pgettext_lazy("alt. month", "October"),
    pgettext_lazy("alt. month", "November"),
    pgettext_lazy("alt. month", "December"),
]

# The admin's words organizers see on every page: Django's own Belarusian uses taraškievica
# («Зьмяніць», «Дзеяньне»), the project's strings the official orthography.
ADMIN = [
    gettext_noop("Action:"),
    gettext_noop("Change"),
    gettext_noop("Change password"),
    gettext_noop("Change %s"),
    gettext_noop("Log out"),
    gettext_noop("Select %s to change"),
    gettext_noop("View on site"),
    gettext_noop("Filter"),
    gettext_noop("Clear all filters"),
    gettext_noop("Home"),
    gettext_noop("Save and continue editing"),
    gettext_noop("Run the selected action"),
]
