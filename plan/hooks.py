"""Registrations of the plan app with the others (dashboard, panels, timeline, signals).

Each part of the plan app adds its own line to ``connect``."""


def connect() -> None:
    from . import precompute, strength, widgets

    strength.connect()
    precompute.connect()  # after strength: its seeding hook needs the strength scores
    widgets.connect()
