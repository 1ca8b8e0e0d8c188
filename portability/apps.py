from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    name = "portability"
    verbose_name = "Import, merge and export"

    def ready(self) -> None:
        from contacts import timeline

        from . import duplicates, merge

        timeline.register(merge.timeline_entries)
        duplicates.connect()
