"""The site's safety rules, checked over every route rather than by example.

Survivors may land on any public page and partners read every API answer, so each rule
is asked of every route the URL configuration holds (a route added later is checked
without a new test): no write method, the safety headers, the quick exit on every page,
and nothing of a draft, in-review or archived service, nor a confidential address,
in any answer, even where those records share an organization or a location with
published ones (the "twins" below).
"""

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote_plus

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from resources.models import (
    Address,
    Location,
    PublicationState,
    Service,
    ServiceAtLocation,
)
from tests.factories import (
    make_language,
    make_location,
    make_need,
    make_organization,
    make_phone,
    make_population,
    make_service,
)

# These tests ask hundreds of questions, past the limit for one client.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled")]


# Written out here, not imported: widening the policy in the code must fail this test.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Neither sends a referrer to another site.
REFERRER_POLICIES = {"no-referrer", "same-origin"}
EXIT_URL = "https://exit.example/neutral?q=weather"
WRITE_METHODS = ("post", "put", "patch", "delete")
# The only public routes that take a write: the referral list's buttons (POST only), and
# the suggestion form, a page that posts to itself.
POST_ROUTES = {"resources:referral_add", "resources:referral_remove", "resources:referral_clear"}
FORM_ROUTES = {"resources:suggest"}


# Every route


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str
    kwargs: tuple


def routes(patterns=None, prefix="", namespace=""):
    """Every route of the URL configuration, with the names of the values it takes."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            regex = pattern.pattern.regex
            yield Route(
                prefix + str(pattern.pattern),
                namespace + (pattern.name or ""),
                tuple(sorted(regex.groupindex)),
            )


def public_routes():
    """Every route but the admin's, which is for signed-in curators."""
    found = [route for route in routes() if not route.pattern.startswith("admin/")]
    assert len(found) > 20, found
    return found


def urls_of(route, values):
    """Concrete URLs of a route: one for each sample value of each value it takes."""
    for name in route.kwargs:
        assert name in values, f"{route.pattern} takes {name}: give the tests sample values"
    if not route.kwargs:
        return [reverse(route.name)]
    urls = []
    for name in route.kwargs:
        for value in values[name]:
            kwargs = {other: values[other][0] for other in route.kwargs}
            kwargs[name] = value
            urls.append(reverse(route.name, kwargs=kwargs))
    return sorted(set(urls))


def assert_safe_headers(response, where):
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, where
    assert response["Referrer-Policy"] in REFERRER_POLICIES, where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["X-Frame-Options"] == "DENY", where
    assert "geolocation=()" in response["Permissions-Policy"], where


def is_page(response):
    return response["Content-Type"].startswith("text/html") and response.content.strip()


def assert_quick_exit(response, where):
    html = response.content.decode()
    link = re.search(r'<a id="quick-exit"[^>]*\bhref="([^"]*)"', html)
    assert link, f"{where}: no quick exit"
    assert link.group(1).replace("&amp;", "&") == EXIT_URL, where


# The twins: records that must never be shown, beside and sharing with published ones


@dataclass
class Twins:
    published: Service
    values: dict  # sample values for every route's kwargs
    secrets: list  # text that must appear in no answer
    shelter_zip: str
    twin_only_need: str


SHELTER_STREET = "Qxv Hidden Lane"
SHELTER_ZIP = "60291"
SHELTER_LATITUDE = "12.345678"
SHELTER_LONGITUDE = "98.765432"


