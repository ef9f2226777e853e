from django.core.management.base import BaseCommand

from resources.search import index_services


class Command(BaseCommand):
    help = (
        "Recompute every service's search and filter vectors (PostgreSQL). Saves through "
        "Django keep them fresh; run this after writing rows another way (bulk_create, SQL)."
    )

    def handle(self, *args, **options):
        index_services()
