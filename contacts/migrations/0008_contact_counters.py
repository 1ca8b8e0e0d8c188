"""Counters of a user's contacts kept current on write (contacts.counters): the stage tally
per owner and each tag's number of contacts, maintained by PostgreSQL triggers in the same
transaction as the write, and backfilled here. The embedded SQLite default has no triggers
and counts directly."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from contacts.counters import DROP_SQL, TRIGGERS_SQL


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS_SQL)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0007_search_document"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="tag",
            name="contact_count",
            field=models.IntegerField(default=0, editable=False),
        ),
        migrations.CreateModel(
            name="ContactTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("stage", models.CharField(max_length=16)),
                ("is_archived", models.BooleanField()),
                ("n", models.IntegerField(default=0)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("owner", "stage", "is_archived"),
                        name="contacts_tally_owner_stage_unique",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
