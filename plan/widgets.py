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

    # Lazy: the stalled connection's and the thank-you's queries run after first paint.
    dashboard.register(
        order=14, lazy=True, placeholder="plan/widgets/small_steps_placeholder.html"
    )(small_steps_widget)
