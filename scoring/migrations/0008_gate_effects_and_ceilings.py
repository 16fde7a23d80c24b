"""Gates that only warn (shown, not scored), ceilings, and a figure as a share of another metric."""

import django.db.models.deletion
from django.db import migrations, models


def _drop_participant_view(apps, schema_editor):
    # SQLite rebuilds a table to add a column, which a view over it forbids: the view goes first.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP VIEW scoring_participantresult")


def _participant_view(apps, schema_editor):
    """ParticipantResult.vetoed counts vetoes only: a warning gate's hit leaves the participant in."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PARTICIPANT_VIEW)


PARTICIPANT_VIEW = """CREATE VIEW scoring_participantresult AS
SELECT s.result_set_id, s.participant_id, s.total_points, s.base_points, s.bonus_points, s.met_all_targets,
       CASE WHEN EXISTS (
           SELECT 1 FROM scoring_gatehit g
           WHERE g.result_set_id = s.result_set_id AND g.participant_id = s.participant_id AND g.warning = FALSE
       ) THEN TRUE ELSE FALSE END AS vetoed
FROM scoring_scoresheet s
WHERE s.monthly = FALSE"""


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0003_calendar_day'),
        ('scoring', '0007_score_sheets'),
    ]

    operations = [
        migrations.RunPython(_drop_participant_view, migrations.RunPython.noop),
        migrations.AddField(
            model_name='gate',
            name='effect',
            field=models.CharField(choices=[('veto', 'Veto: out of the rankings (一票否决)'), ('warn', 'Warning only: shown, not scored (预警)')], default='veto', max_length=4, verbose_name='effect'),
        ),
        migrations.AddField(
            model_name='gate',
            name='maximum',
            field=models.DecimalField(blank=True, decimal_places=6, help_text='For a ceiling: the highest figure allowed.', max_digits=24, null=True, verbose_name='maximum'),
        ),
        migrations.AddField(
            model_name='gate',
            name='per_metric',
            field=models.ForeignKey(blank=True, help_text="Empty: the metric's figure. Else the figure ÷ this metric's figure (e.g. new loans ÷ new deposits).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='campaigns.metric', verbose_name='divided by'),
        ),
        migrations.AddField(
            model_name='gatehit',
            name='warning',
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name='gate',
            name='kind',
            field=models.CharField(choices=[('flag', 'Veto when a flag is set (一票否决)'), ('metric_below', 'Veto when a figure is below a floor'), ('staff_below', 'Veto a unit when one of its staff is below a floor (e.g. 刷卡消费 each employee)'), ('metric_above', 'Hit when a figure is above a ceiling (控制上限)')], max_length=15, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='ranking',
            name='required_flags',
            field=models.JSONField(blank=True, default=list, help_text='"met_all_targets", "met:METRIC" or a planner flag such as "green"; "not:" before one requires its absence.', verbose_name='required flags'),
        ),
        migrations.RunPython(_participant_view, migrations.RunPython.noop),
    ]
