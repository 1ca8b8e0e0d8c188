"""What the plan app adds to the dashboard: "This week's small steps"."""

from __future__ import annotations

from referralcrm.dashboard import Widget

from . import steps


def small_steps_widget(request) -> Widget:
    """The call and thank-you steps (three queries); the introduction step is fetched by
    htmx once the page is shown (``plan:step_introduction``), so the dashboard never waits
    for the suggestions' match over the whole network."""
    return Widget("plan/widgets/small_steps.html", {"steps": steps.this_week(request.user)})


def connect() -> None:
    from referralcrm import dashboard

    dashboard.register(order=14)(small_steps_widget)
