# The ledger's counters kept current on write (referrals/rollups.py): the tables (from
# makemigrations' output for these models only), then on PostgreSQL the triggers that keep
# them, a backfill from the rows already there, and three indexes the pages read in order.

import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models

REFERRAL_COLS = "owner_id, partner_id, direction, status, currency, referred_on, closed_on, value"
SPEND_COLS = "owner_id, contact_id, currency, amount"
INTRO_COLS = "owner_id"


# The SQL below is built from the fixed names above, never from input (hence "nosec B608").


def delta(op: str, cols: str, source: str = "") -> str:
    """The statement's change as rows with a sign: +1 for a row that came, -1 for one that
    went. An UPDATE nets out (a multiset difference), so an edit that touches none of
    ``cols`` (notes, thank-yous, a partner's name) is no change at all."""
    if op == "INSERT":
        return f"SELECT {cols}, 1 AS sign FROM {source or 'n'}"  # nosec B608
    if op == "DELETE":
        return f"SELECT {cols}, -1 AS sign FROM o"  # nosec B608
    return (
        f"SELECT {cols}, 1 AS sign FROM (SELECT {cols} FROM n EXCEPT ALL SELECT {cols} FROM o) a"  # nosec B608
        f" UNION ALL SELECT {cols}, -1 AS sign FROM"
        f" (SELECT {cols} FROM o EXCEPT ALL SELECT {cols} FROM n) b"
    )


def referral_upserts(d: str) -> str:
    """Add the delta ``d`` to the month rollups and the per-partner tally (one statement).

    Rows are upserted in key order, so two transactions lock them in the same order."""
    return f"""
WITH d AS MATERIALIZED ({d}),
months AS (
    INSERT INTO referrals_referralmonth AS m
        (owner_id, month, direction, status, currency, count, value)
    SELECT owner_id, date_trunc('month', referred_on)::date, direction, status, currency,
           SUM(sign), COALESCE(SUM(sign * value), 0)
    FROM d
    GROUP BY 1, 2, 3, 4, 5
    HAVING SUM(sign) <> 0 OR COALESCE(SUM(sign * value), 0) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (owner_id, month, direction, status, currency) DO UPDATE
    SET count = m.count + EXCLUDED.count, value = m.value + EXCLUDED.value
),
won AS (
    INSERT INTO referrals_closedwonmonth AS w (owner_id, month, direction, currency, count, value)
    SELECT owner_id, date_trunc('month', closed_on)::date, direction, currency,
           SUM(sign), SUM(sign * value)
    FROM d
    WHERE status = 'won' AND value IS NOT NULL AND closed_on IS NOT NULL
    GROUP BY 1, 2, 3, 4
    HAVING SUM(sign) <> 0 OR SUM(sign * value) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (owner_id, month, direction, currency) DO UPDATE
    SET count = w.count + EXCLUDED.count, value = w.value + EXCLUDED.value
),
p AS (
    -- A referral without a partner (their contact was deleted) is in no one's tally.
    SELECT owner_id, partner_id, direction, status, referred_on, SUM(sign) AS net
    FROM d
    WHERE partner_id IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    HAVING SUM(sign) <> 0
)
INSERT INTO referrals_reciprocitytally AS t
    (owner_id, partner_id, given, given_won, received, received_won, spend_count,
     last_given, last_received)
SELECT owner_id, partner_id,
       COALESCE(SUM(net) FILTER (WHERE direction = 'given'), 0),
       COALESCE(SUM(net) FILTER (WHERE direction = 'given' AND status = 'won'), 0),
       COALESCE(SUM(net) FILTER (WHERE direction = 'received'), 0),
       COALESCE(SUM(net) FILTER (WHERE direction = 'received' AND status = 'won'), 0),
       0,
       MAX(referred_on) FILTER (WHERE direction = 'given' AND net > 0),
       MAX(referred_on) FILTER (WHERE direction = 'received' AND net > 0)
FROM p
GROUP BY 1, 2
ORDER BY 1, 2
ON CONFLICT (owner_id, partner_id) DO UPDATE
SET given = t.given + EXCLUDED.given,
    given_won = t.given_won + EXCLUDED.given_won,
    received = t.received + EXCLUDED.received,
    received_won = t.received_won + EXCLUDED.received_won,
    last_given = GREATEST(t.last_given, EXCLUDED.last_given),
    last_received = GREATEST(t.last_received, EXCLUDED.last_received)
"""  # nosec B608


