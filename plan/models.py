"""The networking plan: preferred client, contact sphere, business goals and their helpers;
remembered dismissals of suggested introductions and of the week's small steps."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referralcrm.ownership import OwnedManager


class NetworkingPlan(models.Model):
    """One per user: who they serve and which professions serve the same client."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="networking_plan"
    )
    preferred_client = models.TextField(
        "my preferred client",
        blank=True,
        max_length=1000,
        help_text="Who you serve best, e.g. “families buying their first home in the east suburbs”.",
    )
    client_tags = models.JSONField("describing words", default=list, blank=True)
    # The professions of the user's contact sphere (suggested from their profession, editable).
    sphere = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedManager()

    def __str__(self) -> str:
        return f"Networking plan of {self.owner}"


class BusinessGoal(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=240)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class GoalHelper(models.Model):
    """Someone who could help with a goal: one of the user's contacts, or a placeholder
    ("someone who is a commercial banker") still to find."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    goal = models.ForeignKey(BusinessGoal, on_delete=models.CASCADE, related_name="helpers")
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    placeholder = models.CharField("someone who is a …", max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | ~Q(placeholder=""),
                name="goalhelper_contact_or_placeholder",
            ),
        ]

    def __str__(self) -> str:
        return str(self.contact) if self.contact_id else f"someone who is a {self.placeholder}"


class SuggestionDismissal(models.Model):
    """ "Not a fit": a suggested introduction the user does not want offered again."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    contact_low = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    contact_high = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact_low", "contact_high"], name="suggestion_dismissal_once"
            ),
            models.CheckConstraint(
                condition=Q(contact_low__lt=models.F("contact_high")),
                name="suggestion_dismissal_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_low_id} and {self.contact_high_id}: not a fit"


class StepDismissal(models.Model):
    """A small step of the week the user dismissed (``key`` names it, e.g. "call:42")."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=60)
    until = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="step_dismissal_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} until {self.until}"


class SuggestionState(models.Model):
    """Per user: how current the stored introduction suggestions and sphere coverage are.

    Every change to their inputs (contacts, GAINS facts, introductions, dismissals, the
    plan) bumps ``version``; the first one after a refresh also sets ``stale_since`` and
    enqueues one refresh (plan.precompute). A refresh stores what it computed for the
    version it read, so a change that lands while it runs is never lost."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    computed_version = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)  # None: never computed yet
    stale_since = models.DateTimeField(null=True, blank=True)
    # For each profession of the sphere (lower case): the best contact practising it and
    # whether any of them is a connection, {"bookkeeper": {"best": 12, "connected": false}}.
    sphere_known = models.JSONField(default=dict, blank=True)

    objects = OwnedManager()

    class Meta:
        indexes = [
            # The sweep (plan.precompute.sweep) finds refreshes that were never run.
            models.Index(
                fields=["stale_since"],
                condition=Q(stale_since__isnull=False),
                name="suggestion_state_stale_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Suggestions of {self.owner_id}, version {self.computed_version}/{self.version}"


class StoredSuggestion(models.Model):
    """One suggested introduction as the last refresh ranked it (``position`` 0 first).

    The contacts are plain ids, not foreign keys: this is computed output, read back
    through the user's own active contacts (a deleted or archived one just drops out), and
    a merge, which moves every relation to a contact, must not move these."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    a_id = models.BigIntegerField()  # the one with the goal (or the first of a same-sphere pair)
    b_id = models.BigIntegerField()  # the helper
    kind = models.CharField(max_length=20)
    score = models.FloatField()
    reason = models.TextField()
    a_text = models.TextField(blank=True)
    b_text = models.TextField(blank=True)
    b_label = models.CharField(max_length=20, blank=True)
    highlights = models.JSONField(default=dict, blank=True)

    objects = OwnedManager()

    class Meta:
        indexes = [
            # The introductions page and the dashboard's step read the top N from here.
            models.Index(fields=["owner", "position"], name="stored_suggestion_rank_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.a_id} and {self.b_id} ({self.kind}, {self.score:.2f})"


class OfferWord(models.Model):
    """For each word of the user's contacts' skills and networks (a PostgreSQL English
    lexeme), the facts of the strongest few contacts using it, as the last refresh found
    them: the one-to-one brief's "what to offer first" looks up a goal's words here instead
    of reading every skill in the network. Plain ids, read back through the user's facts."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lexeme = models.TextField()
    fact_id = models.BigIntegerField()

    objects = OwnedManager()

    class Meta:
        indexes = [models.Index(fields=["owner", "lexeme"], name="offer_word_idx")]

    def __str__(self) -> str:
        return f"{self.lexeme}: fact {self.fact_id}"
