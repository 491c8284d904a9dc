"""Pages for supporters: the appeal, signing, confirming, status and withdrawal."""

import copy
import hashlib

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, cache_page
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from ..models import Letter, Organization, Petition, Recipient, Signature
from . import abuse, services
from .forms import PRESIDENT, SENATORS, ConfirmForm, ResendForm, SignatureForm


def home(request):
    petitions = Petition.objects.open()
    return render(request, "petitions/home.html", {"petitions": petitions})


def _senators_by_state():
    senators = {}
    for senator in Recipient.objects.active().filter(kind=Recipient.Kind.SENATOR).order_by("state", "senate_class"):
        senators.setdefault(senator.state, []).append(senator.name)
    return senators


def _recipient_labels(petition):
    """Every recipient a signer may choose, named with their office, for sign.js to name them before the button."""
    senators, president = {}, None
    for recipient in Recipient.objects.kept_active():
        if recipient.kind == Recipient.Kind.SENATOR and petition.allow_senators:
            senators.setdefault(recipient.state, []).append(str(recipient))
        elif recipient.kind == Recipient.Kind.PRESIDENT and petition.allow_president and president is None:
            president = str(recipient)
    return {"senators": senators, "president": president}


def _join_names(names):
    """NAMES as a sentence lists them: "A, B and C"."""
    names = [str(name) for name in names]
    if len(names) < 2:
        return "".join(names)
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def _recipients_preview(petition, form):
    """Who the letter goes to, by name, as far as the form says yet (see services.recipients_for).

    The sign box names them before its button; sign.js keeps this up to date as the signer chooses,
    and a form sent back (with errors, or for its token) names them from what was sent.
    """
    if form.is_bound:
        data, wanted = form.data, form.data.getlist("recipients")
    else:
        data = form.initial
        wanted = data.get("recipients") or form.fields["recipients"].initial
    abroad = bool(data.get("lives_abroad"))
    state = "" if abroad else data.get("state") or ""
    names = []
    if SENATORS in wanted and petition.allow_senators and not abroad:
        if state:
            senators = services.recipients_for(petition, state, False)
            names += [str(r) for r in senators if r.kind == Recipient.Kind.SENATOR]
        else:
            names.append(_("your state's two senators"))
    if (PRESIDENT in wanted or abroad) and petition.allow_president:
        president = [r for r in services.recipients_for(petition, "", True) if r.kind == Recipient.Kind.PRESIDENT]
        names += [str(r) for r in president]
    return _join_names(names)


def _sender_marks(request, form, petition, ip):
    """What a signing request says about its sender: keyed hashes of its address, and any reason to quarantine.

    The blocked networks are checked here, while the address is still known; only hashes are kept.
    """
    email_normalized = services.normalize_email(form.cleaned_data["email"])
    ip_hash, ip_prefix_hash = abuse.hash_ip(ip), abuse.hash_ip_prefix(ip)
    over_limit = abuse.signing_quarantine_reason(
        request, petition, email_normalized, ip, ip_hash, ip_prefix_hash, form_stamp=form.data.get("form_started")
    )
    return {
        "ip_hash": ip_hash,
        "ip_prefix_hash": ip_prefix_hash,
        "quarantine_reason": form.bot_reason() or over_limit,
    }


# The petition page is the same for every visitor, so that a shared cache (a CDN, nginx) can serve
# a crowd and the site renders it once every few seconds per language: it carries no CSRF token and
# no form stamp, and sets no cookie. The form gets both from form_token when the signer starts to
# fill it in (static/js/sign.js). A browser without JavaScript is offered the form on a page of its
# own, with both (sign); if it sends the cached page's form anyway, it gets it back filled in, with
# both (csrf_failure), to send once more: nothing is saved from a form without its token, so
# signing keeps its CSRF protection.
PAGE_CACHE_SECONDS = 30


