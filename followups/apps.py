from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = "Follow-ups"

    def ready(self) -> None:
        from contacts import quicklog as contacts_quicklog
        from contacts import seeding, timeline
        from referralcrm import dashboard

        from . import quicklog, seed, signals, widgets  # noqa: F401 - signals connect on import

        contacts_quicklog.register(
            contacts_quicklog.Extension(
                name="followups",
                template="followups/quicklog_ticks.html",
                handle=quicklog.handle,
            )
        )
        from contacts.models import STALLED_REASONS

        from .models import overdue_followup_reason

        if overdue_followup_reason not in STALLED_REASONS:
            STALLED_REASONS.append(overdue_followup_reason)
        dashboard.register(order=15)(widgets.due_widget)
        timeline.register(widgets.followup_entries)
        seeding.register(seed.seed_user)
