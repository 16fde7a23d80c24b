"""Database triggers: only a draft run's lines change; a settled run keeps its scheme and period;
TRUNCATE cannot empty the tables while settled runs exist.

0002 guarded locked runs only, so ``PayoutLine.objects.filter(run=approved).update(amount=…)``
changed an approved run's lines before it was locked, and on PostgreSQL ``TRUNCATE
rewards_payoutline CASCADE`` removed locked lines (row triggers do not fire on TRUNCATE). Now:

- lines: INSERT, UPDATE and DELETE are refused unless the run is a draft (reviewed, approved and
  locked runs alike: what was reviewed is what is approved is what is locked);
- runs: a run that is not a draft keeps its scheme, period and maker (its state and sign-offs move
  through ``rewards.services``); a locked run never changes at all (0002);
- PostgreSQL: a statement-level BEFORE TRUNCATE trigger on both tables refuses while any run is
  not a draft (``TRUNCATE … CASCADE`` from another table fires it too). To wipe a database on
  purpose, drop it.

SQLite rebuilds a table to add most columns, which drops its triggers: a later migration that
alters rewards_payoutline or rewards_payoutrun must create these again (as 0003 did).
"""

from django.db import migrations

RUN_DEFINED_BY = ("scheme_id", "period_kind", "period_start", "period_end", "created_by_id")

POSTGRES_UP = [
    """
    CREATE OR REPLACE FUNCTION rewards_refuse_locked_line() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM rewards_payoutrun WHERE id = OLD.run_id AND state <> 'draft') THEN
            RAISE EXCEPTION 'payout run % is not a draft: its lines cannot change', OLD.run_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM rewards_payoutrun WHERE id = NEW.run_id AND state <> 'draft') THEN
            RAISE EXCEPTION 'payout run % is not a draft: its lines cannot change', NEW.run_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    f"""
    CREATE OR REPLACE FUNCTION rewards_refuse_locked_run() RETURNS trigger AS $$
    BEGIN
        IF OLD.state = 'locked' THEN
            RAISE EXCEPTION 'payout run % is locked', OLD.id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.state <> 'draft'
           AND ({", ".join(f"NEW.{c}" for c in RUN_DEFINED_BY)}) IS DISTINCT FROM ({", ".join(f"OLD.{c}" for c in RUN_DEFINED_BY)}) THEN
            RAISE EXCEPTION 'payout run % is not a draft: its scheme, period and maker cannot change', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE OR REPLACE FUNCTION rewards_refuse_truncate() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM rewards_payoutrun WHERE state <> 'draft') THEN
            RAISE EXCEPTION '% cannot be truncated: payout runs past draft exist', TG_TABLE_NAME
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER rewards_payoutline_no_truncate BEFORE TRUNCATE ON rewards_payoutline
    FOR EACH STATEMENT EXECUTE FUNCTION rewards_refuse_truncate();
    """,
    """
    CREATE TRIGGER rewards_payoutrun_no_truncate BEFORE TRUNCATE ON rewards_payoutrun
    FOR EACH STATEMENT EXECUTE FUNCTION rewards_refuse_truncate();
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS rewards_payoutline_no_truncate ON rewards_payoutline;",
    "DROP TRIGGER IF EXISTS rewards_payoutrun_no_truncate ON rewards_payoutrun;",
    "DROP FUNCTION IF EXISTS rewards_refuse_truncate();",
    # 0002's functions, guarding locked runs only.
    """
    CREATE OR REPLACE FUNCTION rewards_refuse_locked_line() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM rewards_payoutrun WHERE id = OLD.run_id AND state = 'locked') THEN
            RAISE EXCEPTION 'payout run % is locked', OLD.run_id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM rewards_payoutrun WHERE id = NEW.run_id AND state = 'locked') THEN
            RAISE EXCEPTION 'payout run % is locked', NEW.run_id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
    """
    CREATE OR REPLACE FUNCTION rewards_refuse_locked_run() RETURNS trigger AS $$
    BEGIN
        IF OLD.state = 'locked' THEN
            RAISE EXCEPTION 'payout run % is locked', OLD.id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    """,
]

SQLITE_OLD_LINE_TRIGGERS = (
    "rewards_payoutline_locked_insert",
    "rewards_payoutline_locked_update",
    "rewards_payoutline_locked_delete",
)
SQLITE_UP = [
    *(f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE_OLD_LINE_TRIGGERS),
    """CREATE TRIGGER rewards_payoutline_draft_only_insert BEFORE INSERT ON rewards_payoutline
       WHEN EXISTS (SELECT 1 FROM rewards_payoutrun WHERE id = NEW.run_id AND state <> 'draft')
       BEGIN SELECT RAISE(ABORT, 'payout run is not a draft: its lines cannot change'); END;""",
    """CREATE TRIGGER rewards_payoutline_draft_only_update BEFORE UPDATE ON rewards_payoutline
       WHEN EXISTS (SELECT 1 FROM rewards_payoutrun WHERE state <> 'draft' AND id IN (OLD.run_id, NEW.run_id))
       BEGIN SELECT RAISE(ABORT, 'payout run is not a draft: its lines cannot change'); END;""",
    """CREATE TRIGGER rewards_payoutline_draft_only_delete BEFORE DELETE ON rewards_payoutline
       WHEN EXISTS (SELECT 1 FROM rewards_payoutrun WHERE id = OLD.run_id AND state <> 'draft')
       BEGIN SELECT RAISE(ABORT, 'payout run is not a draft: its lines cannot change'); END;""",
    f"""CREATE TRIGGER rewards_payoutrun_settled_update BEFORE UPDATE ON rewards_payoutrun
       WHEN OLD.state <> 'draft' AND ({" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in RUN_DEFINED_BY)})
       BEGIN SELECT RAISE(ABORT, 'payout run is not a draft: its scheme, period and maker cannot change'); END;""",
]
SQLITE_DOWN = [
    *(
        f"DROP TRIGGER IF EXISTS {name};"
        for name in (
            "rewards_payoutline_draft_only_insert",
            "rewards_payoutline_draft_only_update",
            "rewards_payoutline_draft_only_delete",
            "rewards_payoutrun_settled_update",
        )
    ),
    """CREATE TRIGGER rewards_payoutline_locked_insert BEFORE INSERT ON rewards_payoutline
       WHEN EXISTS (SELECT 1 FROM rewards_payoutrun WHERE id = NEW.run_id AND state = 'locked')
       BEGIN SELECT RAISE(ABORT, 'payout run is locked'); END;""",
    """CREATE TRIGGER rewards_payoutline_locked_update BEFORE UPDATE ON rewards_payoutline
       WHEN EXISTS (SELECT 1 FROM rewards_payoutrun WHERE state = 'locked' AND id IN (OLD.run_id, NEW.run_id))
       BEGIN SELECT RAISE(ABORT, 'payout run is locked'); END;""",
    """CREATE TRIGGER rewards_payoutline_locked_delete BEFORE DELETE ON rewards_payoutline
       WHEN EXISTS (SELECT 1 FROM rewards_payoutrun WHERE id = OLD.run_id AND state = 'locked')
       BEGIN SELECT RAISE(ABORT, 'payout run is locked'); END;""",
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("rewards", "0007_scheme_sponsorships")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
