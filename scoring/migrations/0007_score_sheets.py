"""Score sheets: one row per participant and period instead of one per metric and one per rule.

A national staff campaign wrote 5,000,000 MetricResult rows and 5,000,000 RuleScore rows a day
(two B-trees, 1.2 GB with their WAL); its score sheets are 500,000 rows with the figures and points
in arrays, positioned by the result set's ``layout``. ``MetricResult``, ``RuleScore`` and
``ParticipantResult`` become views over the sheets, so every reader keeps its queries.
Results are derived data: the stored result sets are dropped (recompute with
``manage.py recompute CAMPAIGN --all-days``; ``make run`` does so for the demo campaign).
"""

from django.db import migrations, models

import scoring.models

RESULT_TABLES = ("scoring_gatehit", "scoring_rankentry", "scoring_grouprankentry", "scoring_phaseresult")

POSTGRESQL_VIEWS = [
    """CREATE VIEW scoring_metricresult AS
SELECT s.result_set_id, s.participant_id, CAST(m.metric_id AS BIGINT) AS metric_id, s.period_start, s.monthly,
       s.actual[m.i] AS actual, s.target[m.i] AS target, s.base[m.i] AS base, s.completion[m.i] AS completion
FROM scoring_scoresheet s
JOIN scoring_resultset rs ON rs.id = s.result_set_id
CROSS JOIN LATERAL jsonb_array_elements_text(
    rs.layout -> (CASE WHEN s.monthly THEN 'month_metrics' ELSE 'metrics' END)
) WITH ORDINALITY AS m(metric_id, i)""",
    """CREATE VIEW scoring_rulescore AS
SELECT s.result_set_id, s.participant_id, CAST(r.rule_id AS BIGINT) AS rule_id, s.period_start, s.monthly,
       s.points[r.i] AS points, s.reference[r.i] AS reference
FROM scoring_scoresheet s
JOIN scoring_resultset rs ON rs.id = s.result_set_id
CROSS JOIN LATERAL jsonb_array_elements_text(
    rs.layout -> (CASE WHEN s.monthly THEN 'month_rules' ELSE 'rules' END)
) WITH ORDINALITY AS r(rule_id, i)
WHERE s.points[r.i] IS NOT NULL""",
]

SQLITE_VIEWS = [
    """CREATE VIEW scoring_metricresult AS
SELECT s.result_set_id, s.participant_id, m.value AS metric_id, s.period_start, s.monthly,
       json_extract(s.actual, '$[' || m.key || ']') AS actual, json_extract(s.target, '$[' || m.key || ']') AS target,
       json_extract(s.base, '$[' || m.key || ']') AS base, json_extract(s.completion, '$[' || m.key || ']') AS completion
FROM scoring_scoresheet s
JOIN scoring_resultset rs ON rs.id = s.result_set_id
JOIN json_each(rs.layout, CASE WHEN s.monthly THEN '$.month_metrics' ELSE '$.metrics' END) m""",
    """CREATE VIEW scoring_rulescore AS
SELECT s.result_set_id, s.participant_id, r.value AS rule_id, s.period_start, s.monthly,
       json_extract(s.points, '$[' || r.key || ']') AS points, json_extract(s.reference, '$[' || r.key || ']') AS reference
FROM scoring_scoresheet s
JOIN scoring_resultset rs ON rs.id = s.result_set_id
JOIN json_each(rs.layout, CASE WHEN s.monthly THEN '$.month_rules' ELSE '$.rules' END) r
WHERE json_extract(s.points, '$[' || r.key || ']') IS NOT NULL""",
]

# The same on both: a participant's totals and whether a gate hit them.
PARTICIPANT_VIEW = """CREATE VIEW scoring_participantresult AS
SELECT s.result_set_id, s.participant_id, s.total_points, s.base_points, s.bonus_points, s.met_all_targets,
       CASE WHEN EXISTS (
           SELECT 1 FROM scoring_gatehit g WHERE g.result_set_id = s.result_set_id AND g.participant_id = s.participant_id
       ) THEN TRUE ELSE FALSE END AS vetoed
FROM scoring_scoresheet s
WHERE s.monthly = FALSE"""


def to_views(apps, schema_editor):
    apps.get_model("scoring", "ResultSet").objects.all().delete()
    views = POSTGRESQL_VIEWS if schema_editor.connection.vendor == "postgresql" else SQLITE_VIEWS
    with schema_editor.connection.cursor() as cursor:
        for table in RESULT_TABLES:
            cursor.execute(f"DELETE FROM {table}")
        for table in ("scoring_metricresult", "scoring_rulescore", "scoring_participantresult"):
            cursor.execute(f"DROP TABLE {table}")
        for view in [*views, PARTICIPANT_VIEW]:
            cursor.execute(view)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0006_result_tables_composite_keys")]

    operations = [
        migrations.AddField(
            model_name="resultset",
            name="layout",
            field=models.JSONField(blank=True, default=dict, verbose_name="layout"),
        ),
        migrations.CreateModel(
            name="ScoreSheet",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "result_set_id", "participant_id", "monthly", "period_start",
                        blank=True, editable=False, primary_key=True, serialize=False,
                    ),
                ),
                ("result_set_id", models.BigIntegerField()),
                ("participant_id", models.BigIntegerField()),
                ("monthly", models.BooleanField(default=False)),
                ("period_start", models.DateField()),
                ("actual", scoring.models.NumberArrayField(null=True)),
                ("target", scoring.models.NumberArrayField(null=True)),
                ("base", scoring.models.NumberArrayField(null=True)),
                ("completion", scoring.models.NumberArrayField(null=True)),
                ("points", scoring.models.NumberArrayField(null=True)),
                ("reference", scoring.models.NumberArrayField(null=True)),
                ("total_points", models.DecimalField(decimal_places=4, max_digits=14, null=True)),
                ("base_points", models.DecimalField(decimal_places=4, max_digits=14, null=True)),
                ("bonus_points", models.DecimalField(decimal_places=4, max_digits=14, null=True)),
                ("met_all_targets", models.BooleanField(null=True)),
            ],
        ),
        migrations.AlterModelOptions(name="metricresult", options={"managed": False}),
        migrations.AlterModelOptions(name="rulescore", options={"managed": False}),
        migrations.AlterModelOptions(name="participantresult", options={"managed": False}),
        migrations.RunPython(to_views, migrations.RunPython.noop),
    ]
