from django.apps import AppConfig


class PlanConfig(AppConfig):
    name = "plan"
    verbose_name = "Networking plan"

    def ready(self) -> None:
        from . import hooks

        hooks.connect()
