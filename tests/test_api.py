import datetime
import uuid

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from resources.models import (
    Address,
    Language,
    Need,
    Organization,
    Population,
    PublicationState,
    Service,
    ServiceArea,
    ServiceAtLocation,
)
from resources.search.results import ResultWindowPaginator
from tests.factories import (
    SHELTER_ADDRESS,
    SHELTER_LATITUDE,
    SHELTER_ZIP,
    make_language,
    make_location,
    make_many_services,
    make_need,
    make_organization,
    make_phone,
    make_population,
    make_rich_service,
    make_service,
)

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/services/"


@pytest.fixture(autouse=True)
def fresh_throttle_counts(db):
    # The throttle counts live in the cache: start every test with none.
    cache.clear()


def names(response):
    return [service["name"] for service in response.json()["results"]]


# Listing and showing services


def test_it_lists_only_published_services(client):
    published = make_service(name="Legal clinic")
    for state in [PublicationState.DRAFT, PublicationState.IN_REVIEW, PublicationState.ARCHIVED]:
        make_service(name=f"Hidden {state}", publication_state=state)

    response = client.get(SERVICES)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [s["id"] for s in body["results"]] == [str(published.pk)]
    assert Service.objects.count() == 4


def test_it_lists_the_published_services_of_the_real_directory(client, directory_data):
    in_review = set(
        Service.objects.filter(publication_state=PublicationState.IN_REVIEW).values_list(
            "slug", flat=True
        )
    )

    response = client.get(SERVICES, {"page_size": 100})

    assert response.status_code == 200
    slugs = {s["slug"] for s in response.json()["results"]}
    assert slugs == set(Service.objects.published().values_list("slug", flat=True))
    assert "national-human-trafficking-hotline" in slugs
    assert "caase-legal-services" in slugs
    assert in_review
    assert not slugs & in_review


