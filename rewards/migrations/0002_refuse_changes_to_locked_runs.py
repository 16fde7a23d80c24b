"""Database triggers: a locked payout run and its lines never change, whatever code runs.

The model's save()/delete() refuse first with a translated message; these triggers catch what
bypasses the model (QuerySet.update/delete, raw SQL). PostgreSQL and SQLite get equivalent triggers.
"""

from django.db import migrations

POSTGRES_UP = [
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
    """
    CREATE TRIGGER rewards_payoutrun_locked BEFORE UPDATE OR DELETE ON rewards_payoutrun
    FOR EACH ROW EXECUTE FUNCTION rewards_refuse_locked_run();
    """,
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
    CREATE TRIGGER rewards_payoutline_locked BEFORE INSERT OR UPDATE OR DELETE ON rewards_payoutline
    FOR EACH ROW EXECUTE FUNCTION rewards_refuse_locked_line();
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS rewards_payoutline_locked ON rewards_payoutline;",
    "DROP TRIGGER IF EXISTS rewards_payoutrun_locked ON rewards_payoutrun;",
    "DROP FUNCTION IF EXISTS rewards_refuse_locked_line();",
    "DROP FUNCTION IF EXISTS rewards_refuse_locked_run();",
]

SQLITE_UP = [
    """CREATE TRIGGER rewards_payoutrun_locked_update BEFORE UPDATE ON rewards_payoutrun
       WHEN OLD.state = 'locked' BEGIN SELECT RAISE(ABORT, 'payout run is locked'); END;""",
    """CREATE TRIGGER rewards_payoutrun_locked_delete BEFORE DELETE ON rewards_payoutrun
       WHEN OLD.state = 'locked' BEGIN SELECT RAISE(ABORT, 'payout run is locked'); END;""",
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
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "rewards_payoutrun_locked_update",
        "rewards_payoutrun_locked_delete",
        "rewards_payoutline_locked_insert",
        "rewards_payoutline_locked_update",
        "rewards_payoutline_locked_delete",
    )
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("rewards", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
