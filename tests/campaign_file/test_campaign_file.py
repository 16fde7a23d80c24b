"""The campaign file: one YAML document round-trips a campaign's whole configuration."""

import datetime
import textwrap

import pytest
from django.utils import translation

from campaigns.campaign_file import CampaignFileError, dump_yaml, export_campaign, import_campaign, parse_yaml
from campaigns.models import Campaign, GroupMembership, Target
from scoring.models import ParticipantFlag, Ranking, ScoringRule

SMALL_FILE = textwrap.dedent(
    """
    format: kaimenhong-campaign/1
    campaign:
      code: Q1-2027
      name: 2027年首季开门红
      start_date: 2027-01-01
      end_date: 2027-03-31
      participant_level: unit
      total_points: 100
      options: {single_metric_prize_needs_target: true}
    phases:
      - {code: january, name: 一月, start_date: 2027-01-01, end_date: 2027-01-31, target_share: "0.4"}
    indicators:
      - {code: DEP_BAL, name: 存款余额, measure: amount, kind: balance, unit_label: 万元}
      - {code: LOAN_DUE, name: 到期贷款, measure: amount, kind: flow}
      - {code: LOAN_COLL, name: 到期贷款收回, measure: amount, kind: flow}
    group_sets:
      - {code: region, name: 片区, kind: region, derive: region}
    metrics:
      - code: deposits
        name: 各项存款净增
        figure: increase_over_base
        display_unit: 万元
        components: [{indicator: DEP_BAL}]
      - code: collection
        name: 到期贷款收回率
        kind: ratio
        measure: rate
        figure: ratio_of_sums
        components: [{indicator: LOAN_COLL, role: numerator}, {indicator: LOAN_DUE, role: denominator}]
    participants:
      - {unit: B1, flags: [green]}
      - {unit: B2}
      - {unit: B3, joined_on: 2027-02-01}
    rules:
      - {code: dep, name: 存款, kind: completion, metric: deposits, points: 80, params: {cap: 1}}
      - {code: coll, name: 收回率, kind: threshold, metric: collection, points: 20, evaluation: monthly, params: {bar: "0.97"}}
    rankings:
      - {code: overall, name: 综合排名, top_n: 5, bottom_n: 3}
      - {code: by_region, name: 片区排名, group_set: region}
    gates:
      - {code: falsified, name: 弄虚作假, kind: flag, flag: falsified, rankings: [overall]}
    targets:
      - {participant: B1, metric: deposits, period: campaign, target: 5000000, base: 20000000}
      - {participant: B2, metric: deposits, period: campaign, target: 3000000}
      - {participant: B1, metric: deposits, period: month, month: 2027-01, target: 2000000}
    """
)


@pytest.fixture(autouse=True)
def in_english():
    """Messages are asserted in English here; the Chinese catalogue is checked in the last test."""
    with translation.override("en"):
        yield


@pytest.fixture
def loaded(small_bank):
    return import_campaign(SMALL_FILE)


def test_a_file_creates_the_whole_campaign(loaded):
    assert loaded.code == "Q1-2027"
    assert loaded.participants.count() == 3
    assert sorted(ScoringRule.objects.filter(campaign=loaded).values_list("code", flat=True)) == ["coll", "dep"]
    assert Target.objects.filter(campaign=loaded).count() == 3
    assert ParticipantFlag.objects.filter(campaign=loaded, code="green").count() == 1


def test_derived_region_groups_follow_the_organisation(loaded):
    membership = dict(
        GroupMembership.objects.filter(participant__campaign=loaded).values_list("participant__unit__code", "group__code")
    )
    assert membership == {"B1": "R1", "B2": "R1", "B3": "R2"}


def test_export_then_import_under_a_new_code_round_trips(loaded):
    first = export_campaign(loaded)
    copy = import_campaign(dump_yaml(loaded), code="Q1-2027-COPY")
    second = export_campaign(copy)
    first["campaign"].pop("code")
    second["campaign"].pop("code")
    assert first == second


def test_starting_from_last_years_campaign_shifts_every_date(loaded):
    next_year = import_campaign(dump_yaml(loaded), code="Q1-2028", start_date=datetime.date(2028, 1, 1))
    assert (next_year.start_date, next_year.end_date) == (datetime.date(2028, 1, 1), datetime.date(2028, 3, 31))
    assert next_year.phases.get().end_date == datetime.date(2028, 1, 31)
    assert next_year.participants.get(unit__code="B3").joined_on == datetime.date(2028, 2, 1)
    assert Target.objects.get(campaign=next_year, period="month").month == datetime.date(2028, 1, 1)


def test_errors_name_the_place_in_the_file_and_nothing_is_created(small_bank):
    broken = (
        SMALL_FILE.replace("metric: deposits, points: 80", "metric: deposit, points: 80")
        .replace("{unit: B2}", "{unit: B99}")
        .replace('bar: "0.97"', 'bar: "high"')
    )
    with pytest.raises(CampaignFileError) as err:
        import_campaign(broken)
    places = {place for place, _reason in err.value.errors}
    assert {"rules[0].metric", "participants[1].unit", "rules[1].params"} <= places
    assert not Campaign.objects.exists()


def test_an_unknown_field_is_refused_by_name(small_bank):
    with pytest.raises(CampaignFileError) as err:
        import_campaign(SMALL_FILE.replace("total_points: 100", "total_points: 100\n  colour: red"))
    assert ("campaign.colour", "unknown field") in err.value.errors


def test_a_file_that_is_not_yaml_says_which_line(db):
    with pytest.raises(CampaignFileError) as err:
        parse_yaml("campaign:\n  code: [unclosed\n")
    assert "line" in err.value.errors[0][0]


def test_a_duplicate_code_is_refused(loaded):
    with pytest.raises(CampaignFileError) as err:
        import_campaign(SMALL_FILE)
    assert err.value.errors[0][0] == "campaign.code"


def test_gates_keep_the_rankings_they_veto(loaded):
    gate = loaded.gates.get(code="falsified")
    assert list(gate.rankings.values_list("code", flat=True)) == ["overall"]
    assert Ranking.objects.get(campaign=loaded, code="by_region").group_set.code == "region"


def test_the_command_exports_and_imports_a_file(loaded, tmp_path, capsys):
    from django.core.management import call_command

    call_command("campaign_file", "export", "Q1-2027")
    path = tmp_path / "q1.yaml"
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    call_command("campaign_file", "import", str(path), "--code", "Q1-2028", "--start", "2028-01-01")
    assert Campaign.objects.get(code="Q1-2028").participants.count() == 3


def test_the_command_reports_every_problem(small_bank, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "bad.yaml"
    path.write_text(SMALL_FILE.replace("{unit: B2}", "{unit: B99}"), encoding="utf-8")
    with pytest.raises(CommandError) as err:
        call_command("campaign_file", "import", str(path))
    assert "participants[1].unit: unknown unit code B99" in str(err.value)


def test_on_yes_and_no_stay_words_in_a_campaign_file(db):
    doc = parse_yaml("format: x\nparams: {on: completion, mode: yes, flag: no, allow_negative: true}\n")
    assert doc["params"] == {"on": "completion", "mode": "yes", "flag": "no", "allow_negative": True}


def test_errors_are_in_chinese_for_a_chinese_planner(small_bank):
    with translation.override("zh-hans"), pytest.raises(CampaignFileError) as err:
        import_campaign(SMALL_FILE.replace("total_points: 100", "total_points: 100\n  colour: red"))
    assert ("campaign.colour", "未知字段") in err.value.errors
