"""``manage.py import_items FILE``: load business items (deposits, policies) from a spreadsheet."""

from django.core.management.base import BaseCommand, CommandError

from rewards.item_import import import_item_file


class Command(BaseCommand):
    help = "Load business items (deposits, policies) from an .xlsx, .xls or .csv file; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **options):
        result = import_item_file(options["file"], filename=options["file"])
        if not result.ok:
            raise CommandError(
                "\n".join(f"row {row}, {column}: {message}" for row, column, message in result.errors)
            )
        self.stdout.write(f"{result.written} items")
