"""Admin pages for campaign configuration (labels come from the models' gettext verbose names)."""

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
    readonly_fields = ["published_at", "published_by", "created_at"]
    inlines = [PhaseInline, MetricInline]
    actions = ["publish"]

    @admin.action(description=_("Publish the selected campaigns (checks the points add up)"))
    def publish(self, request, queryset):
        for campaign in queryset:
            try:
                services.publish_campaign(campaign, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{campaign.code}: {'; '.join(error.messages)}", level="error")
            else:
                self.message_user(request, _("%(code)s published.") % {"code": campaign.code})


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
