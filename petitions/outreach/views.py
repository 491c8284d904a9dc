"""Pages a signer reaches from an update or the follow-up: unsubscribing, and saying whether offices replied.

A GET only shows a question with buttons; only a POST changes anything, so mail scanners that
follow every link in an e-mail neither unsubscribe anyone nor answer for them.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..models import FollowUpAnswer, Signature
from . import followups, updates


# Mail providers unsubscribe with one click (RFC 8058): they POST "List-Unsubscribe=One-Click"
# to the link in the update's List-Unsubscribe header, without cookies, so without a CSRF token.
# Exempting this one view is safe: CSRF protects an action that a forged request could trigger
# with the victim's cookies, and here the capability is the signed token in the URL, which only
# the signer received and nobody can forge; the most a page that knows it can do is what its
# holder can do anyway. The page's own button posts the same way, token in the URL. The answer
# is the page itself, never a redirect, which RFC 8058 forbids for the one-click POST.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    signature = updates.signature_from_unsubscribe(token)
    if signature is None:
        return render(request, "petitions/link_invalid.html", status=400)
    if request.method == "POST":
        updates.unsubscribe(signature)
        signature.wants_updates = False
    context = {"petition": signature.petition, "subscribed": signature.wants_updates}
    return render(request, "petitions/unsubscribe.html", context)


@require_http_methods(["GET", "POST"])
def followup(request, token):
    signature = followups.signature_from_followup(token)
    if signature is None or signature.status != Signature.Status.CONFIRMED:
        return render(request, "petitions/link_invalid.html", status=400)
    if request.method == "POST":
        recipient_id, _sep, answer = request.POST.get("answer", "").partition(":")
        if recipient_id.isdigit() and followups.record_answer(signature, int(recipient_id), answer):
            messages.success(request, _("Thank you: your answer is recorded. You can change it at any time."))
        return redirect("petitions:followup", token=token)
    answers = followups.answers_of(signature)
    offices = [
        {"recipient": recipient, "answer": answers.get(recipient.pk)} for recipient in followups.offices(signature)
    ]
    context = {"petition": signature.petition, "offices": offices, "choices": FollowUpAnswer.Answer.choices}
    return render(request, "petitions/followup.html", context)
