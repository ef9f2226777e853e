from django.conf import settings
from django.core.management.base import BaseCommand

from resources import sync


class Command(BaseCommand):
    help = (
        "Forget the change feed's lines older than CHANGE_FEED_DAYS (run it daily, from cron "
        "or a systemd timer). A partner whose cursor is older is told to copy again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Instead of CHANGE_FEED_DAYS.")

    def handle(self, *args, days, **options):
        days = settings.CHANGE_FEED_DAYS if days is None else days
        if days < 1:
            self.stderr.write("Keep at least one day of changes.")
            raise SystemExit(2)
        count = sync.prune(days)
        self.stdout.write(f"Pruned {count} change(s) older than {days} days.")
