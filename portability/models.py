"""Bringing a network in and taking it out: import batches, export jobs, merge records.

Every row here is the owner's alone: views reach them through ``for_user`` and answer
404 for anyone else, like contacts.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referralcrm.ownership import OwnedManager


class ImportFormat(models.TextChoices):
    VCARD = "vcard", "vCard (.vcf)"
    GOOGLE = "google", "Google Contacts CSV"
    LINKEDIN = "linkedin", "LinkedIn Connections.csv"
    CSV = "csv", "Other CSV"
    ARCHIVE = "archive", "Referral CRM archive (.json)"


class ImportStatus(models.TextChoices):
    PARSING = "parsing", "Reading the file"
    PREVIEW = "preview", "Waiting for your confirmation"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Could not be read"
    CANCELLED = "cancelled", "Cancelled"


class ImportBatch(models.Model):
    """One uploaded file, from upload through preview to the one transaction that imports it.

    ``status`` moves parsing → preview → importing → done by compare-and-set updates, so a
    second confirm (double click, two tabs, a retried task) imports nothing more.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_batches"
    )
    filename = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=10, choices=ImportFormat.choices, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PARSING
    )
    phone_region = models.CharField(max_length=2, default="US")
    # The uploaded bytes, kept until the import is done so the worker can read them.
    data = models.BinaryField(null=True, blank=True, editable=False)
    # For "Other CSV": the header and the user's mapping of columns to contact fields.
    columns = models.JSONField(default=list, blank=True)
    column_map = models.JSONField(default=dict, blank=True)
    # Counts per outcome and of what is selected (rows themselves are ImportRow).
    summary = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="import_owner_idx")]

    def __str__(self) -> str:
        return f"{self.filename or 'import'} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, round(100 * self.processed / self.total))


class ImportRow(models.Model):
    """One card or line of an import batch, its outcome and the user's choice for it.

    Reached only through its batch (``batch__owner``); the preview pages through them by
    ``(batch, outcome, position)`` so a 10,000-row file costs one page of rows per view.
    """

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="row_set")
    position = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10)
    selected = models.BooleanField(default=True)
    keep_both = models.BooleanField(default=False)
    contact_id = models.BigIntegerField(null=True, blank=True)
    # The parsed record, and the match's reason, name, changes or the row it duplicates.
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="import_row_once"),
        ]
        indexes = [
            models.Index(fields=["batch", "outcome", "position"], name="import_row_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"row {self.position}: {self.outcome}"

    def as_dict(self) -> dict:
        return {
            **self.data,
            "position": self.position,
            "outcome": self.outcome,
            "selected": self.selected,
            "keep_both": self.keep_both,
            "contact_id": self.contact_id,
        }

    @classmethod
    def from_dict(cls, batch: ImportBatch, row: dict) -> ImportRow:
        keys = ("position", "outcome", "selected", "keep_both", "contact_id")
        return cls(
            batch=batch,
            **{k: row[k] for k in keys},
            data={k: v for k, v in row.items() if k not in keys},
        )


class ExportFormat(models.TextChoices):
    JSON = "json", "Complete archive (JSON)"
    VCARD = "vcard", "Contacts as vCard 4.0"
    CSV = "csv", "Contacts as CSV"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being built"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """A large export built by a Celery task into a private file, offered for a limited time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs"
    )
    format = models.CharField(max_length=5, choices=ExportFormat.choices)
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    # Relative to settings.EXPORT_ROOT; never under MEDIA_URL or STATIC_URL.
    path = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="export_owner_idx")]

    def __str__(self) -> str:
        return f"{self.get_format_display()} ({self.get_status_display()})"

    @property
    def is_expired(self) -> bool:
        return bool(self.expires_at and self.expires_at <= timezone.now())


class MergeRecord(models.Model):
    """Two contacts became one: shown on the survivor's timeline."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    survivor = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="merge_records"
    )
    merged_name = models.CharField(max_length=120)
    # The id the merged contact had: a second POST of the same merge (double click) finds
    # this record and answers "already merged" instead of a 404.
    merged_contact_id = models.BigIntegerField(null=True, blank=True, editable=False)
    # What moved, by model label, e.g. {"contacts.meeting": 3, "removed:referrals.introduction": 1}
    # (portability.merge.describe puts it in words), and which fields took the other's value.
    moved = models.JSONField(default=dict, blank=True)
    fields_taken = models.JSONField(default=list, blank=True)
    merged_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        ordering = ["-merged_at"]
        indexes = [models.Index(fields=["survivor", "-merged_at"], name="merge_survivor_idx")]

    def __str__(self) -> str:
        return f"{self.merged_name} merged into {self.survivor}"


class DuplicateDismissal(models.Model):
    """The user said two contacts are not the same person: portability.merge.find_duplicates
    no longer offers the pair. Stored once per pair, lowest id first."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    contact_low = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    contact_high = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact_low", "contact_high"], name="duplicate_dismissal_once"
            ),
            models.CheckConstraint(
                condition=Q(contact_low__lt=models.F("contact_high")),
                name="duplicate_dismissal_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_low_id} is not {self.contact_high_id}"


# --- Possible duplicates, kept current on write (portability.duplicates) ------------------
#
# Derived rows: rewritten from the contacts whenever a contact's name, company, e-mails or
# phones change, never edited on their own. Contacts are referred to by id, not by foreign
# key: a merge must not move these rows to the survivor (they are recomputed for it), and a
# deleted contact's rows go with it through the same rewrite.


class ContactKey(models.Model):
    """One thing a contact can be matched on: ``email`` (lower-cased), ``phone`` (E.164 in
    the owner's phone region, else its digits), ``name`` (case and spaces folded; ``shown``
    is the company) and ``company`` (folded; ``shown`` as typed)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    contact_id = models.BigIntegerField()
    kind = models.CharField(max_length=8)
    key = models.CharField(max_length=255)
    shown = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            # duplicates.refresh: the other contacts sharing a key (and the similar-name
            # check's colleagues at the same company).
            models.Index(fields=["owner", "kind", "key"], name="contact_key_idx"),
            models.Index(fields=["contact_id"], name="contact_key_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class DuplicateReason(models.Model):
    """One piece of evidence that two contacts are one person (``kind`` email, phone, name
    or similar) and the key it came from (``source``: the shared key, or for "similar"
    the company), so a change to one key group rewrites only that group's evidence."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    contact_low = models.BigIntegerField()
    contact_high = models.BigIntegerField()
    kind = models.CharField(max_length=8)
    source = models.CharField(max_length=255)
    words = models.CharField(max_length=300)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "kind", "source"], name="duplicate_reason_source_idx"),
            models.Index(fields=["contact_low", "contact_high"], name="duplicate_reason_pair_idx"),
            models.Index(fields=["contact_high"], name="duplicate_reason_high_idx"),
        ]

    def __str__(self) -> str:
        return self.words


class DuplicatePair(models.Model):
    """Two contacts that are probably one person: every reason in words, strongest first,
    and their score. The duplicates page reads one page of ``duplicate_pair_page_idx``."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    contact_low = models.BigIntegerField()
    contact_high = models.BigIntegerField()
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)  # [[kind, words], ...] in the order shown

    objects = OwnedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact_low", "contact_high"], name="duplicate_pair_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["owner", "-score", "contact_low", "contact_high"],
                name="duplicate_pair_page_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_low} and {self.contact_high}"
