"""manage.py import_daily_file PATH [--date D]: the bulk path for a day's figures file."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.translation import gettext as _

from branches.bulk_import import import_daily_file
from branches.facts import MAX_ERRORS_RETURNED, FactSource
from branches.models import ImportBatch


class Command(BaseCommand):
    help = _(
        "Import a daily figures file (CSV or xlsx: business_date, unit_code or employee_no, indicator, value) "
        "into facts, all rows or none, keeping every earlier version."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--date", help=_("Business date of the file (YYYY-MM-DD); rows dated otherwise are errors."))
        parser.add_argument("--preview", action="store_true", help=_("Validate and count only; write nothing."))
        parser.add_argument(
            "--show-errors",
            type=int,
            default=MAX_ERRORS_RETURNED,
            help=_("How many errors to print (default and most: the first 1,000; every error is in the error file)."),
        )

    def handle(self, *args, path, date=None, preview=False, show_errors=MAX_ERRORS_RETURNED, **options):
        day = None
        if date:
            try:
                day = datetime.date.fromisoformat(date)
            except ValueError:
                raise CommandError(_("--date: “%(value)s” is not a date (use YYYY-MM-DD).") % {"value": date}) from None
        source = FactSource(kind=ImportBatch.Kind.FILE, reference=path.rsplit("/", 1)[-1], actor="system:import_daily_file")
        outcome = import_daily_file(path, business_date=day, source=source, preview=preview)
        shown = outcome.errors[: max(show_errors, 0)]
        for error in shown:
            self.stderr.write(error.message)
        if outcome.error_count > len(shown):
            self.stderr.write(_("… and %(count)s more errors.") % {"count": outcome.error_count - len(shown)})
        if outcome.error_file:
            self.stderr.write(_("Every error: %(path)s (under the var directory)") % {"path": outcome.error_file})
            url = reverse("imports:batch-errors", args=[outcome.batch_id])
            self.stderr.write(_("Planners can download it at %(url)s") % {"url": url})
        if outcome.error_count:
            raise CommandError(outcome.summary())
        self.stdout.write(self.style.SUCCESS(f"batch {outcome.batch_id}: {outcome.summary()}"))
