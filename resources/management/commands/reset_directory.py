from django.core.management.base import BaseCommand, CommandError

from resources.models import Location, Organization, Service, Synonym
from resources.shipped import reset


class Command(BaseCommand):
    help = (
        "Delete everything in the directory, curators' work included, and load the shipped "
        "directory afresh. Asks first unless --no-input is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-input", action="store_false", dest="interactive")

    def handle(self, *args, interactive, **options):
        counts = [
            f"{model.objects.count()} {model._meta.verbose_name_plural}"
            for model in (Service, Organization, Location, Synonym)
        ]
        self.stdout.write(
            "This deletes every entry of the directory: " + ", ".join(counts) + ", with "
            "their addresses, phones, hours, areas, needs, populations and languages, and "
            "every edit curators made to them. Accounts and the admin's history stay."
        )
        if interactive and input("Type 'reset' to go on: ").strip() != "reset":
            raise CommandError("Nothing was deleted.")
        self.stdout.write(str(reset()))
