"""RankEntry keyed (result set, ranking, participant): a ranking's rows, written in participant order,
append at the right end of the key; keyed (result set, participant, ranking), the second ranking's
rows split every leaf page the first one filled (national staff: 0.4 s of each ranking's write)."""

from django.db import migrations, models


def rekey(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'scoring_rankentry'::regclass AND contype = 'p'"
            )
            (name,) = cursor.fetchone()
            cursor.execute(
                f'ALTER TABLE scoring_rankentry DROP CONSTRAINT "{name}", '
                "ADD PRIMARY KEY (result_set_id, ranking_id, participant_id)"
            )
            return
        # SQLite cannot change a primary key: the table is made again with its rows.
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'scoring_rankentry'")
        (create,) = cursor.fetchone()
        old_key = 'PRIMARY KEY ("result_set_id", "participant_id", "ranking_id")'
        assert old_key in create, create
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'scoring_rankentry' AND sql IS NOT NULL")
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("ALTER TABLE scoring_rankentry RENAME TO scoring_rankentry_old")
        cursor.execute(create.replace(old_key, 'PRIMARY KEY ("result_set_id", "ranking_id", "participant_id")'))
        cursor.execute("INSERT INTO scoring_rankentry SELECT * FROM scoring_rankentry_old")
        cursor.execute("DROP TABLE scoring_rankentry_old")
        for index in indexes:
            cursor.execute(index)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0008_gate_effects_and_ceilings")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="rankentry",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "result_set_id", "ranking_id", "participant_id",
                        blank=True, editable=False, primary_key=True, serialize=False,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(rekey, migrations.RunPython.noop)],
        ),
    ]
