"""The API's own tables: personal access tokens (and webhooks, in ``webhook_models``)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from referralcrm.ownership import OwnedQuerySet

TOKEN_PREFIX = "rcrm_"


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


def hash_token(plaintext: str) -> str:
    """Tokens are 256-bit random strings, so one SHA-256 is enough (no slow KDF needed)."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


class ApiTokenQuerySet(OwnedQuerySet):
    def usable(self, now: datetime | None = None) -> ApiTokenQuerySet:
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at=None)


class ApiToken(models.Model):
    """A personal access token, sent as ``Authorization: Bearer rcrm_…``.

    Only a SHA-256 of the token is stored; the token itself is shown once, when made.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80)
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.READ)
    # The first characters, shown in the list so the user can tell tokens apart.
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = models.Manager.from_queryset(ApiTokenQuerySet)()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="apitoken_owner_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, owner, *, name: str, scope: str = TokenScope.READ, expires_at=None
    ) -> tuple[ApiToken, str]:
        """A new token and its plaintext (shown once, never stored)."""
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            owner=owner,
            name=name[:80],
            scope=scope,
            prefix=plaintext[: len(TOKEN_PREFIX) + 6],
            key_hash=hash_token(plaintext),
            expires_at=expires_at,
        )
        return token, plaintext

    @property
    def is_expired(self) -> bool:
        return bool(self.expires_at and self.expires_at <= timezone.now())

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


from .webhook_models import *  # noqa: E402, F403 - webhooks' tables belong to this app
