"""Quarantined signatures grouped by network, for organizers to release a crowd at once.

A rally on one venue's Wi-Fi, or people behind a mobile carrier's shared address, trip the limits
that stop a flood. Their signatures are kept, quarantined or held, and show here as one cluster
per network: how many, since when, until when. Releasing a cluster sends the quarantined ones their
confirmation and confirms the held ones (services.release_quarantined).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import Petition, Signature
from ..signing.abuse import CROWD_REASONS, HELD_CONFIRMATION_REASONS
from ..signing.services import release_quarantined


def crowd_clusters():
    """Quarantined and held signatures that tripped a limit, per petition and network, the largest first."""
    return (
        Signature.objects.filter(status=Signature.Status.QUARANTINED, quarantine_reason__in=CROWD_REASONS)
        .exclude(ip_prefix_hash="")
        .values("petition", "petition__slug", "ip_prefix_hash")
        .annotate(
            signatures=Count("pk"),
            held=Count("pk", filter=Q(quarantine_reason__in=HELD_CONFIRMATION_REASONS)),
            first=Min("created_at"),
            last=Max("created_at"),
        )
        .order_by("-signatures", "-last")[:100]
    )


class SignatureClustersMixin:
    """The clusters page and its release button, for SignatureAdmin."""

    def cluster_urls(self):
        return [
            path(
                "clusters/",
                self.admin_site.admin_view(self.clusters_view),
                name="petitions_signature_clusters",
            ),
            path(
                "clusters/release/",
                self.admin_site.admin_view(self.release_cluster_view),
                name="petitions_signature_release_cluster",
            ),
        ]

    def clusters_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:petitions_signature_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Quarantined signatures by network"),
            "clusters": crowd_clusters(),
            "can_release": self.has_change_permission(request),
            "changelist_url": changelist,
        }
        return TemplateResponse(request, "admin/petitions/signature/clusters.html", context)

    def release_cluster_view(self, request):
        """Release every quarantined or held signature of one petition from one network (a POST)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        petition = Petition.objects.filter(pk=request.POST.get("petition") or None).first()
        network = request.POST.get("network", "")
        if petition is None or not network:
            messages.error(request, _("That cluster no longer exists."))
            return redirect("admin:petitions_signature_clusters")
        cluster = Signature.objects.filter(
            petition=petition, ip_prefix_hash=network, quarantine_reason__in=CROWD_REASONS
        )
        sent, confirmed = release_quarantined(cluster)
        self.message_user(
            request,
            ngettext(
                "Released %(count)d signature from that network.",
                "Released %(count)d signatures from that network.",
                sent + confirmed,
            )
            % {"count": sent + confirmed}
            + " "
            + _("Confirmation e-mails sent again: %(sent)d; held confirmations counted: %(confirmed)d.")
            % {"sent": sent, "confirmed": confirmed},
        )
        return redirect("admin:petitions_signature_clusters")
