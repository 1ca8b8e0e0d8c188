"""Small response-header middleware of our own."""

from __future__ import annotations

from django.conf import settings


def permissions_policy(get_response):
    """``Permissions-Policy``: the app uses no camera, microphone, location or payment API."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    return middleware
