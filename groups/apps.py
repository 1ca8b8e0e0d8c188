from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = "Networking groups"

    def ready(self) -> None:
        from contacts import panels, picker, seeding
        from followups import digest
        from referralcrm import dashboard
        from referrals import sharing

        from . import (  # noqa: F401 - signals connect on import
            notices,
            seed,
            signals,
            slips,
            widgets,
        )

        # Lazy: its four queries run after first paint; users in no group get no placeholder.
        dashboard.register(
            order=12,
            lazy=True,
            placeholder="groups/widgets/group_placeholder.html",
            shown=widgets.in_a_group,
        )(widgets.group_widget)
        panels.register(widgets.fellow_member_panel)
        picker.register(widgets.member_suggestions)
        sharing.register(slips.share_from_ledger)
        digest.register_section(notices.SECTION)
        seeding.register_arguments(seed.add_arguments)
        seeding.register_global(seed.seed_groups)
