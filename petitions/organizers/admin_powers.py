"""Separate powers in the admin: who may route letters, who may see and take out personal data.

Organizers run the campaign: they see signers' names, cities, states and statuses, which is enough
to run it, but not their e-mail addresses, phones or streets, and they cannot search by e-mail.
Data stewards (`export_signature`) see and export personal data; a print batch and a PDF of signers
are exports too. Delivery managers (`manage_delivery`) change where letters go: a recipient's channel
and its settings, re-routing and retrying. Each export and each such change is recorded
(exports.record), and data stewards read the record.
"""

from ..models import Letter, Recipient, SignatureExport
from . import exports

STEWARD_PERMISSION = "petitions.export_signature"
DELIVERY_PERMISSION = "petitions.manage_delivery"

# What only data stewards see of a signature, and of a letter, whose text and answers quote them.
SIGNATURE_PERSONAL_FIELDS = ("email", "email_normalized", "phone", "address")
LETTER_PERSONAL_FIELDS = ("body", "response", "last_error")
# The admin actions that send letters somewhere: those named reroute_to_<channel> too.
DELIVERY_ACTIONS = ("retry_letters",)
EXPORT_ACTIONS = ("download_print_batch",)


def is_steward(request):
    return request.user.has_perm(STEWARD_PERMISSION)


def manages_delivery(request):
    return request.user.has_perm(DELIVERY_PERMISSION)


class SignatureMaskingMixin:
    """SignatureAdmin without e-mail, phone and street, and without e-mail search, for non-stewards."""

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if is_steward(request):
            return fields
        return [field for field in fields if field.lstrip("^=@").split("__")[0] not in SIGNATURE_PERSONAL_FIELDS]

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if is_steward(request):
            return columns
        return [column for column in columns if column not in SIGNATURE_PERSONAL_FIELDS]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not is_steward(request):
            exclude += [field for field in SIGNATURE_PERSONAL_FIELDS if field not in exclude]
        return exclude


class RecipientDeliveryMixin:
    """RecipientAdmin: only delivery managers change the channel or its settings, and each change is recorded."""

    delivery_fields = ("channel", "channel_settings")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not manages_delivery(request):
            fields += [field for field in self.delivery_fields if field not in fields]
        return fields

    def save_model(self, request, obj, form, change):
        changed = [field for field in self.delivery_fields if field in form.changed_data]
        before = Recipient.objects.filter(pk=obj.pk).values_list("channel", flat=True).first() if change else ""
        super().save_model(request, obj, form, change)
        if changed:
            self.record_channel_change(request, obj, before, settings_changed="channel_settings" in changed)

    def record_channel_change(self, request, recipient, before, settings_changed=True):
        """Record that RECIPIENT's letters now go another way, and how many people's letters wait for it."""
        what = f"{recipient}: channel {before or '-'} -> {recipient.channel or '-'}"
        if settings_changed:
            what += ", settings changed"
        # The people whose letters now take the new way: those still to be sent.
        waiting = Letter.objects.filter(
            recipient=recipient, status__in=[Letter.Status.QUEUED, Letter.Status.FAILED, Letter.Status.NEEDS_ACTION]
        )
        exports.record(request.user, SignatureExport.Kind.DELIVERY, what, exports.people_in(waiting))


class LetterDeliveryMixin:
    """LetterAdmin: routing actions for delivery managers, print batches for data stewards, text for stewards."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        for name in list(actions):
            routing = name in DELIVERY_ACTIONS or name.startswith("reroute_to_")
            if (routing and not manages_delivery(request)) or (name in EXPORT_ACTIONS and not is_steward(request)):
                del actions[name]
        return actions

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if is_steward(request):
            return fields
        return [field for field in fields if field not in LETTER_PERSONAL_FIELDS]

    def record_reroute(self, request, letters, channel, moved):
        """Record a re-routing or retry that queued MOVED of LETTERS (the selection) again."""
        if not moved:
            return
        label = Recipient.Channel(channel).label if channel else "each recipient's channel"
        what = f"{moved} letter(s) sent again through {label}"
        people = exports.people_in(letters.filter(status=Letter.Status.QUEUED))
        exports.record(request.user, SignatureExport.Kind.DELIVERY, what, people)

    def record_print_batch(self, request, batches):
        """Record a downloaded print batch: its ids and how many signers its letters name."""
        people = len({letter.signature_id for _recipient, _batch, letters in batches for letter in letters})
        what = "print batch " + ", ".join(batch_id for _recipient, batch_id, _letters in batches)
        exports.record(request.user, SignatureExport.Kind.PRINT_BATCH, what, people)
