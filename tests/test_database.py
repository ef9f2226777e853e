"""The database the site runs on: the embedded server's life, its connections, its errors."""

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)

# A process holding the embedded server in `folder` until its stdin closes.
HOLDER = """
import sys
from directory.database import embedded
config = embedded(__import__("pathlib").Path(sys.argv[1]))
print(config["HOST"], flush=True)
sys.stdin.read()
"""


def start_holder(folder):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip()  # the server is up for it
    return holder


def server_running(folder):
    pid_file = Path(folder) / "postmaster.pid"
    if not pid_file.exists():
        return False
    return psutil.pid_exists(int(pid_file.read_text().split()[0]))


def wait_until_stopped(folder, seconds=15):
    deadline = time.monotonic() + seconds
    while server_running(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not server_running(folder)


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    # The parent must be one the server's own system user may enter (as the checkout is).
    folder = Path(tmp_path_factory.mktemp("embedded")) / "postgres"
    yield folder
    if server_running(folder):
        os.kill(int((folder / "postmaster.pid").read_text().split()[0]), signal.SIGTERM)


def test_the_embedded_server_runs_while_any_command_uses_it_and_stops_after_the_last(
    data_folder,
):
    first = start_holder(data_folder)
    second = start_holder(data_folder)  # a second `make run`, a manage.py shell...
    second.communicate("")
    assert server_running(data_folder)  # the first still uses it

    first.communicate("")

    assert wait_until_stopped(data_folder)


def test_a_command_that_crashed_does_not_keep_the_embedded_server_up(data_folder):
    crashed = start_holder(data_folder)
    crashed.kill()  # as a power cut or kill -9 would: no clean-up
    crashed.wait()
    assert server_running(data_folder)

    later = start_holder(data_folder)  # finds the server up and uses it
    later.communicate("")

    assert wait_until_stopped(data_folder)
    again = start_holder(data_folder)  # and the data folder is fine to start again
    again.communicate("")
    assert wait_until_stopped(data_folder)


@pytest.mark.parametrize("left", ["", "[12", "null"])
def test_a_list_of_holders_cut_short_by_a_kill_is_started_again(data_folder, left):
    first = start_holder(data_folder)
    first.communicate("")
    assert wait_until_stopped(data_folder)
    (data_folder / ".handle_pids.json").write_text(left)  # killed while writing it

    later = start_holder(data_folder)  # starts the server all the same
    later.communicate("")

    assert wait_until_stopped(data_folder)


def test_an_unreachable_database_is_one_line_naming_it():
    env = {**os.environ, "DATABASE_URL": "postgres://someone@127.0.0.1:1/directory"}

    done = subprocess.run(
        [sys.executable, "manage.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "someone@127.0.0.1:1/directory" in done.stderr


def test_the_tests_run_on_a_test_database_never_the_one_the_settings_name(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0].startswith("test_")


def count_connections():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_the_server_holds_a_bounded_number_of_connections_however_many_browsers_visit(
    live_server, transactional_db
):
    """Browsers keep their sockets open between pages, and the development server keeps a
    thread for each: connections are borrowed from the pool per request, not kept by the
    thread (which held one each, until PostgreSQL refused new clients)."""
    host = urlsplit(live_server.url).netloc
    browsers = [http.client.HTTPConnection(host, timeout=10) for _ in range(12)]
    try:
        for _ in range(3):
            for browser in browsers:
                browser.request("GET", "/?q=legal")
                response = browser.getresponse()
                response.read()
                assert response.status == 200
        pool_size = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
        assert count_connections() <= pool_size
    finally:
        for browser in browsers:
            browser.close()
