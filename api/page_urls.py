"""The API's settings pages (``/settings/api-tokens/``, ``/settings/webhooks/``): HTML views
for the signed-in user, apart from the REST API itself."""

from . import token_views, webhook_views

app_name = "apisettings"

urlpatterns = [*token_views.urlpatterns, *webhook_views.urlpatterns]
