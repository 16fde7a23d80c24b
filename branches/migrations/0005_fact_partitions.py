"""Facts partitioned by business date on PostgreSQL (see branches/fact_partitions.py).

The table is rebuilt: the old one is renamed, a partitioned table of the same columns takes its
name, one partition per day already present is made, every row is copied through the parent
and the key is built once per partition at the end (a national bank of 50,000,000 facts: a few
minutes). FactVersion keeps ``fact_id`` but without a database foreign key: a partitioned table's
unique keys must contain the partition column, so ``id`` alone cannot be referenced.
SQLite keeps its single table.
"""

import django.db.models.deletion
from django.db import migrations, models


def partition_facts(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from branches import fact_partitions as fp

    with schema_editor.connection.cursor() as cursor:
        if fp.is_partitioned(cursor):
            return
        old = "branches_fact_unpartitioned"
        cursor.execute(f"ALTER TABLE {fp.PARENT} RENAME TO {old}")
        cursor.execute(f"ALTER TABLE {old} RENAME CONSTRAINT fact_one_value_per_key TO {old}_key")
        cursor.execute(f"ALTER TABLE {old} RENAME CONSTRAINT branches_fact_pkey TO {old}_pkey")
        cursor.execute(
            f"CREATE TABLE {fp.PARENT} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)"
            " PARTITION BY RANGE (business_date)"
        )
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {old}")
        cursor.execute(f"ALTER TABLE {fp.PARENT} ALTER COLUMN id RESTART WITH {cursor.fetchone()[0]}")
        fp.fill_day_partitions(cursor, old)
        cursor.execute(f"DROP TABLE {old}")
        cursor.execute(f"CREATE TABLE {fp.DEFAULT} PARTITION OF {fp.PARENT} DEFAULT")


class Migration(migrations.Migration):

    dependencies = [
        ('branches', '0004_fact_one_date_first_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='factversion',
            name='fact',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='branches.fact', verbose_name='fact'),
        ),
        migrations.RunPython(partition_facts, migrations.RunPython.noop, elidable=False),
    ]
