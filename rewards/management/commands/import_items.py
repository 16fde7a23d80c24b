"""``manage.py import_items FILE``: load business items (deposits, policies) from a spreadsheet."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from rewards.item_import import import_item_file


class Command(BaseCommand):
    help = gettext_lazy("Load business items (deposits, policies) from an .xlsx, .xls or .csv file; all or nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **options):
        result = import_item_file(options["file"], filename=options["file"])
        if not result.ok:
            raise CommandError(
                "\n".join(
                    _("row %(row)s, %(column)s: %(message)s") % {"row": row, "column": column, "message": message}
                    for row, column, message in result.errors
                )
            )
        self.stdout.write(ngettext("%(count)s item loaded", "%(count)s items loaded", result.written) % {"count": result.written})
