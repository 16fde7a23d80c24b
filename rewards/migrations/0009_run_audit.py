"""A run's rules when calculated (approval refuses a run whose rules changed since), details of a
run change, and two actions: a warning acknowledged, a run sent back to draft.

rewards_payoutrun gets a nullable column (ALTER TABLE ADD COLUMN on SQLite too, so its triggers of
0002/0008 stay); rewards_runchange, rebuilt on SQLite, has none."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rewards', '0008_only_draft_lines_change'),
    ]

    operations = [
        migrations.AddField(
            model_name='payoutrun',
            name='rules_fingerprint',
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name='rules when calculated'),
        ),
        migrations.AddField(
            model_name='runchange',
            name='details',
            field=models.JSONField(blank=True, default=dict, verbose_name='details'),
        ),
        migrations.AlterField(
            model_name='runchange',
            name='action',
            field=models.CharField(choices=[('made', 'made (生成)'), ('recalculated', 'recalculated (重算)'), ('line_added', 'line added (新增调整行)'), ('acknowledged', 'warning acknowledged (确认提示)'), ('returned', 'sent back to draft (退回草稿)')], max_length=20, verbose_name='action'),
        ),
    ]
