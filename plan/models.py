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