def referral_removals(d: str) -> str:
    """After rows went (an UPDATE or a DELETE): a partner's last date each way is looked
    up again when the row that went was on it (the partner's rows, by the partner index),
    then the rows that fell to zero are deleted. Separate statements, so each sees the
    upserts above and, under READ COMMITTED, whatever a transaction it waited for wrote."""
    return f"""
WITH gone AS (
    SELECT owner_id, partner_id, direction, referred_on
    FROM ({d}) d
    WHERE partner_id IS NOT NULL
    GROUP BY 1, 2, 3, 4
    HAVING SUM(sign) < 0
)
UPDATE referrals_reciprocitytally t
SET last_given = (
        SELECT MAX(r.referred_on) FROM referrals_referral r
        WHERE r.partner_id = t.partner_id AND r.owner_id = t.owner_id AND r.direction = 'given'
    ),
    last_received = (
        SELECT MAX(r.referred_on) FROM referrals_referral r
        WHERE r.partner_id = t.partner_id AND r.owner_id = t.owner_id
          AND r.direction = 'received'
    )
WHERE EXISTS (
    SELECT 1 FROM gone
    WHERE gone.owner_id = t.owner_id AND gone.partner_id = t.partner_id
      AND gone.referred_on >= CASE gone.direction
          WHEN 'given' THEN t.last_given ELSE t.last_received END
);
WITH d AS MATERIALIZED ({d}),
months AS (
    DELETE FROM referrals_referralmonth m
    USING (SELECT DISTINCT owner_id, date_trunc('month', referred_on)::date AS month FROM d) k
    WHERE m.owner_id = k.owner_id AND m.month = k.month AND m.count = 0
),
won AS (
    DELETE FROM referrals_closedwonmonth w
    USING (
        SELECT DISTINCT owner_id, date_trunc('month', closed_on)::date AS month FROM d
        WHERE closed_on IS NOT NULL
    ) k
    WHERE w.owner_id = k.owner_id AND w.month = k.month AND w.count = 0
)
DELETE FROM referrals_reciprocitytally t
USING (SELECT DISTINCT owner_id, partner_id FROM d WHERE partner_id IS NOT NULL) k
WHERE t.owner_id = k.owner_id AND t.partner_id = k.partner_id
  AND t.given = 0 AND t.received = 0 AND t.spend_count = 0;
"""  # nosec B608


def spend_upserts(d: str) -> str:
    return f"""
WITH d AS MATERIALIZED ({d}),
totals AS (
    INSERT INTO referrals_spendtotal AS s (owner_id, currency, count, amount)
    SELECT owner_id, currency, SUM(sign), SUM(sign * amount)
    FROM d
    GROUP BY 1, 2
    HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0
    ORDER BY 1, 2
    ON CONFLICT (owner_id, currency) DO UPDATE
    SET count = s.count + EXCLUDED.count, amount = s.amount + EXCLUDED.amount
)
INSERT INTO referrals_reciprocitytally AS t (owner_id, partner_id, spend_count)
SELECT owner_id, contact_id, SUM(sign)
FROM d
GROUP BY 1, 2
HAVING SUM(sign) <> 0
ORDER BY 1, 2
ON CONFLICT (owner_id, partner_id) DO UPDATE SET spend_count = t.spend_count + EXCLUDED.spend_count
"""  # nosec B608


