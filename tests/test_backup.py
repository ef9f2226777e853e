"""make backup and make restore: the whole database to an archive, and back into an empty one."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.db import connection
from psycopg import sql

from resources.models import Service
from resources.shipped import load_shipped

ROOT = Path(settings.BASE_DIR)


def connect(dbname):
    """A connection of its own to a database of the test server."""
    config = connection.settings_dict
    return psycopg.connect(
        dbname=dbname,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        autocommit=True,
    )


def manage(*args, dbname):
    """manage.py as a person runs it, on the test server's database `dbname`."""
    config = connection.settings_dict
    credentials = quote(config["USER"] or "", safe="")
    if config["PASSWORD"]:
        credentials += ":" + quote(config["PASSWORD"], safe="")
    # A socket folder (the embedded server's) goes in the host part, %-encoded.
    where = quote(config["HOST"] or "", safe="")
    if config["PORT"]:
        where += f":{config['PORT']}"
    env = {**os.environ, "DATABASE_URL": f"postgres://{credentials}@{where}/{dbname}"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.fixture
def empty_database():
    """A new database on the test server, as someone restoring would create; dropped after."""
    name = f"{connection.settings_dict['NAME']}_restored_{os.getpid()}"
    with connect("postgres") as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with connect("postgres") as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def curated_directory(transactional_db):
    """The shipped directory with a curator's day on it, committed (pg_dump sees no more)."""
    load_shipped()
    curator = User.objects.create_superuser("curator", "curator@example.org", "a long password")
    service = Service.objects.order_by("name").first()
    service.description += " Walk-ins welcome on Fridays."
    service.save()
    LogEntry.objects.log_actions(
        curator.pk, [service], CHANGE, change_message=[{"changed": {"fields": ["Description"]}}]
    )
    return service


def fingerprint(dbname):
    """Everything a restore must bring back: each table's rows (counted, and hashed in a
    fixed order), the sequences' positions, and the schema the migrations built."""
    with connect(dbname) as db:
        tables = {}
        for (table,) in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall():
            tables[table] = db.execute(
                sql.SQL(
                    "SELECT count(*), md5(string_agg(t::text, '' ORDER BY t::text)) FROM {} t"
                ).format(sql.Identifier(table))
            ).fetchone()

        def rows(query):
            return sorted(db.execute(query).fetchall())

        return {
            "tables": tables,
            "sequences": rows(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ),
            "extensions": rows("SELECT extname FROM pg_extension"),
            "indexes": rows("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"),
            "constraints": rows(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
            ),
            "triggers": rows(
                "SELECT tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger"
                " WHERE NOT tgisinternal"
            ),
            # The search index's own functions, not the extensions'.
            "functions": rows(
                "SELECT pg_get_functiondef(p.oid) FROM pg_proc p"
                " WHERE pronamespace = 'public'::regnamespace AND NOT EXISTS ("
                "  SELECT FROM pg_depend WHERE objid = p.oid AND deptype = 'e')"
            ),
        }


def backup(path):
    made = manage(
        "backup_directory", "--output", str(path), dbname=connection.settings_dict["NAME"]
    )
    assert made.returncode == 0, made.stderr
    return made


def test_a_backup_restored_into_an_empty_database_holds_all_the_original_held(
    curated_directory, empty_database, tmp_path
):
    archive = tmp_path / "directory.dump"

    made = backup(archive)
    restored = manage("restore_directory", str(archive), dbname=empty_database)

    assert made.stdout.count("\n") == 1
    assert str(archive) in made.stdout
    assert " KB)" in made.stdout or " MB)" in made.stdout
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"Restored {archive} into ")
    original = fingerprint(connection.settings_dict["NAME"])
    assert fingerprint(empty_database) == original
    assert {"pg_trgm", "unaccent", "cube", "earthdistance"} <= {
        name for (name,) in original["extensions"]
    }
    for table in ("resources_service", "resources_zipcode", "django_admin_log", "auth_user"):
        assert original["tables"][table][0] > 0, table
    with connect(empty_database) as db:
        assert (
            db.execute(
                "SELECT description FROM resources_service WHERE id = %s", [curated_directory.pk]
            )
            .fetchone()[0]
            .endswith("Walk-ins welcome on Fridays.")
        )
        assert db.execute(
            "SELECT object_repr FROM django_admin_log WHERE object_id = %s",
            [str(curated_directory.pk)],
        ).fetchone() == (str(curated_directory),)


def test_a_restore_refuses_a_database_that_holds_data_and_leaves_it_as_it_was(
    curated_directory, tmp_path
):
    archive = tmp_path / "directory.dump"
    backup(archive)
    database = connection.settings_dict["NAME"]
    before = fingerprint(database)

    refused = manage("restore_directory", str(archive), dbname=database)

    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert "already holds data" in refused.stderr
    assert "DATABASE_URL" in refused.stderr
    assert fingerprint(database) == before


def test_a_restore_that_fails_half_way_leaves_the_database_empty(
    transactional_db, empty_database, tmp_path
):
    archive = tmp_path / "directory.dump"
    backup(archive)  # the ZIP codes alone fill most of it
    cut = tmp_path / "cut.dump"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])

    failed = manage("restore_directory", str(cut), dbname=empty_database)

    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.strip().count("\n") == 0, failed.stderr
    assert "left it empty" in failed.stderr
    with connect(empty_database) as db:
        assert db.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        ).fetchone() == (0,)


def test_a_backup_that_cannot_be_written_is_one_line_and_leaves_no_file(db, tmp_path):
    (tmp_path / "taken").write_text("a file where the folder would go")
    database = connection.settings_dict["NAME"]

    failed = manage(
        "backup_directory", "--output", str(tmp_path / "taken" / "x.dump"), dbname=database
    )

    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.strip().count("\n") == 0, failed.stderr
    assert "Cannot write" in failed.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]


def test_a_backup_never_writes_over_an_earlier_one(db, tmp_path):
    earlier = tmp_path / "directory.dump"
    earlier.write_bytes(b"an earlier backup")

    failed = manage(
        "backup_directory", "--output", str(earlier), dbname=connection.settings_dict["NAME"]
    )

    assert failed.returncode == 1
    assert "already exists" in failed.stderr
    assert earlier.read_bytes() == b"an earlier backup"


def test_a_backup_of_a_database_that_does_not_answer_is_one_line(tmp_path):
    archive = tmp_path / "directory.dump"

    failed = manage("backup_directory", "--output", str(archive), dbname="no_such_database")

    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.strip().count("\n") == 0, failed.stderr
    assert "no_such_database" in failed.stderr
    assert not archive.exists()
