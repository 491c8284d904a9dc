"""The organizers' dashboard and exports, served inside the admin (PetitionAdmin.get_urls)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Letter, Petition, Recipient, SignatureExport
from . import dashboard, exports, readiness


def _check(request):
    if not request.user.has_perm("petitions.view_petition"):
        raise PermissionDenied


def dashboard_view(model_admin, request, petition_id=None):
    """Signatures per day, the map by state, letters by status and channel, and which offices answer."""
    _check(request)
    petition = get_object_or_404(Petition, pk=petition_id) if petition_id else None
    numbers = dashboard.numbers(petition)
    statuses = dict(Letter.Status.choices)
    channels = dict(Recipient.Channel.choices)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Dashboard: %(title)s") % {"title": petition} if petition else _("Dashboard: all petitions"),
        "opts": Petition._meta,
        "petition": petition,
        "petitions": Petition.objects.order_by("-created_at"),
        "numbers": numbers,
        "chart": dashboard.day_chart(numbers["by_day"]),
        "map": dashboard.map_context(numbers["by_state"]),
        "letters_by_status": [(statuses.get(key, key), n) for key, n in numbers["letters_by_status"].items()],
        "letters_by_channel": [(channels.get(key, key), n) for key, n in numbers["letters_by_channel"].items()],
        "letters_total": sum(numbers["letters_by_status"].values()),
        # A PDF of signers is an export of personal data: only data stewards are offered one.
        "recipients_for_export": (
            exports.recipients_with_letters(petition)
            if petition and request.user.has_perm("petitions.export_signature")
            else []
        ),
        "unreachable": readiness.unreachable_recipients(petition),
    }
    return TemplateResponse(request, "admin/petitions/dashboard.html", context)


def counts_csv_view(model_admin, request, petition_id=None):
    _check(request)
    petition = get_object_or_404(Petition, pk=petition_id) if petition_id else None
    name = petition.slug if petition else "all-petitions"
    response = HttpResponse(exports.counts_csv(petition), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="counts-{name}-{timezone.now():%Y%m%d}.csv"'
    return response


def recipient_pdf_view(model_admin, request, petition_id, recipient_id):
    """Signers' names and places for one office, for hand delivery: an export, for data stewards, recorded."""
    if not request.user.has_perm("petitions.export_signature"):
        raise PermissionDenied
    petition = get_object_or_404(Petition, pk=petition_id)
    recipient = get_object_or_404(Recipient, pk=recipient_id)
    people = exports.signers_for(petition, recipient).count()
    exports.record(request.user, SignatureExport.Kind.SIGNERS_PDF, f"{petition.slug}: {recipient}", people)
    response = HttpResponse(exports.recipient_pdf(petition, recipient), content_type="application/pdf")
    filename = f"{petition.slug}-{recipient.bioguide_id or recipient.kind}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
