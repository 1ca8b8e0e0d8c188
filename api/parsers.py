"""JSON bodies with a size limit (413), kept apart from the views: DRF reads the parser
setting when its views module is imported."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class LimitedJSONParser(JSONParser):
    """JSON bodies up to ``API_MAX_BODY_BYTES``: checked from Content-Length before reading,
    and by reading at most one byte more than the limit when no length is given."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = 0
        if request is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
        if length > limit:
            raise PayloadTooLarge(f"The request body is over {limit // 1024} KB.")
        if stream is None:
            return super().parse(stream, media_type, parser_context)
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"The request body is over {limit // 1024} KB.")
        return super().parse(io.BytesIO(data), media_type, parser_context)
