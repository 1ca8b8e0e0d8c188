from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self) -> None:
        from referralcrm import dashboard

        from . import timeline, widgets

        dashboard.register(order=10)(widgets.quick_log_widget)
        dashboard.register(order=20)(widgets.going_cold_widget)
        dashboard.register(order=30)(widgets.recent_meetings_widget)
        dashboard.register(order=40)(widgets.stages_widget)
        timeline.register(widgets.meeting_entries)
