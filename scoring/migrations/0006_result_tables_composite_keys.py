"""Result tables keyed by what identifies a row (result set, participant, …) instead of a surrogate id.

A surrogate id cost a sequence call and a second B-tree per written row; the recompute writes about
21 rows per participant, so that index was a third of its write time. Django cannot turn a single
primary key into a composite one, so the result tables are dropped and created again: results are
derived data, and the day's result sets are dropped with them (recompute with
``manage.py recompute CAMPAIGN --all-days``; ``make run`` does so for the demo campaign).
RuleScore gains ``monthly`` (as MetricResult has) so that its campaign row has a period start too.
"""

from django.db import migrations, models


def drop_result_sets(apps, schema_editor):
    apps.get_model("scoring", "ResultSet").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0005_gate_participants_alter_gate_kind")]

    operations = [
        migrations.RunPython(drop_result_sets, migrations.RunPython.noop),
        migrations.DeleteModel(name="GateHit"),
        migrations.DeleteModel(name="GroupRankEntry"),
        migrations.DeleteModel(name="MetricResult"),
        migrations.DeleteModel(name="ParticipantResult"),
        migrations.DeleteModel(name="PhaseResult"),
        migrations.DeleteModel(name="RankEntry"),
        migrations.DeleteModel(name="RuleScore"),
        migrations.CreateModel(
            name="GateHit",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "result_set_id",
                        "participant_id",
                        "gate_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("result_set_id", models.BigIntegerField()),
                ("participant_id", models.BigIntegerField()),
                ("gate_id", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="GroupRankEntry",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "result_set_id",
                        "ranking_id",
                        "group_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("result_set_id", models.BigIntegerField()),
                ("ranking_id", models.BigIntegerField()),
                ("group_id", models.BigIntegerField()),
                ("value", models.DecimalField(decimal_places=6, max_digits=24)),
                ("actual_sum", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("target_sum", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("members", models.PositiveIntegerField()),
                ("rank", models.PositiveIntegerField()),
                ("previous_rank", models.PositiveIntegerField(null=True)),
                ("gap_value", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("in_top", models.BooleanField(default=False)),
                ("in_bottom", models.BooleanField(default=False)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["result_set_id", "ranking_id", "rank"], name="grouprank_board")
                ],
            },
        ),
        migrations.CreateModel(
            name="MetricResult",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "result_set_id",
                        "participant_id",
                        "metric_id",
                        "monthly",
                        "period_start",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("result_set_id", models.BigIntegerField()),
                ("participant_id", models.BigIntegerField()),
                ("metric_id", models.BigIntegerField()),
                ("period_start", models.DateField()),
                ("monthly", models.BooleanField(default=False)),
                ("actual", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("target", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("base", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("completion", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="ParticipantResult",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "result_set_id",
                        "participant_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("result_set_id", models.BigIntegerField()),
                ("participant_id", models.BigIntegerField()),
                ("total_points", models.DecimalField(decimal_places=4, max_digits=14)),
                ("base_points", models.DecimalField(decimal_places=4, max_digits=14)),
                ("bonus_points", models.DecimalField(decimal_places=4, max_digits=14)),
                ("met_all_targets", models.BooleanField()),
                ("vetoed", models.BooleanField()),
            ],
        ),
        migrations.CreateModel(
            name="PhaseResult",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "result_set_id",
                        "participant_id",
                        "metric_id",
                        "phase_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("result_set_id", models.BigIntegerField()),
                ("participant_id", models.BigIntegerField()),
                ("metric_id", models.BigIntegerField()),
                ("phase_id", models.BigIntegerField()),
                ("period_start", models.DateField()),
                ("actual", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("target", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("base", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
                ("completion", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="RankEntry",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "result_set_id",
                        "participant_id",
                        "ranking_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("result_set_id", models.BigIntegerField()),
                ("ranking_id", models.BigIntegerField()),
                ("participant_id", models.BigIntegerField()),
                ("group_id", models.BigIntegerField(null=True)),
                ("value", models.DecimalField(decimal_places=6, max_digits=24)),
                ("points", models.DecimalField(decimal_places=4, max_digits=14, null=True)),
                ("rank", models.PositiveIntegerField()),
                ("previous_rank", models.PositiveIntegerField(null=True)),
                (
                    "gap_value",
                    models.DecimalField(
                        decimal_places=6,
                        help_text="To the next better place, in the ranking's terms.",
                        max_digits=24,
                        null=True,
                    ),
                ),
                ("gap_points", models.DecimalField(decimal_places=4, max_digits=14, null=True)),
                ("in_top", models.BooleanField(default=False)),
                ("in_bottom", models.BooleanField(default=False)),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["result_set_id", "ranking_id", "group_id", "rank"], name="rankentry_board"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RuleScore",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "result_set_id",
                        "participant_id",
                        "rule_id",
                        "monthly",
                        "period_start",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("result_set_id", models.BigIntegerField()),
                ("participant_id", models.BigIntegerField()),
                ("rule_id", models.BigIntegerField()),
                ("period_start", models.DateField()),
                ("monthly", models.BooleanField(default=False)),
                ("points", models.DecimalField(decimal_places=4, max_digits=14)),
                ("reference", models.DecimalField(decimal_places=6, max_digits=24, null=True)),
            ],
        ),
    ]
