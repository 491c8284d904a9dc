"""The campaign's records: petitions, the officials who receive letters, signatures and letters."""

import hashlib
import ipaddress
import time
import uuid
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models.sql import InsertQuery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# States and territories as the US Postal Service abbreviates them, with their names in the
# visitor's language. Only the fifty states elect senators; DC and the territories have none.
STATES = [
    ("AL", _("Alabama")), ("AK", _("Alaska")), ("AZ", _("Arizona")), ("AR", _("Arkansas")),
    ("CA", _("California")), ("CO", _("Colorado")), ("CT", _("Connecticut")), ("DE", _("Delaware")),
    ("FL", _("Florida")), ("GA", _("Georgia")), ("HI", _("Hawaii")), ("ID", _("Idaho")), ("IL", _("Illinois")),
    ("IN", _("Indiana")), ("IA", _("Iowa")), ("KS", _("Kansas")), ("KY", _("Kentucky")), ("LA", _("Louisiana")),
    ("ME", _("Maine")), ("MD", _("Maryland")), ("MA", _("Massachusetts")), ("MI", _("Michigan")),
    ("MN", _("Minnesota")), ("MS", _("Mississippi")), ("MO", _("Missouri")), ("MT", _("Montana")),
    ("NE", _("Nebraska")), ("NV", _("Nevada")), ("NH", _("New Hampshire")), ("NJ", _("New Jersey")),
    ("NM", _("New Mexico")), ("NY", _("New York")), ("NC", _("North Carolina")), ("ND", _("North Dakota")),
    ("OH", _("Ohio")), ("OK", _("Oklahoma")), ("OR", _("Oregon")), ("PA", _("Pennsylvania")),
    ("RI", _("Rhode Island")), ("SC", _("South Carolina")), ("SD", _("South Dakota")), ("TN", _("Tennessee")),
    ("TX", _("Texas")), ("UT", _("Utah")), ("VT", _("Vermont")), ("VA", _("Virginia")), ("WA", _("Washington")),
    ("WV", _("West Virginia")), ("WI", _("Wisconsin")), ("WY", _("Wyoming")),
]  # fmt: skip
TERRITORIES = [
    ("DC", _("District of Columbia")), ("PR", _("Puerto Rico")), ("GU", _("Guam")),
    ("VI", _("U.S. Virgin Islands")), ("AS", _("American Samoa")), ("MP", _("Northern Mariana Islands")),
]  # fmt: skip
STATE_CHOICES = STATES + TERRITORIES
STATES_WITH_SENATORS = {code for code, _name in STATES}

# Rows every signature reads and organizers change rarely: the published petitions, the blocked
# e-mail domains and networks, and the officials in office. Read afresh per signature they were five
# of the ten queries its two requests ran, and a fifth of the web process's CPU under a surge.
# Each process keeps what it read for KEPT_SECONDS. A change saved or deleted through
# these models shows at once in the process that made it (the signal handlers in apps.py forget
# everything kept), and within KEPT_SECONDS in every other process: an edit or a block takes a few
# seconds to reach every web worker, and a senator retired by `import_legislators` may still be
# offered for as long, which costs nothing, as letters are only written to officials still active
# when the signer confirms.
KEPT_SECONDS = 10
_kept = {}


def kept(name, read):
    """What READ() returns, read at most once every KEPT_SECONDS in this process.

    Kept because reading afresh on every request cost 120 % more CPU per signing POST (14.9 against
    6.8 ms) and 143 % more per form-token GET (3.3 against 1.4 ms), median of four alternating rounds
    of 300 requests each in one process (bench/plain_cpu.py, 6 December 2026).
    """
    now = time.monotonic()
    hit = _kept.get(name)
    if hit is None or now - hit[0] >= KEPT_SECONDS:
        hit = (now, read())
        _kept[name] = hit
    return hit[1]


def forget_kept(**_signal_kwargs):
    _kept.clear()


# Unicode puts three Belarusian letters after я: і takes the place of и (which Belarusian does not
# use), ё comes right after е, and ў right after у.
_BELARUSIAN_ORDER = str.maketrans({"і": "и", "ё": "е\U0010ffff", "ў": "у\U0010ffff"})


