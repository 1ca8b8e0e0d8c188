"""Trigram indexes for contact search on PostgreSQL (ContactQuerySet.search).

Django's ``icontains`` on PostgreSQL compiles to ``UPPER(col::text) LIKE UPPER(%s)``,
so the GIN trigram indexes are on ``UPPER(col)``. Other databases (the embedded SQLite
default) skip this migration's SQL and fall back to a plain scan.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("contact_name_trgm", "contacts_contact", "name"),
    ("contact_company_trgm", "contacts_contact", "company"),
    ("contact_profession_trgm", "contacts_contact", "profession"),
    ("gains_text_trgm", "contacts_gainsfact", "text"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create, drop),
    ]
