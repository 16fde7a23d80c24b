"""recompute(): versions, idempotence, atomic replacement, closed campaigns, queued recomputes, the command."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campaigns.services import close_campaign
from scoring import engine
from scoring.engine import CampaignClosed, recompute
from scoring.models import MetricResult, RankEntry, Ranking, ResultSet, RuleScore
from scoring.selectors import current_result_set, results_changed_since
from scoring.services import affected_campaign_days, queue_recomputes_for_changed_facts
from tests.scoring.conftest import D
from tests.scoring.helpers import rule_points, totals

DAY = datetime.date(2027, 1, 10)


@pytest.fixture
def campaign(build):
    build.branches("B1", "B2")
    build.metric("dep", figure="increase_over_base")
    build.facts("dep", DAY, B1=1050, B2=1100)
    build.target("dep", "B1", 100, base=1000)
    build.target("dep", "B2", 100, base=1000)
    build.rule("dep", "completion", "dep", 100)
    Ranking.objects.create(campaign=build.campaign, code="overall", name="overall")
    return build


def rows(result_set):
    return (
        sorted(RuleScore.objects.filter(result_set_id=result_set.pk).values_list("participant_id", "rule_id", "points")),
        sorted(RankEntry.objects.filter(result_set_id=result_set.pk).values_list("participant_id", "rank", "value")),
    )


def test_recompute_is_idempotent(campaign):
    first = recompute(campaign.campaign.pk, DAY)
    first_rows = rows(first)
    second = recompute(campaign.campaign.pk, DAY)
    assert rows(second) == first_rows
    assert (first.version, second.version) == (1, 2)
    assert list(ResultSet.objects.filter(is_current=True).values_list("pk", flat=True)) == [second.pk]


def test_recompute_picks_up_a_corrected_figure(campaign):
    recompute(campaign.campaign.pk, DAY)
    campaign.fact("dep", "B1", DAY, 1080)
    assert totals(campaign, recompute(campaign.campaign.pk, DAY)) == {"B1": D("80"), "B2": D("100")}


def test_recompute_replaces_day_atomically_on_failure(campaign, monkeypatch):
    good = recompute(campaign.campaign.pk, DAY)
    campaign.fact("dep", "B1", DAY, 1090)

    def broken(run, ranking):
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine, "compute_ranking", broken)
    with pytest.raises(RuntimeError):
        recompute(campaign.campaign.pk, DAY)
    current = current_result_set(campaign.campaign.pk, DAY)
    assert current.pk == good.pk and current.version == 1
    assert totals(campaign, current) == {"B1": D("50"), "B2": D("100")}
    assert ResultSet.objects.count() == 1
    assert not MetricResult.objects.exclude(result_set_id=good.pk).exists()


def test_old_versions_are_dropped_keeping_the_previous_one(campaign):
    for _ in range(4):
        last = recompute(campaign.campaign.pk, DAY)
    assert sorted(ResultSet.objects.values_list("version", flat=True)) == [3, 4]
    assert not RuleScore.objects.exclude(result_set_id__in=ResultSet.objects.values("pk")).exists()
    assert last.version == 4


def test_polling_sees_a_new_version(campaign):
    first = recompute(campaign.campaign.pk, DAY)
    assert not results_changed_since(campaign.campaign.pk, DAY, first.version)
    recompute(campaign.campaign.pk, DAY)
    assert results_changed_since(campaign.campaign.pk, DAY, first.version)


def test_closed_campaign_results_do_not_change(campaign):
    before = recompute(campaign.campaign.pk, DAY)
    close_campaign(campaign.campaign)
    campaign.fact("dep", "B1", DAY, 1099)
    with pytest.raises(CampaignClosed):
        recompute(campaign.campaign.pk, DAY)
    assert current_result_set(campaign.campaign.pk, DAY).pk == before.pk
    assert rule_points(campaign, before, campaign.campaign.rules.get())["B1"] == D("50")


def test_participant_who_left_is_not_scored_after_leaving(campaign):
    p = campaign.participants["B2"]
    p.left_on = DAY - datetime.timedelta(days=1)
    p.save()
    assert set(totals(campaign, recompute(campaign.campaign.pk, DAY))) == {"B1"}


def test_participant_who_joins_mid_way_is_scored_from_the_day_they_join(campaign):
    p = campaign.participants["B2"]
    p.joined_on = DAY
    p.save()
    assert set(totals(campaign, recompute(campaign.campaign.pk, DAY - datetime.timedelta(days=1)))) == {"B1"}
    # from its first day on, it is scored on its own figures over the whole period (B2: 1,100 − 1,000 base)
    assert totals(campaign, recompute(campaign.campaign.pk, DAY)) == {"B1": D("50"), "B2": D("100")}


def test_late_correction_affects_that_day_and_every_later_day_to_today(campaign):
    indicator = campaign.indicators["dep"]
    days = affected_campaign_days([(indicator.pk, datetime.date(2027, 1, 8))], today=DAY)
    assert days == [(campaign.campaign.pk, datetime.date(2027, 1, d)) for d in (8, 9, 10)]


def test_changes_to_unused_indicators_affect_nothing(campaign):
    other = campaign.indicator("other")
    assert affected_campaign_days([(other.pk, DAY)], today=DAY) == []


def test_queue_recomputes_runs_the_affected_days(campaign, django_capture_on_commit_callbacks):
    indicator = campaign.indicators["dep"]
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue_recomputes_for_changed_facts([(indicator.pk, DAY)], today=DAY)
    assert queued == [(campaign.campaign.pk, DAY)]
    # eager mode (no REDIS_URL) runs it at once; with Redis a worker would
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert current_result_set(campaign.campaign.pk, DAY) is not None


def test_recompute_task_returns_the_version(campaign):
    from scoring.tasks import recompute_campaign_day

    result = recompute_campaign_day.apply(args=(campaign.campaign.pk, DAY.isoformat())).get()
    assert result["version"] == 1


def test_recompute_command_for_a_date_and_all_days(campaign):
    out = StringIO()
    call_command("recompute", "Q1", "--date", DAY.isoformat(), stdout=out)
    assert "version 1" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("recompute", "NOPE", "--date", DAY.isoformat())


def test_recompute_command_all_days_covers_start_to_end_of_a_past_campaign(campaign):
    from campaigns.models import Campaign

    Campaign.objects.filter(pk=campaign.campaign.pk).update(
        start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2020, 1, 3)
    )
    out = StringIO()
    call_command("recompute", "Q1", "--all-days", stdout=out)
    assert out.getvalue().count("version 1") == 3


def test_morning_recompute_is_due_after_the_campaigns_time_for_yesterday(campaign):
    from django.utils import timezone

    from scoring.tasks import due_campaign_days

    tz = timezone.get_current_timezone()
    before = datetime.datetime(2027, 1, 11, 7, 29, tzinfo=tz)
    after = datetime.datetime(2027, 1, 11, 7, 31, tzinfo=tz)
    assert due_campaign_days(before) == []
    assert due_campaign_days(after) == [(campaign.campaign.pk, DAY)]


def test_morning_recompute_not_due_once_computed_after_the_time(campaign):
    from django.utils import timezone

    from scoring.tasks import due_campaign_days

    tz = timezone.get_current_timezone()
    result_set = recompute(campaign.campaign.pk, DAY)
    ResultSet.objects.filter(pk=result_set.pk).update(computed_at=datetime.datetime(2027, 1, 11, 7, 35, tzinfo=tz))
    assert due_campaign_days(datetime.datetime(2027, 1, 11, 8, 0, tzinfo=tz)) == []


def test_recompute_task_schedules_a_retry_on_a_database_error(campaign, monkeypatch):
    from celery.exceptions import Retry
    from django.db import OperationalError

    from scoring.tasks import recompute_campaign_day

    def down(campaign_id, day):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine, "recompute", down)
    with pytest.raises(Retry) as retry:
        recompute_campaign_day.apply(args=(campaign.campaign.pk, DAY.isoformat()), throw=True)
    assert isinstance(retry.value.exc, OperationalError)
    assert current_result_set(campaign.campaign.pk, DAY) is None


def test_board_and_participant_reads_take_a_constant_number_of_queries(campaign, django_assert_max_num_queries):
    from scoring.selectors import leaderboard, participant_scores

    recompute(campaign.campaign.pk, DAY)
    with django_assert_max_num_queries(5):
        leaderboard(campaign.campaign.pk, DAY, "overall")
    with django_assert_max_num_queries(10):
        participant_scores(campaign.campaign.pk, DAY, campaign.participants["B1"].pk)


def test_recompute_inside_a_callers_transaction_leaves_its_planner_settings(campaign):
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    with transaction.atomic(), connection.cursor() as cursor:
        recompute(campaign.campaign.pk, DAY)
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == "on"


def test_a_changed_target_recomputes_every_computed_day_of_its_period(campaign, queued_recomputes, django_capture_on_commit_callbacks):
    from campaigns.models import Participant
    from campaigns.services import TargetValue, set_targets

    early = datetime.date(2027, 1, 5)
    for day in (early, DAY):
        recompute(campaign.campaign.pk, day)
    b1 = Participant.objects.get(campaign=campaign.campaign, unit__code="B1")
    with django_capture_on_commit_callbacks(execute=True):
        set_targets(campaign=campaign.campaign, targets=[TargetValue(b1, campaign.metrics["dep"], D("200"))])
    assert queued_recomputes == [(campaign.campaign.pk, "2027-01-05"), (campaign.campaign.pk, "2027-01-10")]
    # What the queued task computes: B1's 50 of increase now against 200.
    assert totals(campaign, recompute(campaign.campaign.pk, DAY)) == {"B1": D("25"), "B2": D("100")}


def test_a_month_target_recomputes_from_its_month_and_an_equal_one_nothing(campaign, queued_recomputes, django_capture_on_commit_callbacks):
    from campaigns.models import Participant, TargetPeriod
    from campaigns.services import TargetValue, set_targets

    february = datetime.date(2027, 2, 5)
    for day in (DAY, february):
        recompute(campaign.campaign.pk, day)
    b1 = Participant.objects.get(campaign=campaign.campaign, unit__code="B1")
    month = TargetValue(b1, campaign.metrics["dep"], D("40"), period=TargetPeriod.MONTH, month=datetime.date(2027, 2, 1))
    with django_capture_on_commit_callbacks(execute=True):
        set_targets(campaign=campaign.campaign, targets=[month])
    assert queued_recomputes == [(campaign.campaign.pk, "2027-02-05")]
    with django_capture_on_commit_callbacks(execute=True):
        set_targets(campaign=campaign.campaign, targets=[month])  # unchanged
    assert queued_recomputes == [(campaign.campaign.pk, "2027-02-05")]


def test_targets_of_a_closed_campaign_queue_nothing(campaign, queued_recomputes, django_capture_on_commit_callbacks):
    from scoring.services import queue_recomputes_for_changed_targets

    recompute(campaign.campaign.pk, DAY)
    close_campaign(campaign.campaign)
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_recomputes_for_changed_targets(campaign.campaign, campaign.campaign.targets.all()) == []
    assert queued_recomputes == []