def _public_detail(request, petition):
    """The petition page without a token, from the cache when nothing it shows has changed.

    The key holds what the page shows: its path and language, and every value on it (the
    petition's fields, the count, the recipients), so a new count shows at once and an organizer's
    edit as soon as this process reads the petition again (models.KEPT_SECONDS). A query string
    changes nothing on the page, so it is not in the key: a link with utm_* tags is served the
    crowd's copy, and a random one (?x=<random>, to make the site render every request) is too.
    The copy is rendered as if there were no query string, so that none reaches the page's links.
    Only visitors without cookies share it: a visitor with cookies may have a message waiting (the
    petition closed while they signed).
    """
    key = None
    if not request.COOKIES:
        fields = repr([getattr(petition, f.attname) for f in Petition._meta.concrete_fields])
        recipients = Recipient.objects.active().aggregate(n=Count("pk"), last=Max("updated_at"))
        organization = Organization.kept_current()
        version = f"{fields}{petition.confirmed_count()}{recipients}{request.path}"
        version += f"{organization and organization.updated_at}"
        key = f"petition-page:{translation.get_language()}:{hashlib.sha256(version.encode()).hexdigest()}"
        content = cache.get(key)
        if content is not None:
            return HttpResponse(content)
        request = _without_query(request)
    # The form is built only for a render: its fields and layout cost more than the cached page.
    form = SignatureForm(petition=petition)
    form.fields["form_started"].initial = ""
    response = render(request, "petitions/detail.html", _detail_context(petition, form))
    if key:
        cache.set(key, response.content, PAGE_CACHE_SECONDS)
    return response


def _without_query(request):
    """REQUEST as if it had come without a query string, for a page that is the same for any."""
    if not request.META.get("QUERY_STRING"):
        return request
    bare = copy.copy(request)
    bare.META = {**request.META, "QUERY_STRING": ""}
    bare.GET = QueryDict()
    return bare


def _detail_context(petition, form):
    return {
        "petition": petition,
        "form": form,
        "senators_by_state": _senators_by_state(),
        "recipient_labels": _recipient_labels(petition),
        "recipients_preview": _recipients_preview(petition, form),
        "names_pair": _("%(first)s and %(last)s"),
        "president": Recipient.objects.president(),
        "share_url": settings.SITE_URL + petition.get_absolute_url(),
    }


# Error reports never show what a signer typed: every field of the form is personal.
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def detail(request, slug):
    petition = Petition.objects.kept_published(slug)
    if petition is None:
        raise Http404
    ip = abuse.client_ip(request)
    if request.method == "GET":
        response = _public_detail(request, petition)
        # Shared caches (a CDN, nginx) keep it for PAGE_CACHE_SECONDS; a browser asks again every
        # time, so a signer who has just confirmed never sees a count without their signature.
        patch_cache_control(response, public=True, max_age=0, s_maxage=PAGE_CACHE_SECONDS)
        # A visitor with cookies may have a message waiting for them (the petition closed while they
        # signed): their page is theirs alone. The crowd, without cookies, shares one copy.
        patch_vary_headers(response, ["Cookie"])
        return response
    if request.method == "POST":
        if not petition.is_open:
            messages.error(request, _("This petition is closed and no longer takes signatures."))
            return redirect(petition)
        form = SignatureForm(request.POST, petition=petition, client_ip=ip)
        if form.is_valid():
            data = form.cleaned_data
            wanted = set(data["recipients"])
            recipients = services.recipients_for(petition, data["state"], data["lives_abroad"])
            recipients = [
                r
                for r in recipients
                if (r.kind == Recipient.Kind.SENATOR and SENATORS in wanted)
                or (r.kind == Recipient.Kind.PRESIDENT and PRESIDENT in wanted)
            ]
            if recipients:
                # A quarantined signature gets the same answer as any other, so a bot learns nothing.
                marks = _sender_marks(request, form, petition, ip)
                services.sign(petition, form.signature_data(recipients), translation.get_language(), **marks)
                return redirect("petitions:signed", slug=petition.slug)
            # The officials chosen are not imported yet or no longer in office: a signature without a
            # recipient could never be confirmed, so none is saved.
            form.add_error(
                "recipients", _("Nobody you chose can receive letters right now. Please choose someone else.")
            )
    context = {**_detail_context(petition, form), "with_token": True}
    return render(request, "petitions/detail.html", context, status=400 if form.errors else 200)


@require_GET
def form_token(request, slug):
    """The sign form's CSRF token and start stamp, for the cached petition page's form; never cached."""
    # Every signer asks for this: the petition as this process keeps it, without a query.
    if Petition.objects.kept_published(slug) is None:
        raise Http404
    response = JsonResponse({"csrfmiddlewaretoken": get_token(request), "form_started": abuse.form_started_token()})
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response


@require_GET
def sign(request, slug):
    """The sign form on a page of its own, with its token and stamp: a browser without script signs in one press.

    The form posts to the petition page (detail), which keeps the signing rules, errors and redirect.
    """
    petition = get_object_or_404(Petition.objects.published(), slug=slug)
    if not petition.is_open:
        return redirect(petition)
    context = {**_detail_context(petition, SignatureForm(petition=petition)), "with_token": True}
    response = render(request, "petitions/sign.html", context)
    # The token sets the CSRF cookie: this page belongs to one visitor and no cache may keep it.
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response


