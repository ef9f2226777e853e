import threading
import uuid

import pytest
import redis
from django.core.cache import cache
from django.db import connections
from django.test import RequestFactory

from directory.ratelimit import hit

from .factories import make_service

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/services/"
SEARCH = "/"
REDIS = "redis://127.0.0.1:6379/1"


@pytest.fixture(autouse=True)
def fresh_counts(db, still_clock):
    cache.clear()


def test_the_api_answers_429_past_the_limit_and_says_when_to_retry(client, settings):
    settings.API_ANON_RATE = "2/min"

    statuses = [client.get(SERVICES).status_code for _ in range(3)]
    response = client.get(SERVICES)

    assert statuses == [200, 200, 429]
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Request was throttled.")


def test_the_search_page_is_limited_like_the_api(client, settings):
    settings.SEARCH_PAGE_RATE = "2/min"
    make_service(name="Legal clinic")

    statuses = [client.get(SEARCH, {"q": "legal"}).status_code for _ in range(3)]
    response = client.get(SEARCH)

    assert statuses == [200, 200, 429]
    assert 0 < int(response["Retry-After"]) <= 60
    assert "Please wait" in response.content.decode()
    assert 'id="quick-exit"' in response.content.decode()
    # Each has its own count: pages past their limit leave the API alone.
    assert client.get(SERVICES).status_code == 200


def test_a_client_cannot_dodge_the_limit_by_claiming_other_addresses(client, settings):
    settings.API_ANON_RATE = "1/min"

    statuses = [
        client.get(SERVICES, headers={"x-forwarded-for": f"203.0.113.{n}"}).status_code
        for n in range(2)
    ]

    assert statuses == [200, 429]


def test_behind_a_proxy_each_client_has_its_own_count(client, settings):
    settings.API_ANON_RATE = "1/min"
    settings.NUM_PROXIES = 1

    def get(forwarded):
        return client.get(SERVICES, headers={"x-forwarded-for": forwarded}).status_code

    # The proxy appends the address it saw; anything before it the client wrote itself.
    assert [get("203.0.113.1"), get("203.0.113.2"), get("10.9.9.9, 203.0.113.1")] == [
        200,
        200,
        429,
    ]


def test_no_client_address_is_kept_in_the_cache(client, settings):
    settings.API_ANON_RATE = "5/min"
    client.get(SERVICES, REMOTE_ADDR="198.51.100.23")

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT cache_key FROM directory_cache")
        keys = [key for (key,) in cursor.fetchall()]
    assert keys and not any("198.51.100.23" in key for key in keys)


def count_at_once(clients, tries, rate):
    """`clients` threads, each with its own connection, asking `tries` times at once."""
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    allowed = []
    start = threading.Barrier(clients)

    def ask():
        start.wait()
        try:
            allowed.extend(hit("test", request, rate).allowed for _ in range(tries))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(allowed)


@pytest.mark.django_db(transaction=True)
def test_many_clients_at_once_get_no_more_than_the_limit_through_the_database_cache():
    assert count_at_once(clients=32, tries=5, rate="50/min") == 50


@pytest.mark.django_db(transaction=True)
def test_many_clients_at_once_get_no_more_than_the_limit_through_redis(settings):
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": f"rate-test-{uuid.uuid4()}",  # other test runs may share this Redis
        }
    }
    assert count_at_once(clients=32, tries=5, rate="50/min") == 50


def test_with_redis_unreachable_searches_go_on_unlimited(client, settings):
    settings.API_ANON_RATE = settings.SEARCH_PAGE_RATE = "1/min"
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    make_service(name="Legal clinic")

    pages = [client.get(SEARCH, {"q": "legal"}) for _ in range(3)]
    api = [client.get(SERVICES, {"q": "legal"}) for _ in range(3)]

    assert [response.status_code for response in pages + api] == [200] * 6
    assert "Legal clinic" in pages[-1].content.decode()
    assert api[-1].json()["results"][0]["name"] == "Legal clinic"
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json() == {"ok": False, "database": True, "cache": False}


def test_every_api_answer_says_how_many_requests_are_left(client, settings):
    settings.API_ANON_RATE = "3/min"
    first = client.get(SERVICES)
    etag = first["ETag"]
    not_modified = client.get(SERVICES, HTTP_IF_NONE_MATCH=etag)
    client.get(SERVICES)
    throttled = client.get(SERVICES)

    assert [r["RateLimit-Remaining"] for r in (first, not_modified, throttled)] == ["2", "1", "0"]
    assert not_modified.status_code == 304 and throttled.status_code == 429
    for response in (first, not_modified, throttled):
        assert response["RateLimit-Limit"] == "3"
        assert 0 < int(response["RateLimit-Reset"]) <= 60


def test_a_partner_page_on_another_origin_may_revalidate_and_read_the_limits(client):
    origin = "https://partner.example"
    preflight = client.options(
        SERVICES,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
    )
    assert "if-none-match" in preflight["Access-Control-Allow-Headers"]
    exposed = client.get(SERVICES, HTTP_ORIGIN=origin)["Access-Control-Expose-Headers"]
    for header in ("ETag", "Retry-After", "RateLimit-Remaining", "RateLimit-Reset"):
        assert header in exposed


def test_a_partner_key_carries_its_own_higher_limit_and_anonymous_use_stays_open(client, settings):
    from resources.api import keys

    settings.API_ANON_RATE = "2/min"
    _, key = keys.make("Partner site", rate="5/min")

    with_key = [client.get(SERVICES, HTTP_X_API_KEY=key) for _ in range(6)]
    assert [r.status_code for r in with_key] == [200] * 5 + [429]
    assert with_key[0]["RateLimit-Limit"] == "5"
    # The key's count is its own: the same address without it still has its two.
    assert [client.get(SERVICES).status_code for _ in range(3)] == [200, 200, 429]


def test_an_unknown_or_switched_off_key_is_a_401_not_a_silent_fallback(client):
    from resources.api import keys

    api_key, key = keys.make("Old partner")
    api_key.active = False
    api_key.save()
    for sent in (key, "dir_not-a-key"):
        response = client.get(SERVICES, HTTP_X_API_KEY=sent)
        assert response.status_code == 401
        assert "unknown or no longer active" in response.json()["detail"]


def test_a_superuser_makes_a_key_in_the_admin_and_sees_it_once(client, admin_user):
    from resources.models import ApiKey

    client.force_login(admin_user)
    response = client.post(
        "/admin/resources/apikey/add/",
        {"name": "Regional 211", "rate": "3000/min", "active": "on"},
        follow=True,
    )
    message = next(str(m) for m in response.context["messages"])
    key = message.split(" is ")[1].split(" ")[0]
    stored = ApiKey.objects.get()
    assert key.startswith(stored.prefix) and stored.digest not in message
    assert key not in client.get(f"/admin/resources/apikey/{stored.pk}/change/").content.decode()
    assert client.get(SERVICES, HTTP_X_API_KEY=key).status_code == 200
    bad = client.post("/admin/resources/apikey/add/", {"name": "X", "rate": "lots"})
    assert "Write a rate such as" in bad.content.decode()
