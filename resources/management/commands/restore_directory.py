import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from directory.database import CONNECT_TIMEOUT, client_args, describe, libpq_params, one_line
from resources.management.commands.backup_directory import pg_program

# The statements that set up pg_restore's session, before its first object.
SETTING = re.compile(rb"SET (\w+) = .*;\n?")
EMPTY_SEARCH_PATH = b"SELECT pg_catalog.set_config('search_path', '', false);\n"
FIRST_OBJECT = b"-- Name: "

# A comment on an extension may only be set by the extension's owner: where a database
# administrator created earthdistance beforehand (a site's own role may not), it would
# stop the restore. CREATE EXTENSION gives each the same comment anyway.
EXTENSION_COMMENT = re.compile(r"^\d+; \d+ \d+ COMMENT - EXTENSION ", re.MULTILINE)


def connect(config):
    connection = psycopg.connect(**{"connect_timeout": CONNECT_TIMEOUT, **libpq_params(config)})
    # DATABASE_STATEMENT_TIMEOUT limits the web processes' queries, not a command's.
    connection.execute("SET statement_timeout = 0")
    return connection


def relations(connection):
    """The tables, views and sequences of the public schema: none in an empty database."""
    return connection.execute(
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
    ).fetchone()[0]


def send(script, psql, known_settings):
    """pg_restore's SQL on to psql, fitted to an older server in its first lines.

    pg_restore 18 sets up its session with settings older servers do not know (PostgreSQL
    15 has no transaction_timeout): those are left out. And it empties the search path,
    which earthdistance before 1.2 (PostgreSQL 17 and older) needs to find cube when the
    index on ll_to_earth() is built: the public schema goes back on it. The database is
    empty, so nothing there can stand in for the objects the script names.
    """
    while line := script.readline():
        if line.startswith(FIRST_OBJECT):
            psql.write(line)
            break
        setting = SETTING.fullmatch(line)
        if setting and setting[1].decode().lower() not in known_settings:
            continue
        if line == EMPTY_SEARCH_PATH:
            line = line.replace(b"''", b"'public'")
        psql.write(line)
    shutil.copyfileobj(script, psql, 1 << 20)


def first_error(log):
    log.seek(0)
    for line in log:
        if "ERROR:" in line or "error:" in line:
            # psql names the line of its input: of no use to one who never saw the script.
            return re.sub(r"^psql:<stdin>:\d+: ", "", line.strip())
    return None


class Command(BaseCommand):
    help = (
        "Restore an archive backup_directory wrote into the database the settings name, "
        "only if that database is empty: nothing is ever overwritten. To restore elsewhere, "
        "create an empty database and name it in DATABASE_URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="An archive backup_directory wrote.")

    def handle(self, *args, file, **options):
        config = settings.DATABASES["default"]
        where = describe(config)
        if not file.is_file():
            raise CommandError(f"There is no backup at {file}.")

        listing = subprocess.run(
            [pg_program("pg_restore"), "--list", str(file)], capture_output=True, text=True
        )
        if listing.returncode != 0:
            raise CommandError(f"{file} is not a backup: {one_line(listing.stderr)}")

        try:
            with connect(config) as connection:
                held = relations(connection)
                known_settings = {
                    name for (name,) in connection.execute("SELECT name FROM pg_settings")
                }
        except psycopg.Error as error:
            raise CommandError(
                f"Cannot reach the database {where}: {one_line(str(error))}"
            ) from None
        if held:
            elsewhere = (
                "create an empty database and name it in DATABASE_URL"
                " (postgres://user@host:5432/newname)"
            )
            if "DATABASE_URL" not in os.environ:
                elsewhere += (
                    ", or move .postgres/ aside while nothing uses it (a new one starts empty)"
                )
            raise CommandError(
                f"The database {where} already holds data ({held} tables, views or sequences):"
                f" nothing was restored. To restore, {elsewhere}."
            )

        with tempfile.TemporaryDirectory() as work:
            self.restore(file, config, Path(work), listing.stdout, known_settings)

        with connect(config) as connection:
            restored = relations(connection)
        self.stdout.write(f"Restored {file} into {where}: {restored} tables, views and sequences.")

    def restore(self, file, config, work, listing, known_settings):
        """pg_restore writes SQL, psql runs it, in one transaction: a restore that stops
        half-way leaves the database as empty as it found it."""
        chosen = work / "list"
        chosen.write_text(EXTENSION_COMMENT.sub(r";\g<0>", listing))
        conninfo, env = client_args(config)
        with (
            open(work / "pg_restore.log", "w+") as restore_log,
            open(work / "psql.log", "w+") as psql_log,
        ):
            pg_restore = subprocess.Popen(
                [
                    pg_program("pg_restore"),
                    # The objects belong to whoever restores them, on whichever server: the
                    # archive's roles may not exist there.
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    f"--use-list={chosen}",
                    "--file=-",
                    str(file),
                ],
                stdout=subprocess.PIPE,
                stderr=restore_log,
            )
            psql = subprocess.Popen(
                [
                    pg_program("psql"),
                    "--no-psqlrc",
                    "--quiet",
                    "--set=ON_ERROR_STOP=1",
                    "-d",
                    conninfo,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=psql_log,
                env=env,
            )
            # psql stops at the first error, and its log says which.
            with contextlib.suppress(BrokenPipeError):
                send(pg_restore.stdout, psql.stdin, known_settings)
            pg_restore.stdout.close()
            if pg_restore.wait() != 0 and psql.poll() is None:
                # Cut off before its COMMIT: the transaction ends with the connection.
                psql.kill()
            with contextlib.suppress(BrokenPipeError):
                psql.stdin.close()
            if psql.wait() != 0 or pg_restore.returncode != 0:
                # When psql stops at an error, pg_restore fails too, writing to no one.
                raise CommandError(
                    f"The restore into {describe(config)} failed and left it empty: "
                    f"{first_error(psql_log) or first_error(restore_log) or 'no message'}"
                )
