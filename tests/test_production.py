"""The site as a deployer runs it (`make serve`, docs/deploy.md): DEBUG off, its settings
from the environment, its static files served by the application itself."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "0123456789abcdefghij" * 3,
    "ALLOWED_HOSTS": "directory.example.org",
}


def run(args, environment, **kwargs):
    """`args` in a fresh process with the test database and `environment`."""
    config = connection.settings_dict
    host = config["HOST"].replace("/", "%2F")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL", "HTTPS"}
    }
    env["DATABASE_URL"] = f"postgres://{config['USER']}@{host}:{config['PORT']}/{config['NAME']}"
    env.update(environment)
    return subprocess.run(
        args, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, **kwargs
    )


def manage(*args, **environment):
    return run([sys.executable, "manage.py", *args], environment)


def test_check_deploy_finds_nothing_to_fix_in_the_production_environment():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DEBUG": "false"}, "With DEBUG off, set SECRET_KEY and ALLOWED_HOSTS"),
        ({**PRODUCTION, "ALLOWED_HOSTS": ""}, "With DEBUG off, set ALLOWED_HOSTS"),
        ({"DATABASE_URL": "postgres://me@db:port/x"}, "DATABASE_URL is not a PostgreSQL URL"),
        ({"DATABASE_URL": "mysql://me@db/x"}, "DATABASE_URL is not a PostgreSQL URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL is not a Redis URL"),
        ({"REDIS_URL": "redis://cache:port/0"}, "REDIS_URL is not a Redis URL"),
        ({"DATABASE_REPLICA_URLS": "replica:5432"}, "DATABASE_REPLICA_URLS"),
        ({"HTTPS": "maybe"}, "HTTPS must be true or false"),
        ({"NUM_PROXIES": "one"}, "NUM_PROXIES must be a whole number"),
        ({"REQUEST_TIMEOUT": "2s"}, "REQUEST_TIMEOUT must be a number of seconds"),
    ],
)
def test_a_missing_or_malformed_setting_stops_the_start_with_one_line(environment, message):
    result = manage("check", **environment)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# Asks the WSGI application, with DEBUG off, for the search page and what it links to.
FETCH_STATIC = """
import json, re, sys
from wsgiref.util import setup_testing_defaults
from directory.wsgi import application

def get(path, **headers):
    environ = {"PATH_INFO": path, "HTTP_HOST": "directory.example.org", **headers}
    setup_testing_defaults(environ)
    answer = {}
    body = application(environ, lambda status, headers: answer.update(
        status=int(status.split()[0]), headers=dict(headers)))
    answer["body"] = b"".join(body).decode(errors="replace")
    body.close()
    return answer

page = get("/", HTTP_X_FORWARDED_PROTO="https")
stylesheet = re.search(r'href="(/static/css/site\\.[0-9a-f]{12}\\.css)"', page["body"]).group(1)
script = re.search(r'src="(/static/js/site\\.[0-9a-f]{12}\\.js)"', page["body"]).group(1)
css = get(stylesheet, HTTP_ACCEPT_ENCODING="gzip")
js = get(script)
admin_css = get("/static/admin/css/base.css")
print(json.dumps({"page": page["status"], "css": css["status"], "css_headers": css["headers"],
                  "js": js["status"], "admin_css": admin_css["status"]}))
"""


def test_static_files_are_collected_compressed_and_served_with_debug_off(tmp_path):
    environment = {**PRODUCTION, "STATIC_ROOT": str(tmp_path), "HTTPS": "false"}
    collected = manage("collectstatic", "--no-input", **environment)
    assert collected.returncode == 0, collected.stderr

    result = run([sys.executable, "-c", FETCH_STATIC], environment)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert answers["page"] == 200
    assert answers["css"] == answers["js"] == answers["admin_css"] == 200
    assert answers["css_headers"]["Content-Encoding"] == "gzip"
    assert "immutable" in answers["css_headers"]["Cache-Control"]


def test_the_admin_can_be_moved(tmp_path):
    code = (
        "import django; django.setup(); from django.test import Client; "
        "from django.urls import reverse; c = Client(); "
        "print(reverse('admin:index'), c.get('/curators-only/').status_code, "
        "c.get('/admin/').status_code)"
    )
    result = run([sys.executable, "-c", code], {"ADMIN_URL": "curators-only"})
    assert result.stdout.split() == ["/curators-only/", "302", "404"], result.stderr
