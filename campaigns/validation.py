"""Every check on a campaign's configuration, in one place.

The planner's forms, the campaign file and the API call these (model ``clean()`` does), so an
error reads the same everywhere. Each raises ``ValidationError`` keyed by the offending field.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from branches.models import SubjectKind


def validate_campaign(campaign) -> None:
    """Dates ordered, total points positive, options a mapping."""
    errors = {}
    if campaign.start_date and campaign.end_date and campaign.end_date < campaign.start_date:
        errors["end_date"] = _("The end date must not be before the start date.")
    if campaign.total_points is not None and campaign.total_points <= 0:
        errors["total_points"] = _("The total points must be greater than 0.")
    if not isinstance(campaign.options, dict):
        errors["options"] = _("The options must be a mapping of setting to value.")
    if errors:
        raise ValidationError(errors)


def validate_phase(phase) -> None:
    """A phase lies inside its campaign; its share of the target is between 0 and 1."""
    errors = {}
    campaign = phase.campaign
    if phase.start_date and phase.end_date and phase.end_date < phase.start_date:
        errors["end_date"] = _("The end date must not be before the start date.")
    if phase.start_date and phase.start_date < campaign.start_date:
        errors["start_date"] = _("A phase must start inside its campaign (from %(date)s).") % {"date": campaign.start_date}
    if phase.end_date and phase.end_date > campaign.end_date:
        errors["end_date"] = _("A phase must end inside its campaign (by %(date)s).") % {"date": campaign.end_date}
    if phase.target_share is not None and not (Decimal(0) <= phase.target_share <= Decimal(1)):
        errors["target_share"] = _("The share of the target must be between 0 and 1.")
    if errors:
        raise ValidationError(errors)


def validate_participant(participant) -> None:
    """The subject matches the campaign's level and the fact key; joining precedes leaving."""
    errors = {}
    campaign = participant.campaign
    if campaign.subject_kind is not None and campaign.subject_kind != participant.subject_kind:
        errors["subject_kind"] = _("This campaign's participants are %(level)s.") % {
            "level": campaign.get_participant_level_display()
        }
    if participant.subject_kind == SubjectKind.UNIT and participant.unit_id != participant.subject_id:
        errors["unit"] = _("A unit participant needs its unit, and subject id equal to the unit's id.")
    if participant.subject_kind == SubjectKind.STAFF and participant.staff_id != participant.subject_id:
        errors["staff"] = _("A staff participant needs its staff member, and subject id equal to the staff id.")
    if participant.joined_on and participant.left_on and participant.left_on < participant.joined_on:
        errors["left_on"] = _("A participant cannot leave before joining.")
    if errors:
        raise ValidationError(errors)


def validate_metric(metric) -> None:
    """A ratio scores a ratio of sums; other figures need terms, a ratio a numerator and a denominator.

    Components are checked only once the metric is saved (they hang off it).
    """
    from campaigns.models import ComponentRole, Figure, MetricKind

    errors = {}
    if metric.kind == MetricKind.RATIO and metric.figure not in (Figure.RATIO_OF_SUMS, Figure.AS_DELIVERED):
        errors["figure"] = _("A ratio metric scores a ratio of sums or a delivered rate.")
    if metric.figure == Figure.RATIO_OF_SUMS and metric.kind != MetricKind.RATIO:
        errors["kind"] = _("A ratio of sums needs the metric kind 'ratio'.")
    if metric.pk:
        roles = set(metric.components.values_list("role", flat=True))
        if metric.figure == Figure.RATIO_OF_SUMS:
            if not {ComponentRole.NUMERATOR, ComponentRole.DENOMINATOR} <= roles:
                errors["components"] = _("A ratio of sums needs a numerator and a denominator indicator.")
        elif ComponentRole.TERM not in roles:
            errors["components"] = _("The metric needs at least one indicator.")
    if errors:
        raise ValidationError(errors)


def validate_target(target) -> None:
    """The period key is complete, the month lies in the campaign; target not negative."""
    from campaigns.models import TargetPeriod

    errors = {}
    campaign = target.campaign
    if target.period == TargetPeriod.PHASE and not target.phase_id:
        errors["phase"] = _("A phase target needs its phase.")
    if target.period == TargetPeriod.MONTH:
        if not target.month:
            errors["month"] = _("A month target needs its month.")
        elif not (campaign.start_date.replace(day=1) <= target.month <= campaign.end_date):
            errors["month"] = _("The month must lie inside the campaign.")
    if target.target_value is not None and target.target_value < 0:
        errors["target_value"] = _("A target cannot be negative.")
    if target.participant_id and target.participant.campaign_id != target.campaign_id:
        errors["participant"] = _("The participant belongs to another campaign.")
    if target.metric_id and target.metric.campaign_id != target.campaign_id:
        errors["metric"] = _("The metric belongs to another campaign.")
    if errors:
        raise ValidationError(errors)


def validate_for_publish(campaign) -> None:
    """Everything a campaign needs before it goes live; raises ValidationError naming the field.

    The scheme's base points (top-level, non-bonus rules) must add up to ``total_points``.
    """
    from scoring.validation import check_weights

    errors = {}
    if not campaign.participants.exists():
        errors["participants"] = _("The campaign has no participants.")
    if not campaign.metrics.exists():
        errors["metrics"] = _("The campaign has no metrics.")
    weight_error = check_weights(campaign)
    if weight_error:
        errors["rules"] = weight_error
    if errors:
        raise ValidationError(errors)


PARTICIPANT_FILTER_KEYS = ("level", "unit_kinds", "categories")


def validate_participant_filter(value, *, field: str = "participants") -> dict:
    """A filter on participants for a ranking or a rule: ``{"level": "unit"|"staff", "unit_kinds": [...],
    "categories": [...]}`` (every key optional; empty = everybody). Returns it; ValidationError keyed by ``field``.

    ``unit_kinds`` and ``categories`` match the participant's unit (``Unit.kind``, ``Unit.category``),
    so a staff participant never matches them.
    """
    from branches.models import UnitKind

    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError({field: _("The participant filter must be a mapping such as {\"level\": \"unit\"}.")})
    unknown = sorted(set(value) - set(PARTICIPANT_FILTER_KEYS))
    if unknown:
        raise ValidationError({field: _("Unknown key(s) in the participant filter: %(names)s.") % {"names": ", ".join(unknown)}})
    if "level" in value and value["level"] not in ("unit", "staff"):
        raise ValidationError({field: _("The participant filter's level must be 'unit' or 'staff'.")})
    for key in ("unit_kinds", "categories"):
        items = value.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise ValidationError({field: _("'%(key)s' in the participant filter must be a list of names.") % {"key": key}})
    bad = sorted(set(value.get("unit_kinds", [])) - set(UnitKind.values))
    if bad:
        raise ValidationError({field: _("Unknown unit kind(s): %(names)s.") % {"names": ", ".join(bad)}})
    return value
