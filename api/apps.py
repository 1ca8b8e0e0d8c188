from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API and webhooks"

    def ready(self) -> None:
        from . import (
            schema,  # noqa: F401 - the bearer-token scheme for drf-spectacular
            webhooks,
        )

        webhooks.connect_signals()
