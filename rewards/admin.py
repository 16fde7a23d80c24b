"""Admin for rewards: schemes and rules are edited here until the planner's editor exists; runs are
read-only (their lifecycle goes through ``rewards.services`` so that four eyes and locking hold)."""

from django.contrib import admin
from import_export.admin import ExportMixin

from rewards.models import (
    BusinessItem,
    PayoutExport,
    PayoutLine,
    PayoutRun,
    RewardRule,
    RewardScheme,
    RunChange,
)
from rewards.resources import PayoutLineResource


class RewardRuleInline(admin.StackedInline):
    model = RewardRule
    extra = 0


@admin.register(RewardScheme)
class RewardSchemeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "campaign_code", "start", "end", "budget", "scale_to_budget")
    inlines = [RewardRuleInline]


@admin.register(BusinessItem)
class BusinessItemAdmin(admin.ModelAdmin):
    list_display = ("kind", "item_no", "subject_kind", "subject_id", "date", "end_date", "amount")
    list_filter = ("kind", "subject_kind")
    search_fields = ("item_no",)
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "scheme",
        "period_kind",
        "period_start",
        "period_end",
        "state",
        "created_by",
        "approved_by",
    )
    list_filter = ("state", "scheme")


@admin.register(RunChange)
class RunChangeAdmin(ReadOnlyAdmin):
    list_display = ("run", "action", "by", "at")
    list_filter = ("action",)


@admin.register(PayoutLine)
class PayoutLineAdmin(ExportMixin, ReadOnlyAdmin):
    resource_classes = [PayoutLineResource]
    list_display = ("run", "payee_name", "employee_no", "unit_code", "rule_name", "kind", "amount")
    list_filter = ("run__scheme", "kind")
    search_fields = ("payee_name", "employee_no", "unit_code")


@admin.register(PayoutExport)
class PayoutExportAdmin(ReadOnlyAdmin):
    list_display = ("run", "exporter", "state", "rows_done", "rows_total", "requested_at")
