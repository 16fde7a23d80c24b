"""PostgreSQL: the digest of the file that last filled each day, and the triggers that forget it
(see branches/fact_digest.py). SQLite has neither: its imports always compare."""

from django.db import migrations


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from branches import fact_digest

    with schema_editor.connection.cursor() as cursor:
        fact_digest.install(cursor)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from branches import fact_digest

    with schema_editor.connection.cursor() as cursor:
        fact_digest.uninstall(cursor)


class Migration(migrations.Migration):

    dependencies = [
        ('branches', '0005_fact_partitions'),
    ]

    operations = [
        migrations.RunPython(install, uninstall, elidable=False),
    ]
