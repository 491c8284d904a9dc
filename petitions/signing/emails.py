"""E-mails to signers, each rendered in the language they signed in from three templates."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .. import smtp
from . import services


def send_to_signer(signature, name, extra=None):
    """Render templates/emails/NAME_{subject.txt,body.txt,body.html} for SIGNATURE and send it.

    Every e-mail carries the signer's private links, the withdraw link among them. An e-mail
    whose EXTRA names an unsubscribe_url (updates) offers that in List-Unsubscribe instead, so
    a mail client's "unsubscribe" stops the news without withdrawing the signature, and adds
    List-Unsubscribe-Post (RFC 8058): Gmail and Yahoo then POST to that link themselves when the
    person presses "unsubscribe". The other e-mails never get it, since their List-Unsubscribe
    is the withdraw page and a provider's one-click POST must not withdraw a signature.
    """
    with translation.override(signature.language):
        context = {"signature": signature, "petition": signature.petition, "site_url": settings.SITE_URL}
        context.update(services.signer_links(signature))
        context.update(extra or {})
        subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
        text = render_to_string(f"emails/{name}_body.txt", context)
        html = render_to_string(f"emails/{name}_body.html", context)
    unsubscribe_url = context.get("unsubscribe_url")
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url or context['withdraw_url']}>",
        "Auto-Submitted": "auto-generated",
    }
    if unsubscribe_url:
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(subject=subject, body=text, to=[signature.email], headers=headers)
    message.attach_alternative(html, "text/html")
    smtp.send(message)
