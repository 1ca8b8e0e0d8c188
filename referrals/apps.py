from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referral ledger"

    def ready(self) -> None:
        from contacts import panels, seeding, timeline
        from referralcrm import dashboard

        from . import seed, widgets

        dashboard.register(order=25)(widgets.open_referrals_widget)
        dashboard.register(order=26)(widgets.month_widget)
        dashboard.register(order=27)(widgets.who_to_ask_widget)
        dashboard.register(
            order=60, lazy=True, wide=True, placeholder="referrals/widgets/chart_placeholder.html"
        )(widgets.chart_widget)
        # Six aggregates and a chart: after the contact's page is shown.
        panels.register(
            widgets.reciprocity_panel,
            lazy=True,
            placeholder="referrals/panels/reciprocity_placeholder.html",
        )
        timeline.register(widgets.referral_entries)
        timeline.register(widgets.introduction_entries)
        timeline.register(widgets.spend_entries)
        seeding.register(seed.seed_user)