def test_it_embeds_everything_in_a_service(client):
    service = make_rich_service()

    response = client.get(f"{SERVICES}{service.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(service.pk)
    assert body["organization"]["slug"] == service.organization.slug
    assert body["url"] == "https://example.org/help"
    assert body["minimum_age"] == 18
    assert [n["slug"] for n in body["needs"]] == [n.slug for n in service.needs.all()]
    assert [p["slug"] for p in body["populations"]] == [p.slug for p in service.populations.all()]
    assert {language["code"] for language in body["languages"]} == {"en", "es"}
    assert body["phones"] == [
        {
            "number": "1-888-373-7888",
            "extension": "12",
            "type": "voice",
            "description": "Main line",
            "languages": [{"code": "es", "name": "Spanish"}],
        }
    ]
    # (Hour-less rows in no particular order.)
    schedules = sorted(body["schedules"], key=lambda s: (s["weekday"] or 0, s["notes"]))
    assert [(s["weekday"], s["opens_at"], s["closes_at"]) for s in schedules] == [
        (None, None, None),
        (None, None, None),
        (1, "09:00:00", "17:00:00"),
    ]
    assert [(s["open_24_7"], s["notes"]) for s in schedules] == [
        (True, ""),
        (False, "Closed on federal holidays"),
        (False, ""),
    ]
    assert body["service_areas"] == [{"extent": "state", "state": "IL", "county": "", "city": ""}]
    office = next(loc for loc in body["locations"] if not loc["confidential"])
    assert office["addresses"][0]["postal_code"] == "60601"
    assert office["latitude"] == pytest.approx(41.8781)
    assert office["phones"][0]["languages"] == [{"code": "en", "name": "English"}]
    assert office["schedules"][0]["weekday"] == 2


def test_a_list_item_shows_what_the_detail_shows_of_the_same_fields(client):
    service = make_rich_service(needs=[make_need(), make_need()])

    [item] = client.get(SERVICES).json()["results"]
    detail = client.get(f"{SERVICES}{service.pk}/").json()

    assert item["phones"][0]["languages"] == [{"code": "es", "name": "Spanish"}]
    assert len(item["needs"]) == 2
    assert item == {field: detail[field] for field in item}


def test_it_sends_null_for_a_blank_url_or_email(client):
    service = make_service(url="", email="")

    body = client.get(f"{SERVICES}{service.pk}/").json()

    assert body["url"] is None
    assert body["email"] is None


def test_it_answers_404_for_an_unpublished_service(client):
    draft = make_service(publication_state=PublicationState.IN_REVIEW)

    response = client.get(f"{SERVICES}{draft.pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No Service matches the given query."}
    assert Service.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize("service_id", ["not-a-uuid", "12345", str(uuid.uuid4())])
def test_it_answers_404_for_a_malformed_or_unknown_id(client, service_id):
    make_service()

    response = client.get(f"{SERVICES}{service_id}/")

    assert response.status_code == 404
    assert "detail" in response.json()


# Confidential locations


def test_it_hides_confidential_addresses_everywhere(client):
    service = make_rich_service()
    shelter = service.service_at_locations.get(location__confidential=True).location

    answers = [
        client.get(SERVICES),
        client.get(f"{SERVICES}{service.pk}/"),
        client.get("/api/v1/locations/"),
        client.get(f"/api/v1/locations/{shelter.pk}/"),
    ]

    for response in answers:
        assert response.status_code == 200
        text = response.content.decode()
        assert SHELTER_ADDRESS not in text
        assert SHELTER_ZIP not in text
        assert str(SHELTER_LATITUDE) not in text
    for response in answers[1:]:  # the answers that embed locations
        assert "(312) 555-0199" in response.content.decode()  # how to reach it is shown
    shown = client.get(f"/api/v1/locations/{shelter.pk}/").json()
    assert shown["confidential"] is True
    assert shown["addresses"] == []
    assert shown["latitude"] is None
    assert shown["longitude"] is None
    assert Address.objects.filter(location=shelter, address_1=SHELTER_ADDRESS).exists()


def test_it_never_finds_a_shelter_by_its_zip_code_only_by_its_service_area(client):
    make_rich_service(name="Shelter program")  # serves IL; its shelter is in SHELTER_ZIP
    make_service(name="Elsewhere")

    at_the_shelter = client.get(SERVICES, {"postal_code": SHELTER_ZIP})
    elsewhere_in_illinois = client.get(SERVICES, {"postal_code": "62701"})

    assert at_the_shelter.status_code == 200
    assert names(at_the_shelter) == names(elsewhere_in_illinois) == ["Shelter program"]


def test_it_lists_only_locations_with_a_published_service(client):
    published = make_service()
    draft = make_service(publication_state=PublicationState.DRAFT)
    shown, hidden = make_location(name="Open office"), make_location(name="Draft office")
    ServiceAtLocation.objects.create(service=published, location=shown)
    ServiceAtLocation.objects.create(service=draft, location=hidden)
    make_location(name="Unused office")

    response = client.get("/api/v1/locations/")

    assert response.status_code == 200
    body = response.json()
    assert [loc["name"] for loc in body["results"]] == ["Open office"]
    assert body["results"][0]["services"] == [
        {"id": str(published.pk), "slug": published.slug, "name": published.name}
    ]
    assert client.get(f"/api/v1/locations/{hidden.pk}/").status_code == 404


# Filters: the search page's FilterSet


def test_it_filters_by_need_including_sub_needs(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    immigration = make_need(name="Immigration law", slug="immigration-law", parent=legal)
    housing = make_need(name="Housing", slug="housing")
    make_service(name="Visa clinic", needs=[immigration])
    make_service(name="Court advocates", needs=[legal])
    make_service(name="Shelter", needs=[housing])

    response = client.get(SERVICES, {"need": "legal-aid"})

    assert response.status_code == 200
    assert names(response) == ["Court advocates", "Visa clinic"]
    assert names(client.get(SERVICES, {"need": ["housing", "immigration-law"]})) == [
        "Shelter",
        "Visa clinic",
    ]


def test_it_filters_by_population_language_and_organization(client):
    youth = make_population(slug="youth")
    spanish = make_language("es", "Spanish")
    caase = make_organization(slug="caase")
    make_service(name="Youth drop-in", populations=[youth])
    make_service(name="Línea de ayuda", languages=[spanish])
    make_service(name="CAASE legal help", organization=caase)

    assert names(client.get(SERVICES, {"population": "youth"})) == ["Youth drop-in"]
    assert names(client.get(SERVICES, {"language": "es"})) == ["Línea de ayuda"]
    assert names(client.get(SERVICES, {"organization": "caase"})) == ["CAASE legal help"]


def test_it_filters_by_place(client):
    hotline = make_service(name="Hotline")
    ServiceArea.objects.create(service=hotline, extent=ServiceArea.Extent.NATIONWIDE)
    make_rich_service(name="Chicago clinic")
    texas = make_service(name="Texas clinic")
    ServiceArea.objects.create(service=texas, extent=ServiceArea.Extent.STATE, state="TX")

    assert names(client.get(SERVICES, {"state": "il"})) == ["Chicago clinic", "Hotline"]
    # A ZIP code or a city: the services there, then those serving the country.
    assert names(client.get(SERVICES, {"postal_code": "60601"})) == ["Chicago clinic", "Hotline"]
    assert names(client.get(SERVICES, {"city": "chicago"})) == ["Chicago clinic", "Hotline"]
    assert names(client.get(SERVICES, {"city": "Austin, TX"})) == ["Texas clinic", "Hotline"]
    assert names(client.get(SERVICES, {"nationwide": "true"})) == ["Hotline"]


def test_it_filters_by_hours(client):
    make_rich_service(name="Always open")  # has a 24/7 schedule
    make_service(name="No hours")

    assert names(client.get(SERVICES, {"is_24_7": "true"})) == ["Always open"]
    assert names(client.get(SERVICES, {"open_now": "true"})) == ["Always open"]


def test_it_searches_with_q(client):
    make_service(name="Immigration legal clinic", description="T visa applications")
    make_service(name="Counseling", description="Weekly groups")

    response = client.get(SERVICES, {"q": "visa"})

    assert response.status_code == 200
    assert names(response) == ["Immigration legal clinic"]


def test_it_lists_services_changed_after_a_date(client):
    old = make_service(name="Old")
    Service.objects.filter(pk=old.pk).update(modified=timezone.now() - datetime.timedelta(days=30))
    make_service(name="New")
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    assert names(client.get(SERVICES, {"modified_after": since})) == ["New"]


def test_it_orders_by_name_with_a_stable_tie_break(client):
    for name in ["Beta", "alpha", "Gamma", "Beta"]:
        make_service(name=name)

    first = client.get(SERVICES)
    again = client.get(SERVICES)

    assert [s["id"] for s in first.json()["results"]] == [s["id"] for s in again.json()["results"]]
    reverse = names(client.get(SERVICES, {"ordering": "-name"}))
    assert reverse == list(reversed(names(first)))


# Pagination


def test_it_paginates_with_the_total_count(client):
    for n in range(5):
        make_service(name=f"Service {n}")

    response = client.get(SERVICES, {"page_size": 2, "page": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert body["count_exact"] is True
    assert body["total_pages"] == 3
    assert body["page"] == 2
    assert body["page_size"] == 2
    assert names(response) == ["Service 2", "Service 3"]
    assert body["next"].endswith("page=3&page_size=2")
    assert body["previous"].endswith("page_size=2")


def test_it_pages_by_20_by_default(client):
    make_many_services(21)

    body = client.get(SERVICES).json()

    assert body["page_size"] == 20
    assert len(body["results"]) == 20
    assert body["count"] == 21


# Bad input: a 400 that names the parameter, or a 404; never a 500


@pytest.mark.parametrize(
    "params, parameter, message",
    [
        ({"page_size": "100000"}, "page_size", "less than or equal to 100"),
        ({"page_size": "0"}, "page_size", "greater than or equal to 1"),
        ({"page": "0"}, "page", "greater than or equal to 1"),
        ({"page": "abc"}, "page", "valid integer"),
        ({"need": "no-such-need"}, "need", "Select a valid choice"),
        ({"population": "no-such-population"}, "population", "Select a valid choice"),
        ({"language": "xx"}, "language", "Select a valid choice"),
        ({"organization": "no-such-organization"}, "organization", "Select a valid choice"),
        ({"modified_after": "yesterday"}, "modified_after", "valid date/time"),
        ({"ordering": "price"}, "ordering", "Select a valid choice"),
        ({"state": "Illinois"}, "state", "two-letter state code"),
        ({"postal_code": "6060"}, "postal_code", "five-digit ZIP code"),
        ({"nationwide": "perhaps"}, "nationwide", "Use true or false"),
        ({"open_now": "sometimes"}, "open_now", "Use true or false"),
    ],
)
def test_it_rejects_a_bad_parameter_with_400(client, params, parameter, message):
    make_service()

    response = client.get(SERVICES, params)

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [parameter]
    assert message in body[parameter][0]


@pytest.mark.parametrize("params", [{"q": "visa\x00"}, {"city": "\x00"}, {"need": "\x00"}])
def test_it_refuses_a_null_character_with_400(client, params):
    # PostgreSQL cannot compare text holding one: it must never reach a query.
    response = client.get(SERVICES, params)

    assert response.status_code == 400
    assert response.json() == {name: ["Null characters are not allowed."] for name in params}


@pytest.mark.parametrize("url", ["/api/v1/needs/%00/", "/api/v1/languages/e%00/"])
def test_it_finds_nothing_at_a_path_with_a_null_character(client, url):
    make_need()

    response = client.get(url)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_it_answers_404_for_a_page_beyond_the_last(client):
    make_service()

    response = client.get(SERVICES, {"page": 2})

    assert response.status_code == 404
    assert response.json() == {"detail": "Page 2 does not exist: the last page is 1."}


def test_it_pages_through_the_first_results_of_a_broad_search(client, monkeypatch):
    monkeypatch.setattr(ResultWindowPaginator, "window", 5)
    for n in range(7):
        make_service(name=f"Service {n}")

    last = client.get(SERVICES, {"page_size": 2, "page": 3})
    past = client.get(SERVICES, {"page_size": 2, "page": 4})

    body = last.json()
    assert (body["count"], body["count_exact"], body["total_pages"]) == (5, False, 3)
    assert names(last) == ["Service 4"]
    assert body["next"] is None
    assert past.status_code == 404
    assert "past the first 5 results" in past.json()["detail"]


def test_it_answers_an_empty_first_page_when_nothing_matches(client):
    response = client.get(SERVICES)

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("detail", [False, True])
def test_it_refuses_to_write(client, method, detail):
    service = make_service(name="Legal clinic")
    url = f"{SERVICES}{service.pk}/" if detail else SERVICES

    response = getattr(client, method)(url, {"name": "Changed"}, content_type="application/json")

    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
    assert Service.objects.get().name == "Legal clinic"


# The other endpoints


def test_it_lists_organizations_with_a_published_service(client):
    shown = make_organization(name="CAASE")
    hidden = make_organization(name="Drafts only")
    published = make_service(organization=shown)
    make_service(organization=shown, publication_state=PublicationState.DRAFT)
    make_service(organization=hidden, publication_state=PublicationState.IN_REVIEW)

    response = client.get("/api/v1/organizations/")

    assert response.status_code == 200
    body = response.json()
    assert [o["name"] for o in body["results"]] == ["CAASE"]
    assert [s["id"] for s in body["results"][0]["services"]] == [str(published.pk)]
    assert client.get(f"/api/v1/organizations/{shown.pk}/").status_code == 200
    assert client.get(f"/api/v1/organizations/{hidden.pk}/").status_code == 404
    assert Organization.objects.count() == 2


def test_it_serves_the_needs_tree(client):
    legal = make_need(name="Legal aid", slug="legal-aid", position=1)
    make_need(name="Immigration law", slug="immigration-law", parent=legal)

    response = client.get("/api/v1/needs/")

    assert response.status_code == 200
    by_slug = {n["slug"]: n for n in response.json()["results"]}
    assert by_slug["legal-aid"]["parent"] is None
    assert by_slug["legal-aid"]["children"] == ["immigration-law"]
    assert by_slug["immigration-law"]["parent"] == "legal-aid"
    detail = client.get("/api/v1/needs/immigration-law/")
    assert detail.status_code == 200
    assert detail.json()["name"] == "Immigration law"
    assert client.get("/api/v1/needs/no-such-need/").status_code == 404


def test_it_serves_populations_and_languages(client, directory_data):
    populations = client.get("/api/v1/populations/", {"page_size": 100}).json()
    languages = client.get("/api/v1/languages/", {"page_size": 100}).json()

    assert populations["count"] == Population.objects.count()
    assert "women" in {p["slug"] for p in populations["results"]}
    assert languages["count"] == Language.objects.count()
    assert {"code": "es", "name": "Spanish"} in languages["results"]
    assert client.get("/api/v1/languages/es/").json() == {"code": "es", "name": "Spanish"}
    assert Need.objects.exists()


# Efficiency


@pytest.mark.parametrize("page_size", [1, 100])
def test_it_lists_services_in_a_fixed_number_of_queries(
    client, settings, django_assert_num_queries, page_size
):
    # Throttle counts in memory, so that only the listing's own queries are counted.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    make_many_services(100)

    # how many match and the latest change among them (the ETag), how many match (up to
    # the search window), their ids in order, the page's services (with their
    # organization), then one query for each embedded relation: needs, populations,
    # languages, phones and the phones' languages.
    with django_assert_num_queries(9):
        response = client.get(SERVICES, {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size


def test_it_lists_with_filters_in_a_fixed_number_of_queries(client, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    services = make_many_services(30)
    need = services[0].needs.get()
    params = {"need": need.slug, "language": "en", "state": "IL", "is_24_7": "true"}

    counts = []
    for page_size in [1, 30]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(SERVICES, {**params, "page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size
        counts.append(len(queries))

    assert counts[0] == counts[1]


# Caching for partners


def test_it_lets_partners_cache_answers(client):
    service = make_service()

    for url in [SERVICES, f"{SERVICES}{service.pk}/", "/api/v1/needs/"]:
        response = client.get(url)
        assert response.status_code == 200
        assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=60"}
        assert response["ETag"].startswith('"')


def test_it_answers_304_when_nothing_changed(client):
    service = make_service(name="Legal clinic")
    url = f"{SERVICES}{service.pk}/"
    etag = client.get(url)["ETag"]

    unchanged = client.get(url, headers={"if-none-match": etag})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == etag

    service.name = "Legal clinic (renamed)"
    service.save()
    changed = client.get(url, headers={"if-none-match": etag})

    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["name"] == "Legal clinic (renamed)"


# Committed, as partners see changes: within one transaction now() does not move, so a
# row saved after its service would not move the service's `modified`.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("api", ["/api/v1/services/", "/api/hsds/services"])
def test_an_unchanged_list_is_a_304_after_one_query(
    client, settings, django_assert_num_queries, api
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    first, second = make_service(name="Legal clinic"), make_service(name="Shelter")
    etag = client.get(api)["ETag"]

    with django_assert_num_queries(1):
        unchanged = client.get(api, headers={"if-none-match": etag})
    assert unchanged.status_code == 304

    tags = {etag}
    for change in (
        lambda: make_phone(service=first, number="(312) 555-0100"),  # shown in the list
        lambda: Service.objects.filter(pk=second.pk).update(publication_state="draft"),
        lambda: make_service(name="New clinic"),
    ):
        change()
        answer = client.get(api, headers={"if-none-match": etag})
        assert answer.status_code == 200
        tags.add(answer["ETag"])
        etag = answer["ETag"]
    assert len(tags) == 4


def test_it_does_not_cache_errors(client):
    response = client.get(SERVICES, {"need": "no-such-need"})

    assert response.status_code == 400
    assert "ETag" not in response
    assert "public" not in response.get("Cache-Control", "")


# Cross-origin reads


def test_it_lets_any_origin_read_the_api(client):
    response = client.get(SERVICES, headers={"origin": "https://partner.example"})

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"


def test_it_answers_a_cors_preflight_for_get(client):
    response = client.options(
        SERVICES,
        headers={"origin": "https://partner.example", "access-control-request-method": "GET"},
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in response["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("url", ["/admin/login/", "/"])
def test_it_keeps_the_rest_of_the_site_same_origin(client, url):
    response = client.get(url, headers={"origin": "https://partner.example"})

    assert "Access-Control-Allow-Origin" not in response


@override_settings(DEBUG=False)
def test_an_unknown_api_address_answers_json_404(client):
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_facets_count_each_need_and_population_under_the_current_filters(
    client, directory_data, settings, django_assert_max_num_queries
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # 2 to load the synonyms (then cached), 1 for the need tree, 1 for the count and the
    # counts of needs and populations, 1 for each taxonomy's counted terms.
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/services/facets/", {"q": "lawyer"})
    assert response.status_code == 200
    body = response.json()
    needs = {facet["slug"]: facet["count"] for facet in body["needs"]}
    lawyers = Service.objects.published().filter(needs__slug="legal-aid").count()
    assert body["count"] == needs["legal-aid"] == lawyers > 1
    assert {"slug", "name", "count"} == set(body["populations"][0])


def test_facets_refuse_a_bad_filter_like_the_list(client, directory_data):
    response = client.get("/api/v1/services/facets/", {"need": "no-such-need"})
    assert response.status_code == 400
    assert "need" in response.json()


@pytest.mark.parametrize(
    "path", [SERVICES, f"{SERVICES}facets/", "/api/v1/needs/", "/api/v1/changes/"]
)
def test_a_misspelt_parameter_is_a_400_naming_it_not_ignored(client, path):
    make_service()
    response = client.get(
        path,
        {"neeed": "legal-aid", "page_size": "5"} if path == SERVICES else {"neeed": "legal-aid"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["neeed"]
    assert client.get(path, {"format": "json"}).status_code == 200
