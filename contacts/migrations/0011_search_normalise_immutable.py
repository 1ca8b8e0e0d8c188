"""``contacts_search_normalise`` (lower-case, unaccent) declared IMMUTABLE on PostgreSQL.

Declared STABLE, it was called at run time, so a search's pattern was unknown when the query
was planned and PostgreSQL guessed how many contacts a typed word matches with a fixed
selectivity. IMMUTABLE, it is worked out at planning time from the typed text, and the
planner estimates the pattern against the column's statistics. Its result depends only on
``unaccent``'s rules file, which does not change while the database runs (the usual way to
use ``unaccent`` in expressions that must be immutable).
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION contacts_search_normalise(text) IMMUTABLE")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION contacts_search_normalise(text) STABLE")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0010_search_rank")]

    operations = [migrations.RunPython(forward, backward)]