def spend_removals(d: str) -> str:
    return f"""
WITH d AS MATERIALIZED ({d}),
totals AS (
    DELETE FROM referrals_spendtotal s
    USING (SELECT DISTINCT owner_id, currency FROM d) k
    WHERE s.owner_id = k.owner_id AND s.currency = k.currency AND s.count = 0
)
DELETE FROM referrals_reciprocitytally t
USING (SELECT DISTINCT owner_id, contact_id FROM d) k
WHERE t.owner_id = k.owner_id AND t.partner_id = k.contact_id
  AND t.given = 0 AND t.received = 0 AND t.spend_count = 0;
"""  # nosec B608


def intro_upserts(d: str) -> str:
    return f"""
INSERT INTO referrals_introductiontally AS i (owner_id, count)
SELECT owner_id, SUM(sign) FROM ({d}) d
GROUP BY 1
HAVING SUM(sign) <> 0
ORDER BY 1
ON CONFLICT (owner_id) DO UPDATE SET count = i.count + EXCLUDED.count
"""  # nosec B608


def intro_removals(d: str) -> str:
    return f"""
DELETE FROM referrals_introductiontally i
USING (SELECT DISTINCT owner_id FROM ({d}) d) k
WHERE i.owner_id = k.owner_id AND i.count = 0;
"""  # nosec B608


TABLES = [
    # (table, columns, upserts, removals)
    ("referrals_referral", REFERRAL_COLS, referral_upserts, referral_removals),
    ("referrals_spend", SPEND_COLS, spend_upserts, spend_removals),
    ("referrals_introduction", INTRO_COLS, intro_upserts, intro_removals),
]
OPS = {"INSERT": "NEW TABLE AS n", "UPDATE": "OLD TABLE AS o NEW TABLE AS n", "DELETE": "OLD TABLE AS o"}


def trigger_sql(table: str, cols: str, upserts, removals, op: str) -> str:
    """One function and one statement-level trigger per table and operation (PostgreSQL
    allows transition tables only on single-event triggers)."""
    name = f"{table}_rollup_{op.lower()}"
    d = delta(op, cols)
    body = f"{upserts(d)};"
    if op != "INSERT":  # an insert only adds: nothing falls to zero, no date goes
        body += removals(d)
    if op == "UPDATE":  # an edit of other columns: no change to count
        body = f"IF NOT EXISTS ({d}) THEN RETURN NULL; END IF;\n{body}"
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{body}
RETURN NULL;
END $$;
CREATE TRIGGER {name} AFTER {op} ON {table} REFERENCING {OPS[op]}
FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


ROLLUP_TABLES = [
    "referrals_referralmonth",
    "referrals_closedwonmonth",
    "referrals_reciprocitytally",
    "referrals_spendtotal",
    "referrals_introductiontally",
]

# The database, not Django, cascades the rollups (see referrals/rollups.py).
CONSTRAINTS = [
    *(
        f"ALTER TABLE {t} ADD CONSTRAINT {t}_owner_fk FOREIGN KEY (owner_id)"
        " REFERENCES {user_table} (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
        for t in ROLLUP_TABLES
    ),
    "ALTER TABLE referrals_reciprocitytally ADD CONSTRAINT referrals_reciprocitytally_partner_fk"
    " FOREIGN KEY (partner_id) REFERENCES contacts_contact (id)"
    " ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
]

