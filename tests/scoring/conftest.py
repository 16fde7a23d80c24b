"""Builders for small campaigns: a dozen branches, a few indicators, figures a reader can check by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches import services as org
from branches.models import Fact, Indicator, IndicatorKind, Staff, SubjectKind, UnitKind
from campaigns.models import (
    Campaign,
    ComponentRole,
    Figure,
    Group,
    GroupMembership,
    GroupSet,
    Metric,
    MetricComponent,
    MetricKind,
    Participant,
    Target,
    TargetPeriod,
)
from scoring.models import ScoringRule

START = datetime.date(2027, 1, 1)
END = datetime.date(2027, 3, 31)
D = Decimal


class Builder:
    """Small, explicit steps; every figure is given by the test that uses it."""

    def __init__(self):
        self.ho = org.create_unit(code="HO", name="县联社", kind=UnitKind.HEAD_OFFICE)
        self.regions = {
            "R1": org.create_unit(code="R1", name="东片区", kind=UnitKind.REGION, parent=self.ho),
            "R2": org.create_unit(code="R2", name="西片区", kind=UnitKind.REGION, parent=self.ho),
        }
        self.units = {}
        self.staff = {}
        self.participants = {}
        self.indicators = {}
        self.metrics = {}
        self.campaign = Campaign.objects.create(code="Q1", name="开门红", start_date=START, end_date=END, status="active")

    def branches(self, *codes, region="R1", kind=UnitKind.BRANCH, category=""):
        for code in codes:
            unit = org.create_unit(code=code, name=f"{code}社", kind=kind, parent=self.regions[region], category=category)
            self.units[code] = unit
            self.participants[code] = Participant.objects.create(
                campaign=self.campaign, subject_kind=SubjectKind.UNIT, subject_id=unit.pk, unit=unit
            )
        return self

    def people(self, *codes, unit):
        """Staff members of ``unit`` taking part (the campaign must be of level staff or mixed)."""
        for code in codes:
            person = Staff.objects.create(employee_no=code, name=code, unit=self.units[unit])
            self.staff[code] = person
            participant = Participant(campaign=self.campaign, subject_kind=SubjectKind.STAFF, subject_id=person.pk, staff=person)
            participant.full_clean()
            participant.save()
            self.participants[code] = participant
        return self

    def indicator(self, code, kind=IndicatorKind.BALANCE):
        if code not in self.indicators:
            self.indicators[code] = Indicator.objects.create(code=code, name=code, kind=kind)
        return self.indicators[code]

    def metric(self, code, figure=Figure.VALUE_AT_DATE, terms=None, numerator=None, denominator=None, kind=None):
        kind = kind or (MetricKind.RATIO if figure == Figure.RATIO_OF_SUMS else MetricKind.BALANCE)
        metric = Metric.objects.create(campaign=self.campaign, code=code, name=code, figure=figure, kind=kind)
        for term in terms or ([] if numerator else [code]):
            sign = -1 if term.startswith("-") else 1
            MetricComponent.objects.create(metric=metric, indicator=self.indicator(term.lstrip("-")), sign=sign)
        if numerator:
            MetricComponent.objects.create(metric=metric, indicator=self.indicator(numerator), role=ComponentRole.NUMERATOR)
            MetricComponent.objects.create(metric=metric, indicator=self.indicator(denominator), role=ComponentRole.DENOMINATOR)
        self.metrics[code] = metric
        return metric

    def fact(self, indicator, unit, day, value):
        """A figure of a unit, or of a staff member when ``unit`` is an employee number given to ``people``."""
        kind, subject = (SubjectKind.STAFF, self.staff[unit]) if unit in self.staff else (SubjectKind.UNIT, self.units[unit])
        Fact.objects.update_or_create(
            indicator=self.indicator(indicator), subject_kind=kind, subject_id=subject.pk,
            business_date=day, defaults={"value": D(value)},
        )

    def facts(self, indicator, day, **values):
        for unit, value in values.items():
            self.fact(indicator, unit, day, value)

    def target(self, metric, unit, value, base=None, period=TargetPeriod.CAMPAIGN, month=None, phase=None):
        return Target.objects.create(
            campaign=self.campaign, participant=self.participants[unit], metric=self.metrics[metric],
            target_value=D(value), base_value=None if base is None else D(base), period=period, month=month, phase=phase,
        )

    def rule(self, code, kind, metric, points, parent=None, **fields):
        params = fields.pop("params", {})
        rule = ScoringRule(
            campaign=self.campaign, code=code, name=code, kind=kind,
            metric=self.metrics.get(metric) if metric else None, points=D(points), parent=parent, params=params, **fields,
        )
        rule.full_clean()
        rule.save()
        return rule

    def groups(self, code, **members):
        group_set = GroupSet.objects.create(campaign=self.campaign, code=code, name=code)
        for group_code, units in members.items():
            group = Group.objects.create(group_set=group_set, code=group_code, name=group_code)
            for unit in units:
                GroupMembership.objects.create(group=group, participant=self.participants[unit])
        return group_set


@pytest.fixture
def build(db):
    return Builder()
