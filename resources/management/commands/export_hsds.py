from django.core.management.base import BaseCommand, CommandError

from resources.hsds.export import export_services


class Command(BaseCommand):
    help = (
        "Write the published directory as HSDS 3 services, fully nested: PATH.json (an "
        "array) or PATH.ndjson (a service a line). Confidential addresses are never written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            count = export_services(path)
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Wrote {count} service(s) to {path}.")
