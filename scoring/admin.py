"""Admin pages for scoring configuration and a read-only view of result sets."""

from django.contrib import admin

from scoring.models import Gate, ParticipantFlag, Ranking, ResultSet, ScoringRule


class PartInline(admin.TabularInline):
    model = ScoringRule
    fk_name = "parent"
    extra = 0
    fields = ["code", "name", "kind", "metric", "points", "evaluation", "params", "participants"]


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "campaign", "kind", "metric", "points", "evaluation", "parent"]
    list_filter = ["kind", "evaluation", "campaign"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    inlines = [PartInline]


@admin.register(Ranking)
class RankingAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "campaign", "basis", "period", "group_set", "rank_groups", "tie_break", "top_n", "bottom_n"]
    list_filter = ["basis", "period", "rank_groups", "campaign"]


@admin.register(Gate)
class GateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "campaign", "kind", "effect", "flag", "metric", "minimum", "maximum", "per_metric"]
    list_filter = ["effect", "kind"]
    filter_horizontal = ["rankings"]


@admin.register(ParticipantFlag)
class ParticipantFlagAdmin(admin.ModelAdmin):
    list_display = ["participant", "code", "note", "set_by", "set_at"]
    raw_id_fields = ["campaign", "participant", "set_by"]
    search_fields = ["code"]


@admin.register(ResultSet)
class ResultSetAdmin(admin.ModelAdmin):
    list_display = ["campaign", "business_date", "version", "is_current", "computed_at", "participant_count", "seconds"]
    list_filter = ["is_current", "campaign"]
    date_hierarchy = "business_date"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
