"""When the database is down or hung: a 503 within two seconds, and recovery on its own.

A Django process of its own reaches the test database through a proxy this test switches
between up, down (connections refused) and hung (connections taken, nothing answered, as
from a stopped server), and reports each answer.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

# The site's own process, served through its WSGI application as gunicorn serves it (the
# test client keeps its connection between requests; the real handler gives it back to
# the pool after each), asking itself for the paths it reads on stdin.
ASKER = """
import json, sys, time
from wsgiref.util import setup_testing_defaults
from directory.wsgi import application

for line in sys.stdin:
    path, _, query = line.strip().partition("?")
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "HTTP_HOST": "testserver"}
    setup_testing_defaults(environ)
    answer = {}
    def start_response(status, headers):
        answer.update(status=int(status.split()[0]), headers=dict(headers))
    start = time.monotonic()
    body = application(environ, start_response)
    content = b"".join(body)
    body.close()
    headers = answer["headers"]
    print(json.dumps({
        "status": answer["status"],
        "seconds": time.monotonic() - start,
        "type": headers.get("Content-Type", ""),
        "retry_after": headers.get("Retry-After"),
        "body": content.decode(errors="replace")[:2000],
    }), flush=True)
"""


class Proxy:
    """TCP on loopback to the database server, switched between up, down and hung."""

    def __init__(self, upstream):
        self.upstream = upstream  # a Unix socket's path, or (host, port)
        self.mode = "up"
        self.links = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            if self.mode == "down":
                client.close()
                continue
            family = socket.AF_UNIX if isinstance(self.upstream, str) else socket.AF_INET
            server = socket.socket(family, socket.SOCK_STREAM)
            server.connect(self.upstream)
            self.links.append((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    def pump(self, source, sink):
        source.settimeout(0.05)
        while True:
            if self.mode == "hung":
                time.sleep(0.05)
                continue
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                sink.sendall(data)
            except OSError:
                return

    def switch(self, mode):
        self.mode = mode
        if mode == "down":
            self.cut()

    def cut(self):
        for link in self.links:
            for end in link:
                end.close()
        self.links = []


def upstream():
    config = connection.settings_dict
    host, port = config["HOST"] or "127.0.0.1", int(config["PORT"] or 5432)
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)


PRODUCTION = {
    "DEBUG": "false",
    "HTTPS": "false",
    "SECRET_KEY": "a-test-key-" + "x" * 50,
    "ALLOWED_HOSTS": "testserver",
    "REDIS_URL": "",
}


@pytest.fixture(scope="module")
def static_root(tmp_path_factory, django_db_setup):
    """With DEBUG off pages name the collected, hashed static files, as `make serve`
    collects them. (manage.py first checks it can reach the database: the test one.)"""
    folder = tmp_path_factory.mktemp("static")
    config = connection.settings_dict
    host = config["HOST"].replace("/", "%2F") or "127.0.0.1"
    url = f"postgres://{config['USER']}@{host}:{config['PORT']}/{config['NAME']}"
    env = {**os.environ, **PRODUCTION, "STATIC_ROOT": str(folder), "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
    )
    return folder


@pytest.fixture
def site(tmp_path, static_root):
    proxy = Proxy(upstream())
    config = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{config['USER']}@127.0.0.1:{proxy.port}/{config['NAME']}",
        **PRODUCTION,
        "STATIC_ROOT": str(static_root),
        "DATABASE_STATEMENT_TIMEOUT": "1500",
        "REQUEST_TIMEOUT": "1.8",
    }
    env.pop("PYTHONWARNINGS", None)
    asker = subprocess.Popen(
        [sys.executable, "-c", ASKER],
        cwd=settings.BASE_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        # A file, not a pipe: a full pipe nobody reads would stop the process mid-log.
        stderr=(tmp_path / "stderr.log").open("w"),
        text=True,
    )

    def get(path):
        asker.stdin.write(path + "\n")
        asker.stdin.flush()
        line = asker.stdout.readline()
        assert line, "the site's process ended:\n" + (tmp_path / "stderr.log").read_text()[-3000:]
        return json.loads(line)

    get.proxy = proxy
    get.process = asker
    get.log = tmp_path / "stderr.log"
    yield get
    asker.kill()
    asker.wait()
    proxy.switch("down")  # no session left open on the test database
    proxy.listener.close()


def test_a_database_down_or_hung_is_a_503_within_two_seconds_and_then_recovers(site):
    assert site("/healthz")["status"] == 200
    assert site("/?q=legal")["status"] == 200
    assert site("/api/v1/services/")["status"] == 200

    for mode in ("down", "hung"):
        site.proxy.switch(mode)
        page, api, health, live = (
            site(path) for path in ("/?q=legal", "/api/v1/services/", "/healthz", "/livez")
        )
        for answer in (page, api, health):
            assert answer["status"] == 503, (mode, answer)
            assert answer["seconds"] < 2, (mode, answer)
        assert "briefly unavailable" in page["body"]
        assert 'id="quick-exit"' in page["body"]
        assert page["retry_after"] == "30"
        assert api["type"] == "application/json"
        assert json.loads(api["body"])["detail"].startswith("The directory is briefly unavailable")
        assert json.loads(health["body"])["database"] is False
        assert live["status"] == 200, "liveness asks nothing of the database"

        site.proxy.switch("up")
        assert recovers(site), f"recovered after being {mode}"
        assert site("/healthz")["status"] == 200


def recovers(site, within=15):
    """The pool reconnects by itself, after a back-off of a few seconds at most."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if site("/?q=legal")["status"] == 200:
            return True
        time.sleep(0.25)
    return False


def test_an_error_is_logged_to_standard_error_with_its_traceback(site):
    site.proxy.switch("down")
    assert site("/?q=legal")["status"] == 503
    site.process.stdin.close()
    site.process.wait()
    log = site.log.read_text()
    assert "Service Unavailable: /" in log
    assert "Traceback (most recent call last)" in log
    # Connecting waits up to the request's deadline, while the pool keeps trying.
    assert "DeadlineExceeded" in log or "OperationalError" in log


@pytest.mark.django_db
def test_a_server_error_on_the_api_is_json_and_on_a_page_is_the_sites_page(monkeypatch):
    from django.test import Client

    from resources.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.ServiceViewSet, "list", broken)
    monkeypatch.setattr("resources.views.find", broken)
    client = Client(raise_request_exception=False)

    api = client.get("/api/v1/services/")
    page = client.get("/")

    assert api.status_code == page.status_code == 500
    assert api.json() == {"detail": "Server error."}
    assert "Something went wrong" in page.content.decode()
    assert 'id="quick-exit"' in page.content.decode()