def _sign_form_again(request):
    """The petition page with the form as it was sent and a token, for a sign form that came without one."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if request.method != "POST" or match.view_name != "petitions:detail":
        return None
    petition = Petition.objects.open().filter(slug=match.kwargs["slug"]).first()
    if petition is None:
        return None
    skip = ("csrfmiddlewaretoken", "form_started", "website")
    initial = {name: request.POST.getlist(name) if name == "recipients" else request.POST.get(name)
               for name in request.POST if name not in skip}  # fmt: skip
    form = SignatureForm(initial=initial, petition=petition, client_ip=abuse.client_ip(request))
    context = {**_detail_context(petition, form), "with_token": True, "token_missing": True}
    return render(request, "petitions/detail.html", context, status=403)


def csrf_failure(request, reason=""):
    """A form sent without its security token, or from a page left open too long: say to reload.

    The sign form comes back filled in, with a token: it has none on the cached page until its
    script fetches one, so this is how a browser without JavaScript signs.
    """
    return _sign_form_again(request) or render(request, "403_csrf.html", status=403)


@sensitive_post_parameters("email")
@require_http_methods(["GET", "POST"])
def signed(request, slug):
    # The page every signer's browser is sent to after the POST: the petition as this process keeps it.
    petition = Petition.objects.kept_published(slug)
    if petition is None:
        raise Http404
    form = ResendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        # Past the limits nothing is sent, and the answer is the same: it reveals nothing either way.
        if abuse.resend_allowed(request, petition, services.normalize_email(email)):
            services.resend_confirmation(petition, email)
        messages.success(request, _("If that address has a signature waiting, we have sent a new link."))
        return redirect("petitions:signed", slug=slug)
    return render(request, "petitions/signed.html", {"petition": petition, "form": form})


@require_http_methods(["GET", "POST"])
def confirm(request, token):
    signature = services.signature_from_confirmation(token)
    if signature is None:
        # An expired link is still genuine: the page can offer a new link for its petition.
        context = {"petition": services.petition_of_expired_confirmation(token)}
        return render(request, "petitions/link_invalid.html", context, status=400)
    petition = signature.petition
    if signature.status == Signature.Status.CONFIRMED or (
        signature.status == Signature.Status.PENDING and signature.address_confirmed()
    ):
        return render(request, "petitions/already_confirmed.html", {"petition": petition})
    if abuse.is_held_confirmation(signature):
        return render(request, "petitions/confirm_held.html", {"petition": petition})
    if signature.status != Signature.Status.PENDING or not petition.is_open:
        return render(request, "petitions/link_invalid.html", {"petition": petition}, status=400)
    # A POST is a submission even when every box is unticked, which sends no field at all.
    form = ConfirmForm(request.POST if request.method == "POST" else None, signature=signature)
    if request.method == "POST" and form.is_valid():
        # Past the confirmation limits the confirmation is kept for organizers, not lost.
        held = abuse.confirmation_hold_reason(request, petition)
        if held and services.hold_confirmation(signature, form.recipient_ids(), held):
            return render(request, "petitions/confirm_held.html", {"petition": petition})
        if not services.confirm_signature(signature, form.recipient_ids()):
            # A second click, or another attempt of this address confirmed first.
            return render(request, "petitions/already_confirmed.html", {"petition": petition})
        return redirect("petitions:thanks", token=services.status_token(signature))
    context = {
        "petition": petition,
        "signature": signature,
        "form": form,
        "letters": services.letters_to_confirm(signature),
    }
    return render(request, "petitions/confirm.html", context, status=400 if form.errors else 200)


def _letters_in_order(signature):
    """SIGNATURE's letters, their recipients in the order every page names them: senators first."""
    return signature.letters.select_related("recipient").order_by(
        "-recipient__kind", "recipient__state", "recipient__senate_class"
    )


def _expired_link(request, token):
    """The page of a genuine signer's link past its age, offering new links by e-mail; None for any other link."""
    petition = services.petition_of_expired_signer_link(token)
    if petition is None:
        return None
    context = {"petition": petition, "form": ResendForm(), "link_days": settings.SIGNER_LINK_MAX_AGE_DAYS}
    return render(request, "petitions/link_expired.html", context, status=410)


