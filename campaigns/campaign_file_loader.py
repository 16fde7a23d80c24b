"""Loading a campaign file: every object checked with the planner's own validation, created in
order (campaign, groups, metrics, participants, rules, rankings, targets, other apps' sections),
each error collected with its place in the file. Called by ``campaign_file.import_campaign``,
which owns the transaction: any error rolls everything back.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from branches.models import Indicator, Staff, SubjectKind, Unit
from campaigns.campaign_file import _SECTIONS, collect, load_plain
from campaigns.models import (
    Campaign,
    Group,
    GroupMembership,
    GroupSet,
    Metric,
    MetricComponent,
    Participant,
    Phase,
    Target,
    TargetPeriod,
)
from scoring.models import Gate, ParticipantFlag, Ranking, ScoringRule


class Loader:
    """Builds one campaign from a parsed file, collecting errors instead of stopping at the first."""

    def __init__(self, doc: dict, errors: list):
        self.doc = doc
        self.errors = errors

    def items(self, key: str) -> list:
        value = self.doc.get(key) or []
        if not isinstance(value, list):
            self.errors.append((key, _("expected a list")))
            return []
        return value

    def load(self, *, code: str | None, name: str | None) -> Campaign | None:
        campaign = self.campaign(code, name)
        if campaign is None:
            return None
        self.phases = {p.code: p for p in self.load_phases(campaign)}
        self.load_indicators()
        self.groups = self.load_group_sets(campaign)
        self.metrics = self.load_metrics(campaign)
        self.participants = self.load_participants(campaign)
        self.rules = self.load_rules(campaign)
        self.rankings = self.load_rankings(campaign)
        self.load_gates(campaign)
        self.load_targets(campaign)
        for section in _SECTIONS.values():
            section.load(campaign, self.items(section.key), self.errors)
        return campaign

    def campaign(self, code, name) -> Campaign | None:
        data = dict(self.doc.get("campaign") or {})
        if code:
            data["code"] = code
        if name:
            data["name"] = name
        values = load_plain(Campaign, data, "campaign", self.errors, set())
        campaign = Campaign(**values)
        if not collect(self.errors, "campaign", campaign):
            return None
        if Campaign.objects.filter(code=campaign.code).exists():
            self.errors.append(("campaign.code", _("a campaign with code %(code)s already exists") % {"code": campaign.code}))
            return None
        campaign.save()
        return campaign

    def load_phases(self, campaign):
        phases = []
        for index, data in enumerate(self.items("phases")):
            place = f"phases[{index}]"
            phase = Phase(campaign=campaign, **load_plain(Phase, data, place, self.errors, set()))
            if collect(self.errors, place, phase, exclude=["campaign"]):
                phase.save()
                phases.append(phase)
        return phases

    def load_indicators(self):
        """Indicators belong to the bank: create missing ones, never change existing ones."""
        for index, data in enumerate(self.items("indicators")):
            place = f"indicators[{index}]"
            values = load_plain(Indicator, data, place, self.errors, set())
            if "code" not in values:
                self.errors.append((f"{place}.code", _("required")))
                continue
            if Indicator.objects.filter(code=values["code"]).exists():
                continue
            indicator = Indicator(**values)
            if collect(self.errors, place, indicator):
                indicator.save()

    def load_group_sets(self, campaign) -> dict[tuple[str, str], Group]:
        groups = {}
        self.group_sets = {}
        for index, data in enumerate(self.items("group_sets")):
            place = f"group_sets[{index}]"
            group_set = GroupSet(campaign=campaign, **load_plain(GroupSet, data, place, self.errors, {"groups", "derive"}))
            if not collect(self.errors, place, group_set, exclude=["campaign"]):
                continue
            group_set.save()
            self.group_sets[group_set.code] = (group_set, data.get("derive"))
            for g_index, g_data in enumerate(data.get("groups") or []):
                g_place = f"{place}.groups[{g_index}]"
                group = Group(group_set=group_set, **load_plain(Group, g_data, g_place, self.errors, set()))
                if collect(self.errors, g_place, group, exclude=["group_set"]):
                    group.save()
                    groups[(group_set.code, group.code)] = group
        return groups

    def load_metrics(self, campaign) -> dict[str, Metric]:
        metrics = {}
        indicators = dict(Indicator.objects.values_list("code", "id"))
        for index, data in enumerate(self.items("metrics")):
            place = f"metrics[{index}]"
            metric = Metric(campaign=campaign, **load_plain(Metric, data, place, self.errors, {"components"}))
            if not collect(self.errors, place, metric, exclude=["campaign"]):
                continue
            metric.save()
            for c_index, comp in enumerate(data.get("components") or []):
                c_place = f"{place}.components[{c_index}]"
                code = (comp or {}).get("indicator")
                if code not in indicators:
                    self.errors.append((f"{c_place}.indicator", _("unknown indicator %(code)s") % {"code": code}))
                    continue
                component = MetricComponent(
                    metric=metric, indicator_id=indicators[code], sign=comp.get("sign", 1), role=comp.get("role", "term")
                )
                if collect(self.errors, c_place, component, exclude=["metric", "indicator"]):
                    component.save()
            collect(self.errors, place, metric, exclude=["campaign"])  # components checked now they exist
            metrics[metric.code] = metric
        return metrics

    def load_participants(self, campaign) -> dict[str, Participant]:
        """Participants listed one by one, or selected: ``{select: {under: HO, kinds: [branch], category: …}}``."""
        entries = []
        for index, data in enumerate(self.items("participants")):
            place = f"participants[{index}]"
            if isinstance(data, dict) and "select" in data:
                entries.extend(self.select_units(campaign, data["select"], place))
            else:
                entries.append((place, data))
        units = {u.code: u for u in Unit.objects.filter(code__in=[d.get("unit") for _p, d in entries if isinstance(d, dict)])}
        staff = {
            s.employee_no: s for s in Staff.objects.filter(employee_no__in=[d.get("staff") for _p, d in entries if isinstance(d, dict)])
        }
        participants: dict[str, Participant] = {}
        flags, memberships = [], []
        for place, data in entries:
            if not isinstance(data, dict):
                self.errors.append((place, _("expected a mapping")))
                continue
            values = load_plain(Participant, data, place, self.errors, {"unit", "staff", "groups", "flags"})
            if data.get("unit"):
                unit = units.get(data["unit"])
                if unit is None:
                    self.errors.append((f"{place}.unit", _("unknown unit code %(code)s") % {"code": data["unit"]}))
                    continue
                participant = Participant(campaign=campaign, subject_kind=SubjectKind.UNIT, subject_id=unit.pk, unit=unit, **values)
                code = unit.code
            elif data.get("staff"):
                person = staff.get(data["staff"])
                if person is None:
                    self.errors.append((f"{place}.staff", _("unknown employee number %(code)s") % {"code": data["staff"]}))
                    continue
                participant = Participant(
                    campaign=campaign, subject_kind=SubjectKind.STAFF, subject_id=person.pk, staff=person, **values
                )
                code = person.employee_no
            else:
                self.errors.append((place, _("a participant needs 'unit' or 'staff'")))
                continue
            if code in participants:
                self.errors.append((place, _("%(code)s is listed twice") % {"code": code}))
                continue
            if not collect(self.errors, place, participant, exclude=["campaign", "unit", "staff"]):
                continue
            participants[code] = participant
            memberships.append((place, participant, data.get("groups") or {}))
            flags.extend((place, participant, flag) for flag in data.get("flags") or [])
        Participant.objects.bulk_create(participants.values(), batch_size=2000)
        self.save_memberships(memberships)
        ParticipantFlag.objects.bulk_create(
            ParticipantFlag(campaign=campaign, participant=p, code=flag) for _place, p, flag in flags
        )
        return participants

    def select_units(self, campaign, select: dict, place: str) -> list[tuple[str, dict]]:
        under_code = (select or {}).get("under")
        under = Unit.objects.filter(code=under_code).first()
        if under is None:
            self.errors.append((f"{place}.select.under", _("unknown unit code %(code)s") % {"code": under_code}))
            return []
        units = Unit.objects.filter(path__startswith=under.path).order_by("path")
        if select.get("kinds"):
            units = units.filter(kind__in=select["kinds"])
        if select.get("category"):
            units = units.filter(category=select["category"])
        active_on = datetime.date.fromisoformat(str(self.doc["campaign"]["start_date"]))
        units = units.filter(active_from__lte=campaign.end_date).exclude(active_to__lt=active_on)
        return [(f"{place}[{unit.code}]", {"unit": unit.code}) for unit in units]

    def save_memberships(self, memberships):
        """Explicit ``groups: {set: group}`` per participant, else the set's ``derive`` rule."""
        rows = []
        for set_code, (group_set, derive) in self.group_sets.items():
            for place, participant, explicit in memberships:
                group_code = explicit.get(set_code) or self.derived_group(participant, derive)
                if group_code is None:
                    continue
                group = self.groups.get((set_code, group_code))
                if group is None and derive and not explicit.get(set_code):
                    group = self.derived_group_object(group_set, participant, derive, group_code)
                if group is None:
                    self.errors.append((f"{place}.groups.{set_code}", _("unknown group %(code)s") % {"code": group_code}))
                    continue
                rows.append(GroupMembership(group_set=group_set, group=group, participant=participant))
        for place, _participant, explicit in memberships:
            for set_code in explicit:
                if set_code not in self.group_sets:
                    self.errors.append((f"{place}.groups.{set_code}", _("unknown group set")))
        GroupMembership.objects.bulk_create(rows, batch_size=2000)

    @staticmethod
    def subject_unit(participant) -> Unit | None:
        return participant.unit if participant.unit_id else (participant.staff.unit if participant.staff_id else None)

    def derived_group(self, participant, derive) -> str | None:
        """``derive: region`` groups by the ancestor region; ``derive: category`` by the unit's category."""
        unit = self.subject_unit(participant)
        if unit is None or not derive:
            return None
        if derive == "category":
            return unit.category or None
        if derive == "region":
            codes = [c for c in unit.path.strip("/").split("/")]
            return codes[1] if len(codes) > 1 else None
        if derive == "branch":
            codes = [c for c in unit.path.strip("/").split("/")]
            return codes[2] if len(codes) > 2 else None
        return None

    def derived_group_object(self, group_set, participant, derive, group_code) -> Group:
        """A derived group that the file did not list is created, named after the unit or category."""
        name = group_code
        if derive in ("region", "branch"):
            name = Unit.objects.filter(code=group_code).values_list("name", flat=True).first() or group_code
        group = Group.objects.create(group_set=group_set, code=group_code.replace(" ", "_"), name=name)
        self.groups[(group_set.code, group_code)] = group
        return group

    def load_rules(self, campaign) -> dict[str, ScoringRule]:
        rules: dict[str, ScoringRule] = {}
        for index, data in enumerate(self.items("rules")):
            place = f"rules[{index}]"
            values = load_plain(ScoringRule, data, place, self.errors, {"metric", "parent", "group_set", "params"})
            rule = ScoringRule(campaign=campaign, params=data.get("params") or {}, **values)
            if not self.link(rule, data, place, metric=True, parent=rules, group_set=True):
                continue
            if collect(self.errors, place, rule, exclude=["campaign"]):
                rule.save()
                rules[rule.code] = rule
        return rules

    def link(self, obj, data, place, *, metric=False, per_metric=False, parent=None, group_set=False, rule=False) -> bool:
        ok = True
        lookups = []
        if metric:
            lookups.append(("metric", self.metrics))
        if per_metric:
            lookups.append(("per_metric", self.metrics))
        if parent is not None:
            lookups.append(("parent", parent))
        if group_set:
            lookups.append(("group_set", {code: gs for code, (gs, _d) in self.group_sets.items()}))
        if rule:
            lookups.append(("rule", self.rules))
        for key, known in lookups:
            code = data.get(key)
            if code in (None, ""):
                continue
            if code not in known:
                self.errors.append((f"{place}.{key}", _("unknown code %(code)s") % {"code": code}))
                ok = False
                continue
            setattr(obj, key, known[code])
        return ok

    def load_rankings(self, campaign) -> dict[str, Ranking]:
        rankings = {}
        for index, data in enumerate(self.items("rankings")):
            place = f"rankings[{index}]"
            values = load_plain(Ranking, data, place, self.errors, {"metric", "rule", "group_set"})
            ranking = Ranking(campaign=campaign, **values)
            if not self.link(ranking, data, place, metric=True, group_set=True, rule=True):
                continue
            if collect(self.errors, place, ranking, exclude=["campaign"]):
                ranking.save()
                rankings[ranking.code] = ranking
        return rankings

    def load_gates(self, campaign) -> None:
        for index, data in enumerate(self.items("gates")):
            place = f"gates[{index}]"
            values = load_plain(Gate, data, place, self.errors, {"metric", "per_metric", "rankings"})
            gate = Gate(campaign=campaign, **values)
            if not self.link(gate, data, place, metric=True, per_metric=True):
                continue
            if not collect(self.errors, place, gate, exclude=["campaign"]):
                continue
            gate.save()
            codes = data.get("rankings") or []
            unknown = [c for c in codes if c not in self.rankings]
            if unknown:
                self.errors.append((f"{place}.rankings", _("unknown ranking(s) %(codes)s") % {"codes": ", ".join(unknown)}))
            gate.rankings.set([self.rankings[c] for c in codes if c in self.rankings])

    def load_targets(self, campaign) -> None:
        rows = []
        for index, data in enumerate(self.items("targets")):
            place = f"targets[{index}]"
            if not isinstance(data, dict):
                self.errors.append((place, _("expected a mapping")))
                continue
            participant = self.participants.get(str(data.get("participant")))
            metric = self.metrics.get(data.get("metric"))
            if participant is None:
                self.errors.append((f"{place}.participant", _("not a participant: %(code)s") % {"code": data.get("participant")}))
            if metric is None:
                self.errors.append((f"{place}.metric", _("unknown metric %(code)s") % {"code": data.get("metric")}))
            if participant is None or metric is None:
                continue
            target = Target(campaign=campaign, participant=participant, metric=metric, period=data.get("period", TargetPeriod.CAMPAIGN))
            try:
                target.target_value = Decimal(str(data["target"]))
                target.base_value = Decimal(str(data["base"])) if data.get("base") not in (None, "") else None
            except (KeyError, ArithmeticError, ValueError):
                self.errors.append((f"{place}.target", _("a number is required")))
                continue
            if data.get("phase"):
                target.phase = self.phases.get(data["phase"])
                if target.phase is None:
                    self.errors.append((f"{place}.phase", _("unknown phase %(code)s") % {"code": data["phase"]}))
                    continue
            if data.get("month"):
                try:
                    year, month = (int(x) for x in str(data["month"]).split("-")[:2])
                    target.month = datetime.date(year, month, 1)
                except ValueError:
                    self.errors.append((f"{place}.month", _("expected a month as YYYY-MM")))
                    continue
            if not collect(self.errors, place, target, exclude=["campaign", "participant", "metric", "period_start"]):
                continue
            target.period_start = target.compute_period_start()
            rows.append(target)
        keys = [(t.participant.pk, t.metric.pk, t.period, t.period_start) for t in rows]
        if len(set(keys)) != len(keys):
            self.errors.append(("targets", _("the same participant, metric and period appear twice")))
            return
        Target.objects.bulk_create(rows, batch_size=2000)
