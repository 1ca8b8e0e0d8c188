"""Registrations of the plan app with the others (dashboard, panels, timeline, signals).

Each part of the plan app adds its own line to ``connect``."""


def connect() -> None:
    from . import strength, widgets

    strength.connect()
    widgets.connect()
