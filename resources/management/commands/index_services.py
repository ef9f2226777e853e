from django.core.management.base import BaseCommand

from resources.search.index import reindex


class Command(BaseCommand):
    help = (
        "Recompute every service's search vector, filter tokens and place bits. The database "
        "keeps them fresh on every write; run this after writing with triggers turned off."
    )

    def handle(self, *args, **options):
        reindex()
