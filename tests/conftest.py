import os
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connections, transaction
from django.test import Client

from directory.database import unreachable
from resources.shipped import load_shipped


def pytest_sessionstart(session):
    # One line naming the server, rather than a traceback from every test.
    problem = unreachable(settings.DATABASES["default"], dbname="postgres")
    if problem:
        pytest.exit(problem, returncode=2)


def shared_path(*parts):
    """A path inside ../shared (settings.SHARED_DIR), or a skip when it is absent.

    CI sets REQUIRE_SHARED=1, which turns that skip into a failure.
    """
    path = settings.SHARED_DIR.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is absent; set SHARED_DIR to the folder holding seeds/ and hsds/"
        if os.environ.get("REQUIRE_SHARED") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


FORM = "application/x-www-form-urlencoded"


class FormClient(Client):
    """Posts a dict as a browser posts this site's forms, URL-encoded: the site refuses
    multipart bodies (it takes no uploads), Django's test client's default."""

    def post(self, path, data=None, content_type=FORM, **extra):
        if content_type == FORM and isinstance(data, dict):
            data = urlencode(data, doseq=True)
        return super().post(path, data, content_type=content_type, **extra)


@pytest.fixture
def client():
    return FormClient()


@pytest.fixture
def unthrottled(settings):
    """For tests that ask more questions than one client may (directory/ratelimit.py)."""
    settings.API_ANON_RATE = settings.SEARCH_PAGE_RATE = "1000000/min"
    settings.SUGGESTION_RATE = "1000000/min"


@pytest.fixture
def still_clock(monkeypatch):
    """Rate limits count per window of time (directory/ratelimit.py): a test's requests
    that straddled a window's end would start a fresh count. This holds the limiter's
    clock 30 seconds into today's first minute and hour."""
    import time
    from types import SimpleNamespace

    today = time.time() // 86400 * 86400
    monkeypatch.setattr("directory.ratelimit.time", SimpleNamespace(time=lambda: today + 30))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """Before the test database is made: a connection pool made earlier (building the API
    schema at import makes one) would go on connecting to the database the settings name,
    a developer's own, rather than the test database. Django's test set-up keeps it."""
    for connection in connections.all():
        connection.close_pool()


@pytest.fixture(autouse=True)
def _empty_memory_caches():
    """Database caches roll back with each test; in-memory ones (which some tests switch
    to) would carry cached synonyms into the next test, so they are emptied."""
    yield
    for cache in caches.all(initialized_only=True):
        if isinstance(cache, LocMemCache):
            cache.clear()


@pytest.fixture
def directory_data(db):
    """The real initial directory, as `make run` loads it."""
    load_shipped()


@pytest.fixture(scope="module")
def directory_for_module(django_db_setup, django_db_blocker):
    """The real initial directory, loaded once for a module of many questions: each test
    runs in a savepoint of this transaction, which is rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_shipped()
        yield
        transaction.set_rollback(True)
