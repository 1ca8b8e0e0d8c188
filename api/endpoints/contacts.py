"""Contacts, GAINS facts, tags and meetings (being extended)."""

from __future__ import annotations

from contacts.models import Tag

from ..base import OwnedViewSet, StrictSerializer


class TagSerializer(StrictSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class TagViewSet(OwnedViewSet):
    """Your tags."""

    model = Tag
    serializer_class = TagSerializer


def register(router) -> None:
    router.register("tags", TagViewSet, basename="tag")
