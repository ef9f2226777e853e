from django.core.management.base import BaseCommand, CommandError

from resources.hsds.imports import PackageError, import_package


class Command(BaseCommand):
    help = (
        "Bring an HSDS 3 package into the directory: a folder or .zip of CSV tables with "
        "datapackage.json, or a .ndjson / .json file of full services. Records are matched by "
        "id; everything is written in one transaction, or nothing when any row is bad. New "
        "services arrive as drafts unless --publish is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--publish", action="store_true", help="Publish every imported service."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count, and write nothing."
        )

    def handle(self, *args, path, publish, dry_run, **options):
        try:
            report = import_package(path, publish=publish, dry_run=dry_run)
        except (PackageError, OSError) as error:
            raise CommandError(str(error)) from None
        for line in report.summary():
            self.stdout.write(line)
        for notice in report.notices:
            self.stdout.write(f"note: {notice}")
        for error in report.errors:
            self.stderr.write(f"error: {error}")
        if report.notice_count > len(report.notices):
            self.stdout.write(
                f"note: ... {report.notice_count:,} notes in all; the first are listed"
            )
        if report.error_count:
            listed = (
                f" (the first {len(report.errors)} listed)"
                if report.error_count > len(report.errors)
                else ""
            )
            raise CommandError(
                f"{report.error_count:,} bad row(s){listed}: nothing was imported, "
                "the directory is as it was."
            )
        if report.applied:
            self.stdout.write(self.style.SUCCESS("Imported."))
        else:
            self.stdout.write("Dry run: nothing was written.")