def thanks(request, token):
    signature = services.signature_from_status(token)
    if signature is None:
        expired = _expired_link(request, token)
        if expired is None:
            raise Http404
        return expired
    if signature.status != Signature.Status.CONFIRMED:
        raise Http404
    context = {
        "petition": signature.petition,
        "signature": signature,
        "letters": _letters_in_order(signature),
        "share_url": settings.SITE_URL + signature.petition.get_absolute_url(),
    }
    return render(request, "petitions/thanks.html", context)


def status(request, token):
    signature = services.signature_from_status(token)
    if signature is None:
        expired = _expired_link(request, token)
        if expired is None:
            raise Http404
        return expired
    letters = _letters_in_order(signature)
    return render(request, "petitions/status.html", {"signature": signature, "letters": letters})


@require_http_methods(["GET", "POST"])
def withdraw(request, token):
    signature = services.signature_from_withdraw(token)
    if signature is None:
        expired = _expired_link(request, token)
        return expired or render(request, "petitions/link_invalid.html", status=400)
    if request.method == "POST":
        services.withdraw(signature)
        return render(request, "petitions/withdrawn.html")
    if signature.status == Signature.Status.WITHDRAWN:
        return render(request, "petitions/withdrawn.html")
    return render(request, "petitions/withdraw.html", {"signature": signature})


@sensitive_post_parameters("email")
@require_http_methods(["GET", "POST"])
def new_links(request, slug):
    """Ask for new status and withdraw links by e-mail, as an expired link's page offers."""
    petition = get_object_or_404(Petition.objects.published(), slug=slug)
    form = ResendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        # Past the limits nothing is sent, and the answer is the same: it reveals nothing either way.
        if abuse.resend_allowed(request, petition, services.normalize_email(email)):
            services.send_new_links(petition, email)
        messages.success(request, _("If that address has signed this petition, we have sent it new links."))
        return redirect("petitions:new-links", slug=slug)
    return render(request, "petitions/link_expired.html", {"petition": petition, "form": form, "asked": True})


def delivered(request, slug):
    """Letters delivered per recipient, as counts only: no signer is ever named."""
    petition = get_object_or_404(Petition.objects.published(), slug=slug)
    rows = (
        Recipient.objects.filter(letters__signature__petition=petition)
        .annotate(delivered=Count("letters", filter=Q(letters__status=Letter.Status.DELIVERED)))
        .filter(delivered__gt=0)
        .order_by("kind", "state", "name")
    )
    return render(request, "petitions/delivered.html", {"petition": petition, "rows": rows})


def privacy(request):
    context = {
        "unconfirmed_days": settings.UNCONFIRMED_RETENTION_DAYS,
        "closed_days": settings.CLOSED_PETITION_RETENTION_DAYS,
        "ip_days": settings.IP_HASH_RETENTION_DAYS,
    }
    return render(request, "petitions/privacy.html", context)


# The count is public and the same for everyone, so browsers and proxies may keep it for a few
# seconds and serve a stale copy while they fetch a new one: a crowd refreshing costs one request.
_count_cache = cache_control(
    public=True, max_age=settings.COUNT_CACHE_SECONDS, stale_while_revalidate=6 * settings.COUNT_CACHE_SECONDS
)


@require_GET
@cache_page(settings.COUNT_CACHE_SECONDS)
@_count_cache
def count_json(request, slug):
    """A petition's confirmed count and goal, for partner sites and the counter widget."""
    petition = get_object_or_404(Petition.objects.published(), slug=slug)
    data = {"petition": petition.slug, "confirmed": petition.confirmed_count(), "goal": petition.goal}
    data.update(open=petition.is_open, url=settings.SITE_URL + petition.get_absolute_url())
    return JsonResponse(data)


# Partner sites show this page in an iframe, so it alone is exempt from X-Frame-Options: DENY and
# from the content security policy's frame-ancestors 'none' (see CONTENT_SECURITY_POLICY in
# settings). Both decorators sit outside cache_page so that a cached copy keeps the exceptions.
@csp_replace({"frame-ancestors": ["*"]})
@xframe_options_exempt
@require_GET
@cache_page(settings.COUNT_CACHE_SECONDS)
@_count_cache
def widget(request, slug):
    """A small counter with a link to sign, for partner sites to embed."""
    petition = get_object_or_404(Petition.objects.published(), slug=slug)
    return render(request, "petitions/widget.html", {"petition": petition})


def robots_txt(request):
    return render(request, "robots.txt", {"site_url": settings.SITE_URL}, content_type="text/plain")
