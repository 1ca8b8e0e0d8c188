"""Owner scoping in one place: every user-owned model's manager is built from this."""

from __future__ import annotations

from django.db import models


class OwnedQuerySet(models.QuerySet):
    def for_user(self, user) -> OwnedQuerySet:
        """Rows owned by ``user``; nothing at all for an anonymous user."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


OwnedManager = models.Manager.from_queryset(OwnedQuerySet)
