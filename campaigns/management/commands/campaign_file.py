import datetime
import sys

from django.core.management.base import BaseCommand, CommandError

from campaigns.campaign_file import (
    CampaignFileError,
    builtin_templates,
    dump_yaml,
    import_campaign,
    load_template,
)
from campaigns.models import Campaign


class Command(BaseCommand):
    help = "Export a campaign to a YAML campaign file, import one, or list the built-in templates."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("templates", help="list the built-in templates")
        export = sub.add_parser("export", help="write a campaign's configuration as YAML to stdout")
        export.add_argument("code")
        imp = sub.add_parser("import", help="create a campaign from a file or a template")
        imp.add_argument("path", nargs="?", help="YAML file; '-' for stdin")
        imp.add_argument("--template", help="a built-in template instead of a file")
        imp.add_argument("--code", help="the new campaign's code (overrides the file's)")
        imp.add_argument("--name", help="the new campaign's name")
        imp.add_argument("--start", help="move every date so the campaign starts on this day (YYYY-MM-DD)")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "templates":
            for name in builtin_templates():
                self.stdout.write(name)
            return
        if action == "export":
            campaign = Campaign.objects.filter(code=options["code"]).first()
            if campaign is None:
                raise CommandError(f"no campaign with code {options['code']}")
            self.stdout.write(dump_yaml(campaign), ending="")
            return
        start = None
        if options["start"]:
            try:
                start = datetime.date.fromisoformat(options["start"])
            except ValueError:
                raise CommandError(f"--start: not a date: {options['start']}") from None
        try:
            if options["template"]:
                doc = load_template(options["template"])
            elif options["path"] == "-":
                doc = sys.stdin.read()
            elif options["path"]:
                with open(options["path"], encoding="utf-8-sig") as handle:
                    doc = handle.read()
            else:
                raise CommandError("give a file path or --template NAME")
            campaign = import_campaign(doc, code=options["code"], name=options["name"], start_date=start)
        except CampaignFileError as exc:
            raise CommandError("the campaign file was not loaded:\n" + "\n".join(f"  {p}: {r}" for p, r in exc.errors)) from None
        self.stdout.write(self.style.SUCCESS(f"created campaign {campaign.code} ({campaign.participants.count()} participants)"))
