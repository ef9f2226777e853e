from django.core.management.base import BaseCommand, CommandError

from resources.hsds.export import export_services
from resources.hsds.tabular import export_package


class Command(BaseCommand):
    help = (
        "Write the published directory as HSDS 3: PATH.json (an array of full services), "
        "PATH.ndjson (a service a line), PATH.zip or a new folder PATH (a tabular data "
        "package: CSV files and datapackage.json). Confidential addresses are never written."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            if path.endswith((".json", ".ndjson")):
                count = export_services(path)
            else:
                count = export_package(path)
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Wrote {count} service(s) to {path}.")
