from django.core.management.base import BaseCommand

from branches.roles import ensure_role_groups


class Command(BaseCommand):
    help = "Create or update the five role groups (planner, branch_manager, finance, staff, viewer)."

    def handle(self, *args, **options):
        groups = ensure_role_groups()
        self.stdout.write(self.style.SUCCESS(f"Role groups ready: {', '.join(sorted(groups))}"))