@pytest.fixture
def twins(db):
    english = make_language("en", "English")
    need, population = make_need(name="Legal aid", slug="legal-aid"), make_population()
    twin_need = make_need(name="Twin need", slug="twin-only-need")
    shared_org = make_organization(name="Shared organization", slug="shared-organization")
    draft_org = make_organization(name="Quiver drafts only", slug="quiver-drafts-only")

    published = make_service(
        name="Open legal clinic",
        slug="open-legal-clinic",
        organization=shared_org,
        needs=[need],
        populations=[population],
        languages=[english],
    )
    hidden = []
    for state, word in [
        (PublicationState.DRAFT, "Quixotic"),
        (PublicationState.IN_REVIEW, "Quandary"),
        (PublicationState.ARCHIVED, "Quagmire"),
    ]:
        hidden.append(
            make_service(
                name=f"{word} legal clinic",
                slug=f"{word.lower()}-legal-clinic",
                organization=shared_org,
                description=f"{word}zz description",
                keywords=f"{word}kw",
                url=f"https://{word.lower()}.example/",
                email=f"{word.lower()}@example.org",
                publication_state=state,
                needs=[need, twin_need],
                populations=[population],
                languages=[english],
            )
        )
    draft_only = make_service(
        name="Quiver draft", slug="quiver-draft", organization=draft_org, needs=[twin_need]
    )
    draft_only.publication_state = PublicationState.DRAFT
    draft_only.save()
    hidden.append(draft_only)
    for service in hidden:
        make_phone(service=service, number="(312) 555-0177", description=f"{service.name} line")

    # A public office shared by the published service and the hidden ones.
    office = make_location(name="Shared office", organization=shared_org)
    Address.objects.create(
        location=office,
        address_1="100 Main St",
        city="Chicago",
        state_province="IL",
        postal_code="60601",
    )
    # A confidential shelter shared by them too.
    shelter = make_location(
        name="Safe house",
        organization=shared_org,
        confidential=True,
        latitude=Decimal(SHELTER_LATITUDE),
        longitude=Decimal(SHELTER_LONGITUDE),
    )
    shelter_address = Address.objects.create(
        location=shelter,
        address_1=SHELTER_STREET,
        city="Quonset",
        state_province="IL",
        postal_code=SHELTER_ZIP,
    )
    make_phone(location=shelter, number="(312) 555-0199")
    # An office only the hidden services use.
    draft_office = make_location(name="Quarry draft office", organization=draft_org)
    hidden_links = []
    for service in [published, *hidden]:
        for location in (office, shelter):
            link = ServiceAtLocation.objects.create(service=service, location=location)
            if service is not published:
                hidden_links.append(link)
    hidden_links.append(ServiceAtLocation.objects.create(service=draft_only, location=draft_office))

    ids = [published.pk, shared_org.pk, office.pk, shelter.pk]
    secrets = [SHELTER_STREET, SHELTER_ZIP, "Quonset", SHELTER_LATITUDE, SHELTER_LONGITUDE]
    secrets += ["555-0177", str(shelter_address.pk), str(draft_org.pk), str(draft_office.pk)]
    secrets += [draft_org.name, draft_office.name]
    for service in hidden:
        secrets.append(service.name.split()[0].lower())  # the word a suggestion would be
        secrets += [service.name, service.slug, str(service.pk), service.description]
        secrets += [service.keywords, service.url, service.email]
        ids.append(service.pk)
    secrets += [str(link.pk) for link in hidden_links]
    ids += [draft_org.pk, draft_office.pk, *(link.pk for link in hidden_links)]
    ids.append(ServiceAtLocation.objects.get(service=published, location=office).pk)
    ids.append(uuid.uuid4())  # nothing at all
    slugs = [published.slug, shared_org.slug, draft_org.slug, *(s.slug for s in hidden)]
    slugs += ["legal-aid", "twin-only-need", population.slug, "no-such-thing"]
    values = {
        "pk": ids,
        "id": ids,
        "slug": slugs,
        "code": ["en", "xx"],
        "format": ["json"],
    }
    secrets = [secret for secret in secrets if secret]
    return Twins(published, values, secrets, SHELTER_ZIP, twin_need.slug)


# Query strings that reach for hidden records: by their words, their place, their
# organization, or a page large enough to hold everything.
def reaching_params(twins):
    org = twins.published.organization
    return [
        {},
        {"q": "Quixotic"},
        {"q": "quixotix"},  # a misspelling, whose "did you mean" must not be the draft
        {"q": "Quandary Quagmire"},
        {"q": "clinic"},
        {"search": "Quixotic"},
        {"search": "Quiver"},
        {"postal_code": twins.shelter_zip},
        {"postcode": twins.shelter_zip},
        {"city": "Quonset"},
        {"q": "Quonset"},
        {"state": "IL"},
        {"need": "twin-only-need"},
        {"organization": org.slug},
        {"organization_id": str(org.pk)},
        {"full": "true"},
        {"full_service": "true"},
        {"full": "true", "full_service": "true"},
        {"minimal": "true"},
        {"page_size": "100", "per_page": "100"},
        {"ordering": "recently_modified"},
    ]


def every_answer(client, twins):
    """(where, response) for every public GET route, with every reaching query string
    for the routes that list."""
    for route in public_routes():
        if route.name in POST_ROUTES:
            continue
        for url in urls_of(route, twins.values):
            params = reaching_params(twins) if not route.kwargs else [{}, {"full_service": "true"}]
            for query in params:
                response = client.get(url, query)
                assert response.status_code < 500, (url, query)
                yield f"{url} {query}", query, response


def without_echo(text, query):
    """The answer without what the query string sent (a page repeats the words in its
    search box, the API in its next-page links and its error messages), so that a secret
    the tests typed to reach for hidden records is not mistaken for one the answer gave
    away. (A leaked address would still show its street, which no query sends.)"""
    for value in query.values():
        text = text.replace(f"={quote_plus(value)}", "").replace(value, "")
    return text


def test_no_answer_shows_a_hidden_service_or_a_confidential_address(client, twins):
    client.post(reverse("resources:referral_add"), {"service": str(twins.published.pk)})
    for hidden in Service.objects.exclude(publication_state=PublicationState.PUBLISHED):
        client.post(reverse("resources:referral_add"), {"service": str(hidden.pk)})

    checked = 0
    for where, query, response in every_answer(client, twins):
        text = without_echo(response.content.decode(), query)
        for secret in twins.secrets:
            assert secret not in text, f"{where} shows {secret!r}"
        checked += 1
    assert checked > 300
    # The published one is there to be found, so the answers were not all empty.
    assert "Open legal clinic" in client.get(reverse("resources:referral_list")).content.decode()
    assert "Shared office" in client.get("/api/v1/locations/").content.decode()


