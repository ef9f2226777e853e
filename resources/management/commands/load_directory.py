from django.core.management.base import BaseCommand

from resources.shipped import load_shipped


class Command(BaseCommand):
    help = (
        "Load the directory this project ships (fixtures/) where this database lacks it. "
        "Rows loaded before are never written again: curators' edits and deletions stay."
    )

    def handle(self, *args, **options):
        self.stdout.write(str(load_shipped()))
