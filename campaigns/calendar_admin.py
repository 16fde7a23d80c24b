"""Admin for the bank's working-day calendar (holidays and make-up working days)."""

from django.contrib import admin

from campaigns.models import CalendarDay


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("day", "working", "name")
    list_filter = ("working",)
    date_hierarchy = "day"
    search_fields = ("name",)