# Read in order by the pages, so a page reads its rows rather than sorting them all (not in
# the models' Meta: Referral and Introduction are defined in referrals/models.py).
INDEXES = [
    # views.ledger: a page of the newest referrals is its first 25 entries (the model's
    # referral_owner_date_idx lacks the id, so a busy day's rows were all read and sorted),
    # and a part month's totals (rollups.ledger_totals) are read from the index alone. It
    # supersedes referral_owner_date_idx, which Referral.Meta can drop.
    "CREATE INDEX referral_owner_date_id_idx ON referrals_referral"
    " (owner_id, referred_on DESC, id DESC) INCLUDE (direction, status, currency, value)",
    # widgets.open_referrals_widget: the oldest open referrals first.
    "CREATE INDEX referral_open_date_idx ON referrals_referral (owner_id, referred_on, id)"
    " WHERE status IN ('passed', 'contacted', 'meeting_held')",
    # views.intro_list: newest first.
    "CREATE INDEX intro_owner_date_idx ON referrals_introduction"
    " (owner_id, introduced_on DESC, id DESC)",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # the embedded SQLite default aggregates directly (rollups.enabled())
    for table, cols, upserts, removals in TABLES:
        # The rows already there, added as one insert of them all.
        schema_editor.execute(upserts(delta("INSERT", cols, source=table)))
        for op in OPS:
            schema_editor.execute(trigger_sql(table, cols, upserts, removals, op))
    # After the backfill: added to full tables, they check the rows at once, leaving no
    # deferred checks pending for the indexes Django creates at the end of the migration.
    user_table = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    for sql in CONSTRAINTS:
        schema_editor.execute(sql.replace("{user_table}", user_table))
    for sql in INDEXES:
        schema_editor.execute(sql)
    # Statistics now, not at autovacuum's next round: without them the planner guesses the
    # new tables are tiny and who-to-ask sorts every partner instead of reading its index.
    for table in ROLLUP_TABLES:
        schema_editor.execute(f"ANALYZE {table}")


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, *_ in TABLES:
        for op in OPS:
            name = f"{table}_rollup_{op.lower()}"
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
    schema_editor.execute("DROP INDEX IF EXISTS referral_owner_date_id_idx")
    schema_editor.execute("DROP INDEX IF EXISTS referral_open_date_idx")
    schema_editor.execute("DROP INDEX IF EXISTS intro_owner_date_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0002_referral_notes_referral_slip_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ClosedWonMonth",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "owner_id",
                        "month",
                        "direction",
                        "currency",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("owner_id", models.BigIntegerField()),
                ("month", models.DateField(help_text="First day of the month of closed_on.")),
                ("direction", models.CharField(max_length=8)),
                ("currency", models.CharField(max_length=3)),
                ("count", models.IntegerField(db_default=0)),
                ("value", models.DecimalField(decimal_places=2, db_default=0, max_digits=18)),
            ],
        ),
        migrations.CreateModel(
            name="IntroductionTally",
            fields=[
                ("owner_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("count", models.IntegerField(db_default=0)),
            ],
        ),
        migrations.CreateModel(
            name="ReferralMonth",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "owner_id",
                        "month",
                        "direction",
                        "status",
                        "currency",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("owner_id", models.BigIntegerField()),
                ("month", models.DateField(help_text="First day of the month of referred_on.")),
                ("direction", models.CharField(max_length=8)),
                ("status", models.CharField(max_length=16)),
                ("currency", models.CharField(max_length=3)),
                ("count", models.IntegerField(db_default=0)),
                ("value", models.DecimalField(decimal_places=2, db_default=0, max_digits=18)),
            ],
        ),
        migrations.CreateModel(
            name="SpendTotal",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "owner_id",
                        "currency",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("owner_id", models.BigIntegerField()),
                ("currency", models.CharField(max_length=3)),
                ("count", models.IntegerField(db_default=0)),
                ("amount", models.DecimalField(decimal_places=2, db_default=0, max_digits=18)),
            ],
        ),
        migrations.CreateModel(
            name="ReciprocityTally",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "owner_id",
                        "partner_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("owner_id", models.BigIntegerField()),
                ("partner_id", models.BigIntegerField()),
                ("given", models.IntegerField(db_default=0)),
                ("given_won", models.IntegerField(db_default=0)),
                ("received", models.IntegerField(db_default=0)),
                ("received_won", models.IntegerField(db_default=0)),
                ("spend_count", models.IntegerField(db_default=0)),
                ("last_given", models.DateField(null=True)),
                ("last_received", models.DateField(null=True)),
                (
                    "owed",
                    models.GeneratedField(
                        db_persist=True,
                        expression=django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                models.F("given"), "+", models.F("spend_count")
                            ),
                            "-",
                            models.F("received"),
                        ),
                        output_field=models.IntegerField(),
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["owner_id", "-owed", "-given", "received"],
                        name="tally_who_to_ask_idx",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
