"""``/api/v1/``: the REST API, its OpenAPI schema and interactive docs (assets vendored by
drf-spectacular-sidecar, no CDN). Each endpoints module registers its own viewsets."""

from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from .endpoints import contacts, groups, ledger, webhooks

app_name = "api"

router = SimpleRouter()
for module in (contacts, ledger, groups, webhooks):
    module.register(router)

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]
