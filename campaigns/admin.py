"""Admin pages for campaign configuration (labels come from the models' gettext verbose names)."""

from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

import campaigns.calendar_admin  # noqa: F401 - registers the bank calendar's admin
from campaigns import services
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
)


def _plain(value) -> str:
    return format(Decimal(value).normalize(), "f")


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


class MetricInline(admin.TabularInline):
    model = Metric
    extra = 0
    show_change_link = True
    fields = ["code", "name", "display_unit", "kind", "figure", "position"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "start_date", "end_date", "status", "participant_level", "published_at"]
    list_filter = ["status", "participant_level"]
    search_fields = ["code", "name", "name_en"]
    # The status moves only through the actions below (draft → active → closed → archived), each checked.
    readonly_fields = ["status", "published_at", "published_by", "created_at"]
    inlines = [PhaseInline, MetricInline]
    actions = ["publish", "close", "archive", "check_staff_targets"]

    def _step(self, request, queryset, step, done: str):
        for campaign in queryset:
            try:
                step(campaign, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{campaign.code}: {'; '.join(error.messages)}", level="error")
            else:
                self.message_user(request, done % {"code": campaign.code})

    @admin.action(description=_("Close the selected campaigns (their results no longer change)"))
    def close(self, request, queryset):
        self._step(request, queryset, services.close_campaign, _("%(code)s closed."))

    @admin.action(description=_("Archive the selected closed campaigns"))
    def archive(self, request, queryset):
        self._step(request, queryset, services.archive_campaign, _("%(code)s archived."))

    @admin.action(description=_("Check staff targets against their units' targets (a mixed campaign, or a staff and a unit campaign)"))
    def check_staff_targets(self, request, queryset):
        from campaigns.selectors import staff_target_mismatches

        campaigns = list(queryset)
        staff = [c for c in campaigns if c.participant_level in ("staff", "mixed")]
        units = [c for c in campaigns if c.participant_level in ("unit", "mixed")]
        if len(campaigns) == 1 and campaigns[0].participant_level == "mixed":
            pair = (campaigns[0], campaigns[0])
        elif len(campaigns) == 2 and len(staff) == 1 and len(units) == 1:
            pair = (staff[0], units[0])
        else:
            self.message_user(request, _("Select one mixed campaign, or one staff campaign and one unit campaign."), level="error")
            return
        mismatches = staff_target_mismatches(staff_campaign=pair[0], unit_campaign=pair[1])
        for m in mismatches:
            self.message_user(
                request,
                _("%(unit)s %(metric)s: the staff's targets add up to %(sum)s, the unit's target is %(target)s.") % {
                    "unit": m.unit_code, "metric": m.metric_code, "sum": _plain(m.staff_sum),
                    "target": "—" if m.unit_target is None else _plain(m.unit_target),
                },
                level="warning",
            )
        if not mismatches:
            self.message_user(request, _("Every unit's staff targets add up to its own target."))

    @admin.action(description=_("Publish the selected campaigns (checks the points add up)"))
    def publish(self, request, queryset):
        self._step(request, queryset, services.publish_campaign, _("%(code)s published."))


class MetricComponentInline(admin.TabularInline):
    model = MetricComponent
    extra = 0
    raw_id_fields = ["indicator"]


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "campaign", "kind", "figure", "display_unit"]
    list_filter = ["kind", "figure"]
    search_fields = ["code", "name"]
    inlines = [MetricComponentInline]
    list_select_related = ["campaign"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "subject_kind", "unit", "staff", "joined_on", "left_on"]
    list_filter = ["subject_kind"]
    search_fields = ["unit__code", "unit__name", "staff__employee_no", "staff__name"]
    raw_id_fields = ["campaign", "unit", "staff"]
    list_select_related = ["campaign", "unit", "staff"]


class GroupInline(admin.TabularInline):
    model = Group
    extra = 0


@admin.register(GroupSet)
class GroupSetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "campaign"]
    inlines = [GroupInline]


@admin.register(GroupMembership)
class GroupMembershipAdmin(admin.ModelAdmin):
    list_display = ["group", "participant"]
    raw_id_fields = ["group", "participant"]
    exclude = ["group_set"]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["participant", "metric", "period", "period_start", "target_value", "base_value"]
    list_filter = ["period", "metric__campaign"]
    raw_id_fields = ["campaign", "participant", "metric", "phase"]
    list_select_related = ["participant__unit", "participant__staff", "metric"]

    def save_model(self, request, obj, form, change):
        from scoring.services import queue_recomputes_for_changed_targets

        # The target as it was too: moved to a later period, the days of its old one change as well.
        before = list(Target.objects.filter(pk=obj.pk)) if change else []
        super().save_model(request, obj, form, change)
        if not change or {"target_value", "base_value", "period", "phase", "month"} & set(form.changed_data):
            queue_recomputes_for_changed_targets(obj.campaign, [*before, obj])

    def delete_model(self, request, obj):
        self.delete_queryset(request, Target.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        from scoring.services import queue_recomputes_for_changed_targets

        deleted = list(queryset.select_related("campaign"))
        super().delete_queryset(request, queryset)
        by_campaign = {}
        for target in deleted:
            by_campaign.setdefault(target.campaign, []).append(target)
        for campaign, targets in by_campaign.items():
            queue_recomputes_for_changed_targets(campaign, targets)
