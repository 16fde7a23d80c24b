from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from branches.models import ImportBatch, Staff, StaffAssignment, Unit, UserProfile

admin.site.site_header = _("Kaimenhong administration")
admin.site.site_title = _("Kaimenhong")
admin.site.index_title = _("System administration (IT)")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "category", "parent", "active_from", "active_to"]
    list_filter = ["kind", "category"]
    search_fields = ["code", "name", "name_en"]
    readonly_fields = ["path", "depth"]
    raw_id_fields = ["parent", "merged_into"]
    list_select_related = ["parent"]


class StaffAssignmentInline(admin.TabularInline):
    model = StaffAssignment
    extra = 0
    raw_id_fields = ["unit"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["employee_no", "name", "unit", "position", "active_from", "active_to"]
    list_filter = ["position"]
    search_fields = ["employee_no", "name", "unit__code", "unit__name"]
    raw_id_fields = ["unit"]
    list_select_related = ["unit"]
    inlines = [StaffAssignmentInline]


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    raw_id_fields = ["staff", "scope_unit"]


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [UserProfileInline]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Every write of figures (file, API batch, manual, system), read-only: a batch is history."""

    list_display = [
        "id", "kind", "reference", "actor", "status", "started_at", "finished_at",
        "row_count", "new_count", "changed_count", "unchanged_count", "error_count", "error_file_link",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["reference", "actor"]
    date_hierarchy = "started_at"
    ordering = ["-started_at", "-id"]
    fields = [
        "kind", "reference", "user", "actor", "status", "started_at", "finished_at",
        "row_count", "new_count", "changed_count", "unchanged_count", "error_count", "error_file_link",
    ]
    readonly_fields = fields

    @admin.display(description=_("error file"))
    def error_file_link(self, batch):
        if not batch.error_file:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("imports:batch-errors", args=[batch.pk]), batch.error_file)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
