"""What every endpoint shares: strict serializers, cursor pagination and owner-scoped
viewsets (the size-limited JSON parser is in ``api.parsers``)."""

from __future__ import annotations

from rest_framework import exceptions, serializers, viewsets

from referralcrm.http import parse_id

from .pagination import Cursor


class StrictSerializer(serializers.ModelSerializer):
    """Refuses fields it does not know (a typo must not be silently ignored)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class OwnedViewSet(viewsets.ModelViewSet):
    """A viewset over ``model.objects.for_user(request.user)``: other users' ids are 404.

    Subclasses set ``model`` and may extend ``get_queryset`` (select/prefetch, filters).
    """

    model = None
    pagination_class = Cursor

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user)

    def get_object(self):
        # An id that is not a positive integer is simply not one of yours: 404, not 500.
        lookup = self.lookup_url_kwarg or self.lookup_field
        if parse_id(self.kwargs.get(lookup)) is None:
            raise exceptions.NotFound()
        return super().get_object()

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)
