"""manage.py recompute CAMPAIGN_CODE [--date D | --all-days]: the daily recompute from a shell."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns.models import Campaign
from scoring.engine import CampaignClosed, recompute


class Command(BaseCommand):
    help = "Recompute a campaign's scores and rankings for one day (default: today), or every day so far."

    def add_arguments(self, parser):
        parser.add_argument("campaign_code")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--date", help="business date, YYYY-MM-DD (default: today in the bank's time zone)")
        group.add_argument("--all-days", action="store_true", help="every day from the start to today or the end")

    def handle(self, *args, campaign_code, date=None, all_days=False, **options):
        try:
            campaign = Campaign.objects.get(code=campaign_code)
        except Campaign.DoesNotExist:
            raise CommandError(f"Unknown campaign {campaign_code!r}.") from None
        today = timezone.localdate()
        if all_days:
            day, last = campaign.start_date, min(today, campaign.end_date)
            days = []
            while day <= last:
                days.append(day)
                day += datetime.timedelta(days=1)
        else:
            try:
                days = [datetime.date.fromisoformat(date) if date else today]
            except ValueError:
                raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}.") from None
        for day in days:
            try:
                result_set = recompute(campaign.pk, day)
            except CampaignClosed:
                raise CommandError(f"Campaign {campaign.code} is closed: its results no longer change.") from None
            self.stdout.write(
                f"{campaign.code} {day}: version {result_set.version}, "
                f"{result_set.participant_count} participants, {result_set.seconds:.2f} s"
            )