def test_facet_counts_count_only_published_services(client, twins):
    response = client.get("/api/v1/services/facets/")
    assert response.status_code == 200
    assert twins.twin_only_need not in response.content.decode()
    assert response.json()["count"] == 1


def test_every_public_route_refuses_write_methods(client, twins):
    for route in public_routes():
        for url in urls_of(route, twins.values):
            for method in WRITE_METHODS:
                if route.name in POST_ROUTES | FORM_ROUTES and method == "post":
                    continue
                response = getattr(client, method)(url)
                assert response.status_code == 405, (method, url, response.status_code)
            if route.name in POST_ROUTES:
                assert client.get(url).status_code == 405, url


def test_every_public_route_sends_the_safety_headers(client, twins):
    for route in public_routes():
        for url in urls_of(route, twins.values):
            assert_safe_headers(client.get(url), url)
            assert_safe_headers(client.post(url), f"POST {url}")


@override_settings(QUICK_EXIT_URL=EXIT_URL)
def test_every_public_page_offers_the_quick_exit(client, twins):
    pages = 0
    for route in public_routes():
        for url in urls_of(route, twins.values):
            for response in (client.get(url), client.get(url, {"need": "no-such-need"})):
                if is_page(response):
                    assert_quick_exit(response, url)
                    pages += 1
    assert pages > 10


@override_settings(QUICK_EXIT_URL=EXIT_URL)
def test_the_error_page_offers_the_quick_exit_and_the_safety_headers(monkeypatch, twins):
    def broken(*args, **kwargs):
        raise RuntimeError("a fault on the server")

    monkeypatch.setattr("resources.referrals.services", broken)
    client = Client(raise_request_exception=False)

    response = client.get(reverse("resources:referral_list"))

    assert response.status_code == 500
    assert is_page(response)
    assert_quick_exit(response, "500")
    assert_safe_headers(response, "500")
    assert "a fault on the server" not in response.content.decode()


def test_a_whole_visit_leaves_only_the_referral_list_in_the_session(client, twins):
    """Caseworkers type what a client tells them into the search box: none of it may be
    kept on the server (or in a cookie) beyond the list of services they chose."""
    typed = "Maria from Honduras needs a T visa lawyer"
    client.get("/", {"q": typed, "need": "legal-aid", "state": "IL"})
    client.get("/", {"q": typed, "page": "2"})
    client.get("/", {"need": "no-such-need", "q": typed})
    client.get("/api/v1/services/", {"q": typed})
    client.get("/api/hsds/services", {"search": typed})
    client.get(twins.published.get_absolute_url())
    client.get(twins.published.organization.get_absolute_url())
    client.post(
        reverse("resources:referral_add"),
        {"service": str(twins.published.pk), "next": f"/?q={typed}"},
    )
    client.get(f"/?q={typed}")
    client.get(reverse("resources:referral_list"))
    client.get(reverse("resources:referral_list_text"))
    client.get(reverse("resources:safety"))

    assert set(client.session.keys()) - {"_session_expiry"} == {"referral_list"}
    assert client.session["referral_list"] == [str(twins.published.pk)]
    for cookie in client.cookies.values():
        assert "Maria" not in cookie.value and "Honduras" not in cookie.value
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        stored = " ".join(row[0] for row in cursor.fetchall())
    assert "Maria" not in stored and "Honduras" not in stored


# The two locks on confidential addresses: each must hold alone.


def loaded(instance, model, relation):
    """The `model` objects loaded with `instance` (prefetched, or kept in a list)."""
    found = list(getattr(instance, "_prefetched_objects_cache", {}).get(relation, []))
    for value in vars(instance).values():
        if isinstance(value, list):
            found += [item for item in value if isinstance(item, model)]
    return found


def test_listing_querysets_never_load_a_confidential_address(twins):
    """The first lock: what pages and the API load holds no confidential address, so no
    template or serializer can show one by mistake."""
    from resources.api.querysets import public_locations

    services = Service.objects.published()
    locations = list(public_locations())
    for service in [*services.for_results(), *services.for_display()]:
        links = loaded(service, ServiceAtLocation, "service_at_locations")
        locations += [link.location for link in links]
    streets = [a.address_1 for loc in locations for a in loaded(loc, Address, "addresses")]
    assert "100 Main St" in streets
    assert SHELTER_STREET not in streets


def test_a_confidential_location_shows_no_address_however_it_was_loaded(twins):
    """The second lock: a location loaded with its addresses still gives none of them,
    nor its coordinates, once it is confidential."""
    shelter = Location.objects.prefetch_related("addresses").get(confidential=True)
    assert [a.address_1 for a in shelter.addresses.all()] == [SHELTER_STREET]
    assert list(shelter.public_addresses) == []
    assert shelter.public_coordinates is None
    office = Location.objects.get(name="Shared office")
    assert [a.address_1 for a in office.public_addresses] == ["100 Main St"]


def test_settings_keep_the_referrer_from_other_sites():
    assert settings.SECURE_REFERRER_POLICY in REFERRER_POLICIES
