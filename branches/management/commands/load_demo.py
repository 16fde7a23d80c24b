from django.core.management.base import BaseCommand

from branches.demo import ACCOUNTS, load_demo_bank


class Command(BaseCommand):
    help = "Load the demo bank (5 regions, 60 branches, 600 staff), its Q1 2026 campaign, and one account per role. Safe to run twice."

    def handle(self, *args, **options):
        counts = load_demo_bank()
        from campaigns.demo import load_demo_campaign

        campaign = load_demo_campaign()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo bank ready: {counts['units']} units ({counts['branches']} branches), {counts['staff']} staff."
            )
        )
        self.stdout.write(
            f"Demo campaign {campaign.code}: {campaign.name}, {campaign.participants.count()} branches, "
            f"{campaign.start_date} – {campaign.end_date}, every day scored."
        )
        self.stdout.write("Demo accounts (user / password — role):")
        for account in ACCOUNTS:
            self.stdout.write(f"  {account.username:<8} / {account.password:<18} — {account.description}")
        self.stdout.write("Open http://127.0.0.1:8000/ and log in.")
