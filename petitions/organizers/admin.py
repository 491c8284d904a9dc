"""The organizers' admin: petitions in two languages side by side, signatures, recipients, letters."""

import csv
import io
import zipfile
from datetime import timedelta
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Count, Q, Value
from django.db.models.functions import StrIndex, Substr, TruncHour
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ..delivery import channel_class, printing
from ..delivery.printing import BATCH_PREFIX, waiting_for_print
from ..models import (
    BlockedEmailDomain,
    BlockedNetwork,
    Letter,
    Petition,
    Recipient,
    Signature,
    SignatureExport,
    Update,
    UpdateDelivery,
)
from ..outreach import updates
from ..signing.services import release_quarantined, reroute_letters
from . import admin_views, exports
from .admin_clusters import SignatureClustersMixin
from .admin_powers import LetterDeliveryMixin, RecipientDeliveryMixin, SignatureMaskingMixin, manages_delivery
from .readiness import unreachable_recipients


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "slug", "status", "goal", "live_page", "dashboard_link"]
    list_filter = ["status"]
    search_fields = ["slug", "title_en", "title_be"]
    prepopulated_fields = {"slug": ["title_en"]}
    readonly_fields = ["live_page", "summary"]
    fieldsets = [
        (None, {"fields": [("slug", "live_page"), "status", "goal", ("allow_senators", "allow_president")]}),
        (
            _("Text, Belarusian and English side by side"),
            {
                "fields": [
                    ("title_be", "title_en"),
                    ("introduction_be", "introduction_en"),
                    ("letter_be", "letter_en"),
                ],
                "classes": ["side-by-side"],
            },
        ),
        (_("Letter"), {"fields": ["subject"]}),
        (_("On the public page"), {"fields": ["show_map", "show_responsiveness"]}),
        (_("Summary"), {"fields": ["summary"]}),
    ]

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(lambda request, **kwargs: function(self, request, **kwargs))

        urls = [
            path("dashboard/", view(admin_views.dashboard_view), name="petitions_petition_dashboard_all"),
            path("dashboard/counts.csv", view(admin_views.counts_csv_view), name="petitions_petition_counts_all"),
            path("<int:petition_id>/dashboard/", view(admin_views.dashboard_view), name="petitions_petition_dashboard"),
            path("<int:petition_id>/counts.csv", view(admin_views.counts_csv_view), name="petitions_petition_counts"),
            path(
                "<int:petition_id>/signers/<int:recipient_id>.pdf",
                view(admin_views.recipient_pdf_view),
                name="petitions_petition_recipient_pdf",
            ),
        ]
        return urls + super().get_urls()

    @admin.display(description=_("dashboard"))
    def dashboard_link(self, petition):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:petitions_petition_dashboard", args=[petition.pk]), _("dashboard")
        )

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description=_("live page"))
    def live_page(self, petition):
        if not petition.pk or petition.status == Petition.Status.DRAFT:
            return "—"
        return format_html('<a href="{}">{}</a>', petition.get_absolute_url(), _("open"))

    @admin.display(description=_("signatures and letters"))
    def summary(self, petition):
        if not petition.pk:
            return "—"
        signatures = petition.signatures.aggregate(
            confirmed=Count("pk", filter=Q(status=Signature.Status.CONFIRMED)),
            pending=Count("pk", filter=Q(status=Signature.Status.PENDING)),
        )
        letters = (
            Letter.objects.filter(signature__petition=petition).values("status").annotate(n=Count("pk")).order_by()
        )
        by_status = ", ".join(f"{Letter.Status(row['status']).label}: {row['n']}" for row in letters) or "—"
        # Each part is safe HTML; format_html joins them without escaping (a plain `+` with an
        # empty str would turn the whole into text to be escaped).
        return format_html(
            "{}: {} · {}: {}<br>{}: {}{}{}",
            _("Confirmed"),
            signatures["confirmed"],
            _("Waiting for e-mail confirmation"),
            signatures["pending"],
            _("Letters"),
            by_status,
            self._letters_by_recipient(petition),
            self._unreachable(petition),
        )

    def _unreachable(self, petition):
        """The recipients this petition's signers may choose whom no letter can reach yet, and why."""
        unreachable = unreachable_recipients(petition)
        if not unreachable:
            return ""
        url = reverse("admin:petitions_recipient_changelist")
        return format_html(
            "<p class='errornote unreachable-recipients'>{} <a href='{}'>{}</a></p>"
            "<ul class='unreachable-recipients'>{}</ul>",
            ngettext(
                "%(count)d recipient signers may choose cannot be reached yet.",
                "%(count)d recipients signers may choose cannot be reached yet.",
                len(unreachable),
            )
            % {"count": len(unreachable)},
            url,
            _("Set their channels"),
            format_html_join("", "<li>{}: {}</li>", ((recipient, problem) for recipient, problem in unreachable)),
        )

    def _letters_by_recipient(self, petition):
        """A table of letters per recipient and status, each count a link to those letters."""
        rows = (
            Letter.objects.filter(signature__petition=petition)
            .values("recipient", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        counts = {}
        for row in rows:
            counts.setdefault(row["recipient"], {})[row["status"]] = row["n"]
        if not counts:
            return ""
        url = reverse("admin:petitions_letter_changelist")
        query = "?signature__petition__id__exact={}&recipient__id__exact={}&status__exact={}"
        lines = [
            format_html(
                "<tr><th scope='row'>{}</th>{}</tr>",
                recipient,
                format_html_join(
                    "",
                    "<td><a href='{}'>{}</a></td>",
                    (
                        (url + query.format(petition.pk, recipient.pk, status), counts[recipient.pk].get(status, 0))
                        for status in Letter.Status.values
                    ),
                ),
            )
            for recipient in Recipient.objects.filter(pk__in=counts)
        ]
        return format_html(
            "<table><thead><tr><th scope='col'>{}</th>{}</tr></thead><tbody>{}</tbody></table>",
            _("Recipient"),
            format_html_join("", "<th scope='col'>{}</th>", ((label,) for label in Letter.Status.labels)),
            format_html_join("", "{}", ((line,) for line in lines)),
        )


class RecipientForm(forms.ModelForm):
    class Meta:
        model = Recipient
        fields = [
            "kind", "name", "last_name", "office", "bioguide_id", "state", "senate_class", "state_rank", "party",
            "office_address", "phone", "website", "contact_form", "channel", "channel_settings", "is_active",
        ]  # fmt: skip
        field_classes = dict.fromkeys(["website", "contact_form"], partial(forms.URLField, assume_scheme="https"))

    def clean(self):
        data = super().clean()
        channel = channel_class(data.get("channel"))
        if data.get("channel_settings") is not None and not isinstance(data["channel_settings"], dict):
            raise forms.ValidationError(
                {"channel_settings": _('Write the settings as a JSON object, for example {"address": "…"}.')}
            )
        if channel is not None:
            # The channel checks the recipient as it would be saved: its kind, state, address.
            fields = ("kind", "name", "state", "senate_class", "office", "office_address")
            recipient = Recipient(**{name: data.get(name) or "" for name in fields if name != "senate_class"})
            recipient.senate_class = data.get("senate_class")
            errors = channel.settings_errors(data.get("channel_settings") or {}, recipient)
            if errors:
                raise forms.ValidationError(
                    {"channel_settings": [f"{key}: {message}" for key, message in errors.items()]}
                )
        return data


class EmailChannelForm(forms.Form):
    address = forms.EmailField(
        label=_("Intake e-mail address"),
        help_text=_("Every selected recipient's letters go to this address."),
    )

    def channel_settings(self):
        return {"address": self.cleaned_data["address"]}


class HTTPChannelForm(forms.Form):
    url = forms.URLField(
        label=_("Address letters are POSTed to"), assume_scheme="https", help_text=_("Starting with https://.")
    )
    format = forms.ChoiceField(label=_("Format"), choices=[("json", "JSON"), ("form", _("HTML form fields"))])
    token = forms.CharField(
        label=_("Token name"),
        required=False,
        help_text=_("The name of a token in the server's DELIVERY_HTTP_TOKENS; empty for none."),
    )

    def channel_settings(self):
        data = {"url": self.cleaned_data["url"], "format": self.cleaned_data["format"]}
        if self.cleaned_data["token"]:
            data["token"] = self.cleaned_data["token"]
        return data


@admin.register(Recipient)
class RecipientAdmin(RecipientDeliveryMixin, admin.ModelAdmin):
    form = RecipientForm
    list_display = ["name", "kind", "state", "senate_class", "channel", "is_active"]
    list_filter = ["kind", "is_active", "channel", "state"]
    search_fields = ["name", "bioguide_id", "state"]
    actions = ["deliver_through_cwc", "deliver_by_email", "deliver_by_http", "deliver_by_print"]

    def has_manage_delivery_permission(self, request):
        return manages_delivery(request)

    @admin.action(description=_("Deliver to the selected recipients through CWC"), permissions=["manage_delivery"])
    def deliver_through_cwc(self, request, queryset):
        self._set_channel(request, queryset, Recipient.Channel.CWC)

    @admin.action(
        description=_("Deliver to the selected recipients by e-mail to an address…"), permissions=["manage_delivery"]
    )
    def deliver_by_email(self, request, queryset):
        return self._set_channel_asking(request, queryset, Recipient.Channel.EMAIL, EmailChannelForm)

    @admin.action(
        description=_("Deliver to the selected recipients by HTTP POST to an address…"),
        permissions=["manage_delivery"],
    )
    def deliver_by_http(self, request, queryset):
        return self._set_channel_asking(request, queryset, Recipient.Channel.HTTP, HTTPChannelForm)

    @admin.action(
        description=_("Deliver to the selected recipients on paper (print and post)"), permissions=["manage_delivery"]
    )
    def deliver_by_print(self, request, queryset):
        self._set_channel(request, queryset, Recipient.Channel.PRINT)

    def _set_channel_asking(self, request, queryset, channel, form_class):
        """Ask for the channel's settings on a page of its own, then set them on every selected recipient."""
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                self._set_channel(request, queryset, channel, form.channel_settings())
                return None
        else:
            form = form_class()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Deliver through: %(channel)s") % {"channel": Recipient.Channel(channel).label},
            "opts": self.model._meta,
            "form": form,
            "recipients": queryset.order_by("kind", "state", "senate_class"),
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/petitions/recipient/set_channel.html", context)

    def _set_channel(self, request, queryset, channel, channel_settings=None):
        """Give every selected recipient CHANNEL (and CHANNEL_SETTINGS when given) that it can deliver to.

        A recipient the channel cannot reach (CWC for the President, print without an office
        address) keeps what it had, and the message says why. Each change is in the admin's history.
        """
        channel_class_ = channel_class(channel)
        changed, refused, before = [], [], {}
        with transaction.atomic():
            for recipient in queryset.select_for_update().order_by("pk"):
                before[recipient.pk] = recipient.channel
                new_settings = recipient.channel_settings if channel_settings is None else channel_settings
                errors = channel_class_.settings_errors(new_settings or {}, recipient)
                if errors:
                    refused.append((recipient, " ".join(str(message) for message in errors.values())))
                    continue
                recipient.channel, recipient.channel_settings = channel, new_settings
                recipient.save(update_fields=["channel", "channel_settings", "updated_at"])
                changed.append(recipient)
        with translation.override(None):  # The history stores field names untranslated, as Django does.
            fields = [str(Recipient._meta.get_field(name).verbose_name) for name in ("channel", "channel_settings")]
        for recipient in changed:
            self.log_change(request, recipient, [{"changed": {"fields": fields}}])
            self.record_channel_change(request, recipient, before[recipient.pk])
        label = Recipient.Channel(channel).label
        self.message_user(
            request,
            ngettext(
                "%(count)d recipient now receives letters through: %(channel)s.",
                "%(count)d recipients now receive letters through: %(channel)s.",
                len(changed),
            )
            % {"count": len(changed), "channel": label},
        )
        if refused:
            recipient, problem = refused[0]
            self.message_user(
                request,
                ngettext(
                    "%(count)d recipient keeps its channel. %(recipient)s: %(problem)s",
                    "%(count)d recipients keep their channel. For example %(recipient)s: %(problem)s",
                    len(refused),
                )
                % {"count": len(refused), "recipient": recipient, "problem": problem},
                messages.WARNING,
            )


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        # Only the states some signer lives in, not all 57 codes.
        present = set(Signature.objects.order_by().values_list("state", flat=True).distinct())
        # Named in the admin's language, as the list's column names them.
        states = [(code, name) for code, name in Signature._meta.get_field("state").choices if code in present]
        return states + ([("abroad", _("Abroad"))] if "" in present else [])

    def queryset(self, request, queryset):
        if self.value() == "abroad":
            return queryset.filter(state="")
        if self.value():
            return queryset.filter(state=self.value())
        return queryset


class QuarantineReasonFilter(admin.SimpleListFilter):
    """The reasons signatures were quarantined for, as recorded; a field without choices listed none."""

    title = _("why quarantined")
    parameter_name = "quarantine_reason"

    def lookups(self, request, model_admin):
        reasons = (
            Signature.objects.exclude(quarantine_reason="")
            .order_by("quarantine_reason")
            .values_list("quarantine_reason", flat=True)
            .distinct()
        )
        return [(reason, reason) for reason in reasons[:50]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(quarantine_reason=self.value())
        return queryset


# Signers type names and addresses, and a cell that starts like a formula is run by the spreadsheet
# that opens the export (CSV injection): a leading apostrophe keeps it text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, for streaming CSV rows."""

    def write(self, value):
        return value


EXPORT_FIELDS = [
    "id", "petition__slug", "status", "title", "first_name", "last_name", "email", "address", "city",
    "state", "zip_code", "country", "phone", "language", "created_at", "confirmed_at",
]  # fmt: skip


@admin.register(Signature)
class SignatureAdmin(SignatureMaskingMixin, SignatureClustersMixin, admin.ModelAdmin):
    # What an organizer looks for first, in a list that fits 1280 px beside the filters: who, where,
    # what state the signature is in and why, and when; the petition's title shortened.
    list_display = ["signer", "state", "status", "quarantine_reason", "language", "created_at", "petition_short"]
    list_display_links = ["signer"]
    list_filter = [
        "petition",
        StateFilter,
        "status",
        QuarantineReasonFilter,
        "language",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["first_name", "last_name", "email", "zip_code"]
    list_select_related = ["petition"]
    show_full_result_count = False
    date_hierarchy = "created_at"
    readonly_fields = [
        "letter_hash", "ip_hash", "ip_prefix_hash", "quarantine_reason", "created_at", "confirmation_sent_at",
        "confirmed_at", "withdrawn_at",
    ]  # fmt: skip
    filter_horizontal = ["recipients"]
    change_list_template = "admin/petitions/signature/change_list.html"
    actions = ["release_quarantined", "delete_quarantined"]

    def has_add_permission(self, request):
        # Signatures come from signers through the confirmation e-mail, never from the admin.
        return False

    @admin.display(description=_("signer"), ordering="last_name")
    def signer(self, signature):
        name = ", ".join(part for part in (signature.last_name, signature.first_name) if part)
        # An erased signature has no name left: its number and status identify it.
        return name or str(signature)

    @admin.display(description=_("petition"), ordering="petition")
    def petition_short(self, signature):
        title = signature.petition.title  # in the admin's language
        return format_html('<span title="{}">{}</span>', title, Truncator(title).chars(32))

    def get_urls(self):
        urls = [
            path("export/", self.admin_site.admin_view(self.export_csv), name="petitions_signature_export"),
            path("activity/", self.admin_site.admin_view(self.activity_view), name="petitions_signature_activity"),
            *self.cluster_urls(),
        ]
        return urls + super().get_urls()

    @admin.action(
        description=_("Release the selected quarantined signatures and send their confirmations"),
        permissions=["change"],
    )
    def release_quarantined(self, request, queryset):
        self._report_release(request, *release_quarantined(queryset))

    def _report_release(self, request, sent, confirmed):
        self.message_user(
            request,
            ngettext(
                "%(count)d signature released; its confirmation is on its way.",
                "%(count)d signatures released; their confirmations are on their way.",
                sent,
            )
            % {"count": sent},
        )
        if confirmed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d held confirmation released and counted; its letters are queued.",
                    "%(count)d held confirmations released and counted; their letters are queued.",
                    confirmed,
                )
                % {"count": confirmed},
            )

    @admin.action(description=_("Delete the selected quarantined signatures"), permissions=["delete"])
    def delete_quarantined(self, request, queryset):
        deleted = queryset.filter(status=Signature.Status.QUARANTINED).delete()[1].get("petitions.Signature", 0)
        self.message_user(
            request,
            ngettext("%(count)d quarantined signature deleted.", "%(count)d quarantined signatures deleted.", deleted)
            % {"count": deleted},
        )

    def activity_view(self, request):
        """Signatures per hour by IP network and by e-mail domain, so organizers see a flood as it starts."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            hours = min(max(int(request.GET.get("hours", 24)), 1), 24 * 14)
        except ValueError:
            hours = 24
        recent = Signature.objects.filter(created_at__gte=timezone.now() - timedelta(hours=hours))
        counts = {
            "signatures": Count("pk"),
            "quarantined": Count("pk", filter=Q(status=Signature.Status.QUARANTINED)),
        }
        by_network = (
            recent.exclude(ip_prefix_hash="")
            .annotate(hour=TruncHour("created_at"))
            .values("hour", "ip_prefix_hash")
            .annotate(**counts)
            .order_by("-signatures", "-hour")[:50]
        )
        by_domain = (
            recent.exclude(email_normalized="")
            .annotate(
                hour=TruncHour("created_at"),
                domain=Substr("email_normalized", StrIndex("email_normalized", Value("@")) + 1),
            )
            .values("hour", "domain")
            .annotate(**counts)
            .order_by("-signatures", "-hour")[:50]
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Unusual activity"),
            "hours": hours,
            "by_network": by_network,
            "by_domain": by_domain,
            "changelist_url": reverse("admin:petitions_signature_changelist"),
        }
        return TemplateResponse(request, "admin/petitions/signature/activity.html", context)

    def export_csv(self, request):
        """Stream the signatures of the current filter as CSV, a row at a time, however many there are.

        Only data stewards hold the permission, and every export is recorded: who, when, which filter.
        """
        if not request.user.has_perm("petitions.export_signature"):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("pk").values_list(*EXPORT_FIELDS)
        record = exports.record(request.user, SignatureExport.Kind.CSV, filters=exports.filter_record(request.GET))
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(EXPORT_FIELDS)
            count = 0
            for row in queryset.iterator(chunk_size=2000):
                count += 1
                yield writer.writerow([_spreadsheet_safe(value) for value in row])
            SignatureExport.objects.filter(pk=record.pk).update(rows=count)

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="signatures-{stamp}.csv"'
        return response

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if request.user.has_perm("petitions.export_signature"):
            query = request.GET.urlencode()
            extra_context["export_url"] = reverse("admin:petitions_signature_export") + (f"?{query}" if query else "")
        return super().changelist_view(request, extra_context)


@admin.register(BlockedEmailDomain)
class BlockedEmailDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "note", "created_at"]
    search_fields = ["domain", "note"]


@admin.register(BlockedNetwork)
class BlockedNetworkAdmin(admin.ModelAdmin):
    list_display = ["network", "note", "created_at"]
    search_fields = ["network", "note"]


@admin.register(SignatureExport)
class SignatureExportAdmin(admin.ModelAdmin):
    """The record of exports, read-only: nobody may change or erase who took personal data out."""

    list_display = ["created_at", "username", "kind", "what", "filters", "rows"]
    list_filter = ["kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["username"]
    readonly_fields = ["user", "username", "created_at", "kind", "what", "filters", "rows"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PrintBatchFilter(admin.SimpleListFilter):
    """Letters of one downloaded print batch not yet marked delivered, to select and mark them."""

    title = _("print batch")
    parameter_name = "print_batch"

    def lookups(self, request, model_admin):
        batches = (
            waiting_for_print(Letter.objects.filter(response__startswith=BATCH_PREFIX))
            .values_list("response", flat=True)
            .distinct()
            .order_by("-response")
        )
        return [(batch, batch.removeprefix(BATCH_PREFIX)) for batch in batches[:50]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(response=self.value())
        return queryset


def _reroute_description(channel):
    return lazy(lambda: gettext("Send the selected letters through: %(channel)s") % {"channel": channel.label}, str)()


def _reroute_action(channel):
    # Lazy: the description is read when the list is shown, in that request's language, not at import.
    @admin.action(description=_reroute_description(channel), permissions=["change"])
    def reroute(model_admin, request, queryset):
        model_admin.reroute(request, queryset, channel.value)

    reroute.__name__ = f"reroute_to_{channel.value}"
    return reroute


@admin.register(Letter)
class LetterAdmin(LetterDeliveryMixin, admin.ModelAdmin):
    list_display = [
        "recipient", "status", "channel", "created_at", "short_error", "attempts", "delivered_at",
    ]  # fmt: skip
    list_filter = [
        "status",
        "channel",
        ("recipient", admin.RelatedOnlyFieldListFilter),
        "signature__petition",
        ("created_at", admin.DateFieldListFilter),
        PrintBatchFilter,
    ]
    list_select_related = ["recipient"]
    search_fields = ["delivery_id"]
    show_full_result_count = False
    # Letters change state only through the actions, which keep deliveries to at most once.
    readonly_fields = [
        "signature", "recipient", "delivery_id", "status", "channel", "body", "attempts", "next_attempt_at",
        "lease_until", "last_error", "response", "created_at", "delivered_at",
    ]  # fmt: skip
    actions = [
        "retry_letters",
        *[_reroute_action(channel) for channel in Recipient.Channel if channel.value],
        "download_print_batch",
        "mark_printed_delivered",
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("last error"))
    def short_error(self, letter):
        return letter.last_error[:80] + ("…" if len(letter.last_error) > 80 else "")

    def reroute(self, request, queryset, channel=None):
        moved, refused = reroute_letters(queryset, channel)
        self.record_reroute(request, queryset, channel, moved)
        self.message_user(
            request,
            ngettext("%(count)d letter queued for delivery.", "%(count)d letters queued for delivery.", moved)
            % {"count": moved},
        )
        if refused:
            letter, problem = refused[0]
            self.message_user(
                request,
                ngettext(
                    "%(count)d letter stays as it was. %(recipient)s: %(problem)s",
                    "%(count)d letters stay as they were. For example %(recipient)s: %(problem)s",
                    len(refused),
                )
                % {"count": len(refused), "recipient": letter.recipient, "problem": problem},
                messages.WARNING,
            )

    @admin.action(description=_("Retry the selected letters through their recipient's channel"), permissions=["change"])
    def retry_letters(self, request, queryset):
        self.reroute(request, queryset)

    @admin.action(
        description=_("Download a print batch of the selected letters (a PDF per recipient)"), permissions=["change"]
    )
    def download_print_batch(self, request, queryset):
        batches = printing.start_batches(queryset)
        if not batches:
            self.message_user(request, _("None of the selected letters is waiting to be printed."), messages.WARNING)
            return None
        files = [
            (f"letters-{batch_id}.pdf", printing.batch_pdf(recipient, letters, batch_id))
            for recipient, batch_id, letters in batches
        ]
        self.record_print_batch(request, batches)
        if len(files) == 1:
            name, content = files[0]
            response = HttpResponse(content, content_type="application/pdf")
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name, content in files:
                    archive.writestr(name, content)
            name = f"letters-{timezone.now():%Y%m%d-%H%M%S}.zip"
            response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.action(description=_("Mark the selected printed letters delivered"), permissions=["change"])
    def mark_printed_delivered(self, request, queryset):
        count = printing.mark_printed(queryset, request.user.get_username())
        self.message_user(
            request,
            ngettext("%(count)d printed letter marked delivered.", "%(count)d printed letters marked delivered.", count)
            % {"count": count},
        )
        if count < queryset.count():
            self.message_user(
                request,
                _("Letters not in a downloaded print batch were left as they were."),
                messages.WARNING,
            )


@admin.register(Update)
class UpdateAdmin(admin.ModelAdmin):
    """Organizers write an update in both languages, preview it, test it on themselves, then send it."""

    list_display = ["__str__", "petition", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "petition"]
    list_select_related = ["petition", "created_by"]
    change_form_template = "admin/petitions/update/change_form.html"
    fieldsets = [
        (None, {"fields": ["petition"]}),
        (
            _("Belarusian and English side by side"),
            {"fields": [("subject_be", "subject_en"), ("body_be", "body_en")], "classes": ["side-by-side"]},
        ),
        (_("Sending"), {"fields": ["status", "created_by", "started_at", "finished_at", "progress"]}),
    ]
    readonly_fields = ["status", "created_by", "started_at", "finished_at", "progress"]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_readonly_fields(self, request, obj=None):
        if obj and obj.status != Update.Status.DRAFT:
            return ["petition", "subject_be", "subject_en", "body_be", "body_en", *self.readonly_fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.status == Update.Status.DRAFT)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("progress"))
    def progress(self, update):
        if not update.pk or update.status == Update.Status.DRAFT:
            return "—"
        counts = updates.progress(update)
        labels = dict(UpdateDelivery.Status.choices)
        return ", ".join(f"{labels[key]}: {n}" for key, n in sorted(counts.items())) or _("Preparing the list")

    def get_urls(self):
        urls = [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="petitions_update_preview"),
            path("<int:pk>/send-test/", self.admin_site.admin_view(self.send_test_view), name="petitions_update_test"),
            path("<int:pk>/send/", self.admin_site.admin_view(self.send_view), name="petitions_update_send"),
        ]
        return urls + super().get_urls()

    def _update(self, request, pk, change=False):
        update = get_object_or_404(Update.objects.select_related("petition"), pk=pk)
        allowed = self.has_change_permission(request, update) if change else self.has_view_permission(request, update)
        if not allowed:
            raise PermissionDenied
        return update

    def preview_view(self, request, pk):
        update = self._update(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview: %(subject)s") % {"subject": update},
            "opts": self.model._meta,
            "original": update,
            "previews": updates.preview(update),
            "audience": updates.audience(update.petition).count(),
        }
        return TemplateResponse(request, "admin/petitions/update/preview.html", context)

    @method_decorator(require_POST)
    def send_test_view(self, request, pk):
        update = self._update(request, pk)
        if not request.user.email:
            self.message_user(request, _("Your account has no e-mail address to send the test to."), messages.ERROR)
        else:
            name = request.user.first_name or request.user.get_username()
            updates.send_test_later(update, request.user.email, name)
            self.message_user(
                request, _("A test in each language is on its way to %(email)s.") % {"email": request.user.email}
            )
        return redirect("admin:petitions_update_change", update.pk)

    def send_view(self, request, pk):
        update = self._update(request, pk, change=True)
        if request.method == "POST":
            if updates.start_sending(update):
                self.message_user(request, _("Sending has started. Progress shows on this page."))
            else:
                self.message_user(request, _("This update was already sent or is being sent."), messages.WARNING)
            return redirect("admin:petitions_update_change", update.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send “%(subject)s”?") % {"subject": update},
            "opts": self.model._meta,
            "original": update,
            "audience": updates.audience(update.petition).count(),
        }
        return TemplateResponse(request, "admin/petitions/update/send.html", context)


# Imported here, beside its only use, so that this registration stays a small addition at the end.
from ..models import Organization  # noqa: E402


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Who runs the campaign: one short description per language and a contact address."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name_en", "name_be", "email", "updated_at")
    fieldsets = (
        (_("Belarusian"), {"fields": ("name_be", "about_be")}),
        (_("English"), {"fields": ("name_en", "about_en")}),
        (_("Contact"), {"fields": ("email", "website")}),
    )

    def has_add_permission(self, request):
        # The pages show one organization: the first. A second row would never be seen.
        return super().has_add_permission(request) and not Organization.objects.exists()