def by_name(choices):
    """(code, name) CHOICES in the alphabetical order of their names in the active language."""
    return sorted(choices, key=lambda choice: str(choice[1]).lower().translate(_BELARUSIAN_ORDER))


def _localized(obj, field):
    """The value of FIELD in the active language, falling back to the other language."""
    lang = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    value = getattr(obj, f"{field}_{lang}", "")
    return value or getattr(obj, f"{field}_en", "") or getattr(obj, f"{field}_be", "")


class PetitionQuerySet(models.QuerySet):
    def published(self):
        return self.exclude(status=Petition.Status.DRAFT)

    def kept_published(self, slug):
        """The published petition at SLUG as this process last read it (see `kept`), or None.

        Every signer fetches a form token and posts the form: two reads of the same row per
        signature. An organizer's edit, or closing the petition, reaches every process within
        KEPT_SECONDS; the cached page itself is shared for longer (views.PAGE_CACHE_SECONDS).
        """
        return kept("published-petitions", lambda: {p.slug: p for p in self.published()}).get(slug)

    def open(self):
        return self.filter(status=Petition.Status.OPEN)


class Petition(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for signatures")
        CLOSED = "closed", _("Closed")

    TRANSLATED_FIELDS = ("title", "introduction", "letter")

    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title_be = models.CharField(_("title (Belarusian)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    introduction_be = models.TextField(_("introduction (Belarusian)"), blank=True)
    introduction_en = models.TextField(_("introduction (English)"), blank=True)
    letter_be = models.TextField(
        _("letter (Belarusian)"),
        blank=True,
        help_text=_("For supporters to read; officials receive the English letter."),
    )
    letter_en = models.TextField(_("letter (English)"), blank=True, help_text=_("The text sent to officials."))
    subject = models.CharField(
        _("letter subject"),
        max_length=200,
        blank=True,
        help_text=_("The subject line officials see; the English title when empty."),
    )
    goal = models.PositiveIntegerField(_("signature goal"), default=1000)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    allow_senators = models.BooleanField(_("signers may write to their senators"), default=True)
    allow_president = models.BooleanField(_("signers may write to the President"), default=True)
    show_map = models.BooleanField(
        _("show the map of signatures by state on the public page"),
        default=False,
        help_text=_("Counts per state only; no signer is named."),
    )
    show_responsiveness = models.BooleanField(
        _("show which offices answer on the public page"),
        default=False,
        help_text=_("Letters delivered and the share of signers who report a reply, per office; counts only."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = PetitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title_en or self.title_be or self.slug

    def save(self, *args, **kwargs):
        if self.status == self.Status.CLOSED and self.closed_at is None:
            self.closed_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("petitions:detail", args=[self.slug])

    def clean(self):
        if self.status != self.Status.DRAFT:
            missing = {
                f"{field}_{lang}": _("A published petition needs this text in both languages.")
                for field in self.TRANSLATED_FIELDS
                for lang in ("be", "en")
                if not getattr(self, f"{field}_{lang}").strip()
            }
            if missing:
                raise ValidationError(missing)
        if not self.allow_senators and not self.allow_president:
            raise ValidationError(_("Signers must be able to write to someone: allow senators, the President or both."))

    @property
    def title(self):
        return _localized(self, "title")

    @property
    def introduction(self):
        return _localized(self, "introduction")

    @property
    def letter(self):
        return _localized(self, "letter")

    @property
    def is_open(self):
        return self.status == self.Status.OPEN

    @property
    def letter_subject(self):
        return self.subject or self.title_en

    def letter_hash(self):
        """A content hash of the English letter a signer agrees to send."""
        return hashlib.sha256(self.letter_en.encode()).hexdigest()

    def _count_key(self):
        return f"petition:{self.pk}:confirmed"

    def confirmed_count(self):
        """How many confirmed signatures, read from the cache.

        A crowd refreshing the page must not run COUNT(*) per request, nor make every signer
        update one hot row: the count is computed at most once every COUNT_CACHE_SECONDS.
        """
        count = cache.get(self._count_key())
        if count is None:
            # A confirmed signature that was later withdrawn stays in the count, anonymously.
            count = self.signatures.filter(
                models.Q(status=Signature.Status.CONFIRMED)
                | models.Q(status=Signature.Status.WITHDRAWN, confirmed_at__isnull=False)
            ).count()
            cache.set(self._count_key(), count, settings.COUNT_CACHE_SECONDS)
        return count

    def forget_count(self):
        cache.delete(self._count_key())

    def progress_percent(self):
        if not self.goal:
            return 100
        return min(100, round(100 * self.confirmed_count() / self.goal))


class RecipientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def senators_for(self, state):
        return self.active().filter(kind=Recipient.Kind.SENATOR, state=state).order_by("senate_class")

    def president(self):
        return self.active().filter(kind=Recipient.Kind.PRESIDENT).first()

    def kept_active(self):
        """Every active recipient, by senate class, as this process last read them (see `kept`)."""
        return kept("active-recipients", lambda: list(self.active().order_by("senate_class", "pk")))


class Recipient(models.Model):
    class Kind(models.TextChoices):
        SENATOR = "senator", _("Senator")
        PRESIDENT = "president", _("President")

    class Channel(models.TextChoices):
        NONE = "", _("None yet (organizers route by hand)")
        CWC = "cwc", _("Communicating with Congress (CWC)")
        EMAIL = "email", _("E-mail")
        HTTP = "http", _("HTTP POST")
        PRINT = "print", _("Print and post")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    name = models.CharField(_("name"), max_length=200)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    office = models.CharField(_("office"), max_length=200, blank=True)
    bioguide_id = models.CharField(_("bioguide id"), max_length=10, unique=True, null=True, blank=True)
    state = models.CharField(_("state"), max_length=2, choices=STATE_CHOICES, blank=True)
    senate_class = models.PositiveSmallIntegerField(_("senate class"), null=True, blank=True)
    state_rank = models.CharField(_("rank"), max_length=10, blank=True)
    party = models.CharField(_("party"), max_length=40, blank=True)
    office_address = models.TextField(_("office address"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    website = models.URLField(_("official website"), blank=True)
    contact_form = models.URLField(_("contact form"), blank=True)
    channel = models.CharField(_("delivery channel"), max_length=10, choices=Channel, blank=True)
    channel_settings = models.JSONField(
        _("channel settings"),
        default=dict,
        blank=True,
        help_text=_("Non-secret settings only, such as an intake e-mail address or a URL."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        # Senators first ("senator" sorts after "president"), then the President: the order in
        # which every page, e-mail and list names a signer's recipients.
        ordering = ["-kind", "state", "senate_class"]
        indexes = [models.Index(fields=["kind", "state", "is_active"])]

    def __str__(self):
        """The recipient with their office, in the active language.

        "Senator Joni Ernst (Iowa)", "President Donald Trump".
        """
        if self.kind == self.Kind.SENATOR:
            return gettext("Senator %(name)s (%(state)s)") % {"name": self.name, "state": self.get_state_display()}
        if "president" in self.name.lower():
            return self.name
        return gettext("President %(name)s") % {"name": self.name}

    @property
    def salutation(self):
        """How a letter to this recipient opens, in English as the letter is."""
        if self.kind == self.Kind.PRESIDENT:
            return "Dear Mr. President,"
        return f"Dear Senator {self.last_name or self.name.split()[-1]},"

    @property
    def cwc_office_code(self):
        """The Senate's office code in CWC: S + state + 0 + class, for example SOH01."""
        return f"S{self.state}0{self.senate_class}"


# insert_with_recipients' statement, by database alias.
_INSERT_WITH_RECIPIENTS_SQL = {}


class SignatureQuerySet(models.QuerySet):
    def insert_with_recipients(self, signature, recipients):
        """Insert the new SIGNATURE and its RECIPIENTS together, all or nothing; IntegrityError if it exists.

        On PostgreSQL it is one statement, which is atomic by itself: the signature's INSERT and the
        recipients' INSERT in a WITH. The ORM's public API takes four round trips to the database
        (BEGIN, two INSERTs, COMMIT): measured in one process in alternating rounds (bench/sign_cpu.py's
        Signer), create() and add() in atomic() cost 32 % more CPU per signing POST (3.90 ms against
        2.96, 2,000 POSTs each way), bulk_create() for both 30 % more (4.27 against 3.29). Inside a
        transaction it runs in a savepoint of its own, so that a duplicate leaves that transaction
        usable, as create() in atomic() would. Other databases take the ORM's way.
        """
        connection = connections[self.db]
        if connection.vendor != "postgresql":
            with transaction.atomic(using=self.db):
                signature.save(force_insert=True, using=self.db)
                signature.recipients.add(*recipients)
            return signature
        meta = self.model._meta
        # The fields Model.save() inserts for a new row: every concrete one but the generated key.
        fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        sql = _INSERT_WITH_RECIPIENTS_SQL.get(connection.alias)
        if sql is None:
            sql = _INSERT_WITH_RECIPIENTS_SQL[connection.alias] = self._insert_with_recipients_sql(connection, fields)
        # What the ORM's insert compiler passes for a plain value: each field's pre_save (created_at
        # is set here), prepared for the database.
        params = [field.get_db_prep_save(field.pre_save(signature, True), connection) for field in fields]
        recipient_ids = [getattr(recipient, "pk", recipient) for recipient in recipients]
        savepoint = transaction.atomic(using=self.db) if connection.in_atomic_block else nullcontext()
        with savepoint, connection.cursor() as cursor:
            cursor.execute(sql, [*params, recipient_ids])
            (signature.pk,) = cursor.fetchone()
        signature._state.adding = False
        signature._state.db = self.db
        return signature

    def _insert_with_recipients_sql(self, connection, fields):
        """The statement insert_with_recipients runs: the same for every signature, so built once per database.

        Built by the ORM's own insert compiler, so it stays what Model.save() would send. Building it
        for every signature cost about 0.2 ms of the web's CPU per signature (4.90 against 4.69 ms, in
        alternating blocks of bench/sign_cpu.py's requests).
        """
        meta = self.model._meta
        query = InsertQuery(self.model)
        query.insert_values(fields, [self.model()])
        [(insert_sql, _params)] = query.get_compiler(connection=connection).as_sql()
        through = meta.get_field("recipients").remote_field.through._meta
        quote = connection.ops.quote_name
        # Only names from the model, quoted, and the compiler's SQL go in; every value is a parameter.
        return (
            f"WITH new AS ({insert_sql} RETURNING {quote(meta.pk.column)}), "  # noqa: S608
            f"chosen AS (INSERT INTO {quote(through.db_table)} "
            f"({quote(through.get_field('signature').column)}, {quote(through.get_field('recipient').column)}) "
            f"SELECT new.{quote(meta.pk.column)}, unnest(%s::bigint[]) FROM new) "
            f"SELECT {quote(meta.pk.column)} FROM new"
        )

    def confirmations_due(self, now=None):
        """Pending signatures whose confirmation e-mail is still to be sent and that no worker holds now.

        A worker holds a signature while its claim (`confirmation_lease_until`) lasts; after a
        failure the same field says when to try again. Links older than CONFIRMATION_MAX_AGE_DAYS
        would arrive expired, so they are not sent.
        """
        now = now or timezone.now()
        return self.filter(
            models.Q(confirmation_lease_until__isnull=True) | models.Q(confirmation_lease_until__lt=now),
            status=Signature.Status.PENDING,
            confirmation_sent_at__isnull=True,
            created_at__gt=now - timedelta(days=settings.CONFIRMATION_MAX_AGE_DAYS),
        )


class Signature(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for e-mail confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        QUARANTINED = "quarantined", _("Quarantined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Title(models.TextChoices):
        MR = "Mr.", _("Mr.")
        MRS = "Mrs.", _("Mrs.")
        MS = "Ms.", _("Ms.")
        MISS = "Miss", _("Miss")
        DR = "Dr.", _("Dr.")

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="signatures")
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.PENDING)
    title = models.CharField(_("title"), max_length=5, choices=Title)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), max_length=254)
    email_normalized = models.CharField(_("normalized e-mail"), max_length=254, db_index=True)
    address = models.CharField(_("street address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state"), max_length=2, choices=STATE_CHOICES, blank=True)
    zip_code = models.CharField(_("ZIP or postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=100, default="United States")
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    note = models.TextField(_("personal note"), max_length=1500, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=settings.LANGUAGES)
    letter_hash = models.CharField(_("hash of the letter signed"), max_length=64)
    letter_text = models.TextField(_("letter signed"), blank=True)
    # Each signing attempt is a row of its own, with its own link: a hash of what it was sent with
    # tells a double click (the same details again) from someone else's attempt with the address.
    details_hash = models.CharField(_("hash of the details sent"), max_length=64, blank=True)
    recipients = models.ManyToManyField(Recipient, verbose_name=_("recipients"), blank=True)
    wants_updates = models.BooleanField(_("agreed to receive updates"), default=False)
    ip_hash = models.CharField(_("keyed hash of the IP address"), max_length=64, blank=True)
    ip_prefix_hash = models.CharField(
        _("keyed hash of the IP network"), max_length=64, blank=True, db_index=True, help_text=_("The /24 or /48.")
    )
    quarantine_reason = models.CharField(_("why quarantined"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("signed"), auto_now_add=True, db_index=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)
    # Which worker is sending the confirmation, until when; after a failure, when to try again.
    confirmation_lease_until = models.DateTimeField(_("confirmation claimed until"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    # The receipt is sent once; a confirmed signature without one is swept (tasks.sweep_confirmations).
    receipt_sent_at = models.DateTimeField(_("receipt sent"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        permissions = [("export_signature", _("Can export signatures as CSV"))]
        constraints = [
            # One confirmed signature per person per petition. Unconfirmed attempts may be many (a
            # stranger may try the address too): confirming one voids the others. A withdrawn
            # signature's e-mail is erased, so the person may sign again later.
            models.UniqueConstraint(
                fields=["petition", "email_normalized"],
                condition=models.Q(status="confirmed") & ~models.Q(email_normalized=""),
                name="one_confirmed_signature_per_email",
            ),
            # The same details sent again (a double click, a signer who lost the e-mail) are the
            # same attempt, not a second one.
            models.UniqueConstraint(
                fields=["petition", "email_normalized", "details_hash"],
                condition=models.Q(status__in=["pending", "quarantined"]),
                name="one_attempt_per_details",
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "status"]),
            # The dashboard counts confirmed signatures per state and per day without reading rows.
            models.Index(fields=["petition", "status", "state"], name="signature_state_count"),
            models.Index(fields=["petition", "status", "confirmed_at"], name="signature_day_count"),
            # Workers look for confirmations to send several times a second in a surge: only the
            # few signatures still waiting for theirs are in this index, not the million confirmed.
            models.Index(
                fields=["id"],
                condition=models.Q(status="pending", confirmation_sent_at__isnull=True),
                name="signature_confirmation_due",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} ({self.get_status_display()})"

    def other_attempts(self):
        """The unconfirmed attempts to sign this petition with the same address, this one aside."""
        return Signature.objects.filter(
            petition_id=self.petition_id,
            email_normalized=self.email_normalized,
            status__in=[Signature.Status.PENDING, Signature.Status.QUARANTINED],
        ).exclude(pk=self.pk)

    def address_confirmed(self):
        """Whether another signature of this address on this petition is confirmed already."""
        return (
            Signature.objects.filter(
                petition_id=self.petition_id, email_normalized=self.email_normalized, status=Signature.Status.CONFIRMED
            )
            .exclude(pk=self.pk)
            .exists()
        )

    @property
    def lives_abroad(self):
        return self.country != "United States"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def closing(self):
        """The signer's name and address as a letter closes."""
        lines = [f"{self.title} {self.full_name}", self.address]
        if self.lives_abroad:
            lines += [" ".join(p for p in (self.zip_code, self.city) if p), self.country]
        else:
            lines.append(f"{self.city}, {self.state} {self.zip_code}")
        if self.phone:
            lines.append(self.phone)
        return "\n".join(line for line in lines if line.strip())


class BlockedEmailDomain(models.Model):
    """A domain, such as a disposable-address service, whose addresses may not sign."""

    domain = models.CharField(
        _("domain"), max_length=253, unique=True, help_text=_("For example mailinator.com; its subdomains too.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked e-mail domain")
        verbose_name_plural = _("blocked e-mail domains")
        ordering = ["domain"]

    def __str__(self):
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower().lstrip("@").rstrip(".")
        super().save(*args, **kwargs)

    @classmethod
    def blocks(cls, email):
        """Whether the address's domain, or a domain above it, is blocked."""
        domain = email.rpartition("@")[2].strip().lower().rstrip(".")
        parts = domain.split(".")
        candidates = {".".join(parts[i:]) for i in range(len(parts) - 1)}
        blocked = kept("blocked-email-domains", lambda: frozenset(cls.objects.values_list("domain", flat=True)))
        return not blocked.isdisjoint(candidates)


def _validate_network(value):
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValidationError(_("Enter a network such as 203.0.113.0/24 or 2001:db8::/32.")) from None


class BlockedNetwork(models.Model):
    """An IP range whose signatures are quietly quarantined. Checked before the address is hashed."""

    network = models.CharField(
        _("network (CIDR)"), max_length=50, unique=True, validators=[_validate_network], help_text=_("203.0.113.0/24")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked network")
        verbose_name_plural = _("blocked networks")
        ordering = ["network"]

    def __str__(self):
        return self.network

    def save(self, *args, **kwargs):
        self.network = str(ipaddress.ip_network(self.network.strip(), strict=False))
        super().save(*args, **kwargs)

    @classmethod
    def blocks(cls, ip):
        """Whether the address falls in a blocked network."""
        address = ipaddress.ip_address(ip)
        return any(address in network for network in kept("blocked-networks", cls._networks))

    @classmethod
    def _networks(cls):
        networks = []
        for value in cls.objects.values_list("network", flat=True):
            try:
                networks.append(ipaddress.ip_network(value, strict=False))
            except ValueError:  # saved before validation, or by hand: it blocks nothing
                continue
        return networks


class SignatureExport(models.Model):
    """A record of personal data taken out or sent elsewhere: who, when, what, how many people.

    A CSV export, a print batch, a PDF of signers, and every change of where letters go (a
    recipient's channel or its settings, re-routing, retrying), since each sends signers' names
    and addresses somewhere new.
    """

    class Kind(models.TextChoices):
        CSV = "csv", _("CSV of signatures")
        PRINT_BATCH = "print-batch", _("Print batch")
        SIGNERS_PDF = "signers-pdf", _("PDF of signers")
        DELIVERY = "delivery", _("Change of delivery")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, verbose_name=_("user"), related_name="+"
    )
    username = models.CharField(_("username"), max_length=150)
    created_at = models.DateTimeField(_("exported"), auto_now_add=True)
    filters = models.TextField(_("filter"), blank=True, help_text=_("The admin list's query string."))
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.CSV)
    what = models.CharField(_("what"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("signature export")
        verbose_name_plural = _("signature exports")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.username} {self.created_at:%Y-%m-%d %H:%M}"


def _new_delivery_id():
    return uuid.uuid4().hex


class LetterQuerySet(models.QuerySet):
    def due(self, now=None):
        """Letters a worker should attempt now: queued and due, or stuck in sending past their lease."""
        now = now or timezone.now()
        queued = models.Q(status=Letter.Status.QUEUED) & (
            models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
        )
        stuck = models.Q(status=Letter.Status.SENDING, lease_until__lt=now)
        return self.filter(queued | stuck)


class Letter(models.Model):
    # The longest body any channel takes whole: CWC's ConstituentMessage holds at most 10,000
    # characters. Letters are composed to fit it (signing.services.compose_letter).
    MAX_CHARS = 10_000

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        NEEDS_ACTION = "needs_action", _("Waiting for organizers")
        CANCELLED = "cancelled", _("Cancelled")

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="letters")
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="letters")
    delivery_id = models.CharField(_("delivery id"), max_length=32, unique=True, default=_new_delivery_id)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.QUEUED)
    channel = models.CharField(_("channel"), max_length=10, choices=Recipient.Channel, blank=True)
    body = models.TextField(_("text as sent"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    response = models.TextField(_("channel's answer"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    objects = LetterQuerySet.as_manager()

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-created_at"]
        # Changing where letters go sends signers' names and addresses there: delivery managers only.
        permissions = [("manage_delivery", _("Can route letters: recipients' channels, re-routing and retries"))]
        constraints = [models.UniqueConstraint(fields=["signature", "recipient"], name="one_letter_per_recipient")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            # Workers look for the oldest due letters before every batch. Without this, once most
            # of a million letters are delivered, PostgreSQL walks the primary key past them all
            # to reach a backlog's first twenty: 160 to 190 ms a look, 1.2 to 1.6 with it
            # (bench/letter_look.py).
            models.Index(
                fields=["id"],
                condition=models.Q(status__in=["queued", "sending"]),
                name="letter_due",
            ),
        ]

    def __str__(self):
        return f"{self.delivery_id} → {self.recipient}"


class Update(models.Model):
    """News that organizers send to the signers of a petition who agreed to receive it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="updates")
    subject_be = models.CharField(_("subject (Belarusian)"), max_length=200)
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    body_be = models.TextField(_("text (Belarusian)"))
    body_en = models.TextField(_("text (English)"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("written by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("sending finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("update to signers")
        verbose_name_plural = _("updates to signers")
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject_en or self.subject_be

    def subject_in(self, language):
        return getattr(self, f"subject_{language}", "") or self.subject_en

    def body_in(self, language):
        return getattr(self, f"body_{language}", "") or self.body_en


class UpdateDelivery(models.Model):
    """One update to one signer: the row a sending worker claims, so nobody gets it twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: withdrew or unsubscribed")

    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="deliveries")
    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="update_deliveries")
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("update sent to a signer")
        verbose_name_plural = _("updates sent to signers")
        constraints = [models.UniqueConstraint(fields=["update", "signature"], name="one_update_per_signer")]
        indexes = [models.Index(fields=["update", "status"])]

    def __str__(self):
        return f"{self.update} → #{self.signature_id}"


class FollowUp(models.Model):
    """The question, some days after a signer's letters were delivered, whether any office replied."""

    signature = models.OneToOneField(Signature, on_delete=models.CASCADE, related_name="followup")
    sent_at = models.DateTimeField(_("asked"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self):
        return f"#{self.signature_id}"


class FollowUpAnswer(models.Model):
    """A signer's answer about one office: did it reply to their letter?"""

    class Answer(models.TextChoices):
        YES = "yes", _("Yes, it replied")
        NO = "no", _("No reply")
        NOT_YET = "not_yet", _("Not yet")

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="answers")
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="followup_answers")
    answer = models.CharField(_("answer"), max_length=10, choices=Answer)
    answered_at = models.DateTimeField(_("answered"), auto_now=True)

    class Meta:
        verbose_name = _("answer about an office")
        verbose_name_plural = _("answers about offices")
        constraints = [models.UniqueConstraint(fields=["followup", "recipient"], name="one_answer_per_office")]

    def __str__(self):
        return f"{self.recipient}: {self.answer}"


class Organization(models.Model):
    """Who runs the campaign, as the petition page and every page's footer say: one row, edited in the admin."""

    name_be = models.CharField(_("name (Belarusian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    about_be = models.TextField(_("who we are (Belarusian)"), blank=True)
    about_en = models.TextField(_("who we are (English)"), blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organization")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Every page's footer shows it, read through `kept`: an edit shows at once in this process.
        forget_kept()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        forget_kept()
        return result

    @property
    def name(self):
        return _localized(self, "name")

    @property
    def about(self):
        return _localized(self, "about")

    @classmethod
    def kept_current(cls):
        """The organization as this process last read it (see `kept`), or None before organizers describe it."""
        return kept("organization", lambda: cls.objects.order_by("pk").first())


class OrganizerDigest(models.Model):
    """One e-mail to organizers about letters that need them: the day's digest, or an alarm when a
    channel fails in bulk. The row is claimed before sending and records each address it reached,
    so a restarted worker finishes it without sending anyone the same digest twice."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily digest")
        ALARM = "alarm", _("A channel is failing")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    key = models.CharField(_("key"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    channel = models.CharField(_("channel"), max_length=10, choices=Recipient.Channel, blank=True)
    failures = models.PositiveIntegerField(_("failed attempts that raised the alarm"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_to = models.TextField(_("sent to"), blank=True, help_text=_("One address a line, as each was sent."))
    letters = models.PositiveIntegerField(_("letters listed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("organizers' digest")
        verbose_name_plural = _("organizers' digests")
        ordering = ["-created_at"]

    def __str__(self):
        return self.key
