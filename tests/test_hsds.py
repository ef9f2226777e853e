import datetime
import json
import uuid
from functools import cache as memoize
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from resources.hsds.taxonomies import NEEDS, POPULATIONS
from resources.models import (
    Need,
    Organization,
    Population,
    PublicationState,
    Service,
    ServiceArea,
    ServiceAtLocation,
)
from tests.conftest import shared_path
from tests.factories import (
    SHELTER_ADDRESS,
    SHELTER_LATITUDE,
    SHELTER_ZIP,
    make_location,
    make_many_services,
    make_need,
    make_organization,
    make_population,
    make_service,
)
from tests.factories import make_rich_service as make_v1_rich_service

pytestmark = pytest.mark.django_db

HSDS = "/api/hsds"
PAGE_FIELDS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}


@pytest.fixture(autouse=True)
def fresh_throttle_counts(db):
    cache.clear()


# Validation against the HSDS 3.0 schemas in ../shared/hsds/schema

# jsonschema checks "date-time" and "uri" only with optional packages this project does not
# install: check them here, strictly enough for what the profile sends.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_date_time(value):
    if not isinstance(value, str):
        return True
    return "T" in value and datetime.datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def is_uri(value):
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@memoize
def hsds_schema(name):
    return json.loads(shared_path("hsds", "schema", name).read_text())


def validator(name):
    # taxonomy_term.json and attribute.json refer to their neighbours by file name.
    registry = Registry().with_resources(
        (neighbour, Resource.from_contents(hsds_schema(neighbour), DRAFT202012))
        for neighbour in ["taxonomy.json", "taxonomy_term.json", "attribute.json"]
    )
    return Draft202012Validator(hsds_schema(name), registry=registry, format_checker=FORMATS)


def assert_valid(document, schema_name):
    errors = sorted(validator(schema_name).iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def get_ok(client, path, params=None):
    response = client.get(f"{HSDS}{path}", params or {})
    assert response.status_code == 200, response.content
    return response.json()


def get_page(client, path, params=None, schema_name=None):
    page = get_ok(client, path, params)
    assert set(page) == PAGE_FIELDS
    if schema_name:
        for item in page["contents"]:
            assert_valid(item, schema_name)
    return page


def make_rich_service(**fields):
    service = make_v1_rich_service(**fields)
    ServiceArea.objects.create(service=service, extent=ServiceArea.Extent.NATIONWIDE)
    return service


def test_it_validates_for_real():
    # The checks above are not vacuous: a wrong id format, a missing field and a null fail.
    bad = {"id": "not-a-uuid", "status": "active", "url": "example", "minimum_age": None}

    with pytest.raises(ValidationError):
        validator("service.json").validate(bad)
    assert len(list(validator("service.json").iter_errors(bad))) == 4


# The root and the profile's own description


def test_it_describes_the_profile_at_its_root(client):
    body = get_ok(client, "/")

    assert body == {
        "version": "3.0",
        "profile": "http://testserver/api/docs/",
        "openapi_url": "http://testserver/api/hsds/openapi.json",
    }
    assert client.get(urlsplit(body["openapi_url"]).path).status_code == 200


def test_it_serves_the_hsds_paths_in_its_openapi_description(client):
    reference = json.loads(shared_path("hsds", "openapi.json").read_text())

    response = client.get(f"{HSDS}/openapi.json")

    assert response.status_code == 200
    description = json.loads(response.content)
    assert description["servers"] == [{"url": "/api/hsds"}]
    # Every path of the reference, and the change feed, this profile's one addition.
    assert set(description["paths"]) == set(reference["paths"]) | {"/changes"}
    services = description["paths"]["/services"]["get"]
    assert {p["name"] for p in services["parameters"]} >= {
        "search",
        "page",
        "per_page",
        "taxonomy_term_id",
        "taxonomy_id",
        "organization_id",
        "modified_after",
        "postcode",
        "minimal",
    }


# Services


def test_it_pages_services_in_the_hsds_envelope(client):
    for name in ["A", "B", "C"]:
        make_service(name=name)

    page = get_page(client, "/services", {"per_page": 2, "page": 2})

    assert {k: v for k, v in page.items() if k != "contents"} == {
        "total_items": 3,
        "total_pages": 2,
        "page_number": 2,
        "size": 1,
        "first_page": False,
        "last_page": True,
        "empty": False,
    }
    assert [s["name"] for s in page["contents"]] == ["C"]


def test_it_says_when_nothing_matched(client):
    page = get_page(client, "/services")

    assert page["empty"] is True
    assert page["total_items"] == 0
    assert page["contents"] == []
    assert page["first_page"] is page["last_page"] is True


def test_it_lists_the_real_directory_valid_against_service_list_json(client, directory_data):
    make_rich_service()

    page = get_page(client, "/services", {"per_page": 100}, "service_list.json")

    listed = {s["id"] for s in page["contents"]}
    assert listed == {str(pk) for pk in Service.objects.published().values_list("pk", flat=True)}
    assert Service.objects.filter(publication_state=PublicationState.IN_REVIEW).exists()


def test_it_serves_every_published_service_valid_against_service_json(client, directory_data):
    make_rich_service()

    for service in Service.objects.published():
        body = get_ok(client, f"/services/{service.pk}")
        assert_valid(body, "service.json")
        assert body["id"] == str(service.pk)
        assert body["name"] == service.name


def test_it_nests_everything_in_a_service(client):
    service = make_rich_service()

    body = get_ok(client, f"/services/{service.pk}")

    assert body["organization_id"] == str(service.organization_id)
    assert body["organization"]["name"] == service.organization.name
    assert body["url"] == "https://example.org/help"
    assert body["minimum_age"] == 18
    assert "maximum_age" not in body  # HSDS leaves out what is unknown, never null
    assert {language["code"] for language in body["languages"]} == {"en", "es"}
    assert {language["service_id"] for language in body["languages"]} == {str(service.pk)}
    phone = body["phones"][0]
    assert (phone["number"], phone["extension"], phone["type"]) == ("1-888-373-7888", 12, "voice")
    assert phone["languages"][0]["code"] == "es"
    assert {area["name"] for area in body["service_areas"]} == {"IL", "Nationwide"}
    assert len(body["service_at_locations"]) == 2


def test_it_writes_hours_as_hsds_schedules(client):
    service = make_rich_service()

    schedules = get_ok(client, f"/services/{service.pk}")["schedules"]

    by_kind = {s.get("byday", s.get("notes")): s for s in schedules}
    monday = by_kind["MO"]
    assert (monday["freq"], monday["opens_at"], monday["closes_at"]) == (
        "WEEKLY",
        "09:00:00",
        "17:00:00",
    )
    always = by_kind["MO,TU,WE,TH,FR,SA,SU"]
    assert (always["opens_at"], always["closes_at"]) == ("00:00:00", "23:59:59")
    assert always["description"] == "Open 24 hours a day, 7 days a week."
    note = by_kind["Closed on federal holidays"]
    assert "freq" not in note
    assert note["description"] == "Closed on federal holidays"


def test_it_links_needs_and_populations_as_attributes(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    immigration = make_need(name="Immigration law", slug="immigration-law", parent=legal)
    women = make_population(name="Women", slug="women")
    service = make_service(needs=[immigration], populations=[women])

    attributes = get_ok(client, f"/services/{service.pk}")["attributes"]

    by_term = {a["taxonomy_term"]["code"]: a for a in attributes}
    assert set(by_term) == {"immigration-law", "women"}
    need = by_term["immigration-law"]
    assert need["link_id"] == str(service.pk)
    assert need["link_entity"] == "service"
    assert need["link_type"] == "service"
    assert need["taxonomy_term_id"] == str(immigration.pk)
    assert need["taxonomy_term"]["parent_id"] == str(legal.pk)
    assert need["taxonomy_term"]["taxonomy_id"] == str(NEEDS.id)
    assert by_term["women"]["taxonomy_term"]["taxonomy_id"] == str(POPULATIONS.id)
    # The ids HSDS needs for these links are the same on every request.
    assert get_ok(client, f"/services/{service.pk}")["attributes"] == attributes


def test_it_hides_confidential_locations(client):
    service = make_rich_service()
    shelter_link = service.service_at_locations.get(location__confidential=True)

    answers = [
        get_ok(client, "/services"),
        get_ok(client, f"/services/{service.pk}"),
        get_ok(client, "/service_at_locations"),
        get_ok(client, f"/service_at_locations/{shelter_link.pk}"),
        get_ok(client, f"/organizations/{service.organization_id}", {"full_service": "true"}),
        get_ok(client, "/organizations", {"full": "true"}),
    ]

    for body in answers:
        text = json.dumps(body)
        assert SHELTER_ADDRESS not in text
        assert SHELTER_ZIP not in text
        assert str(SHELTER_LATITUDE) not in text
    shelter = get_ok(client, f"/service_at_locations/{shelter_link.pk}")["location"]
    assert shelter["addresses"] == []
    assert "latitude" not in shelter
    assert "longitude" not in shelter
    assert shelter["phones"][0]["number"] == "(312) 555-0199"


def test_it_shows_nothing_unpublished(client):
    organization = make_organization(name="Drafts only")
    draft = make_service(organization=organization, publication_state=PublicationState.IN_REVIEW)
    location = make_location()
    link = ServiceAtLocation.objects.create(service=draft, location=location)

    assert get_ok(client, "/services")["total_items"] == 0
    assert get_ok(client, "/service_at_locations")["total_items"] == 0
    assert get_ok(client, "/organizations")["total_items"] == 0
    for path in [
        f"/services/{draft.pk}",
        f"/service_at_locations/{link.pk}",
        f"/organizations/{organization.pk}",
    ]:
        response = client.get(f"{HSDS}{path}")
        assert response.status_code == 404
        assert "detail" in response.json()
    assert Service.objects.get().publication_state == PublicationState.IN_REVIEW


def test_it_lists_minimal_services(client):
    service = make_rich_service()

    page = get_page(client, "/services", {"minimal": "true"}, "service_list.json")

    assert set(page["contents"][0]) == {"id", "name", "status", "last_modified"}
    assert page["contents"][0]["id"] == str(service.pk)


# Filters: HSDS parameters through the search page's FilterSet


def listed(client, path="/services", **params):
    return [s["name"] for s in get_page(client, path, params)["contents"]]


def test_it_filters_services_by_taxonomy_term(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    immigration = make_need(name="Immigration law", slug="immigration-law", parent=legal)
    youth = make_population(slug="youth")
    make_service(name="Visa clinic", needs=[immigration])
    make_service(name="Court advocates", needs=[legal], populations=[youth])
    make_service(name="Shelter")

    assert listed(client, taxonomy_term_id=legal.pk) == ["Court advocates", "Visa clinic"]
    assert listed(client, taxonomy_term_id=youth.pk) == ["Court advocates"]
    assert listed(client, taxonomy_id=POPULATIONS.id) == ["Court advocates"]
    assert listed(client, taxonomy_id=NEEDS.id) == ["Court advocates", "Visa clinic"]
    assert listed(client, taxonomy_id=NEEDS.id, taxonomy_term_id=immigration.pk) == ["Visa clinic"]


def test_it_filters_services_by_search_organization_date_and_postcode(client):
    caase = make_organization(name="CAASE")
    make_service(name="Immigration legal clinic", description="T visa applications")
    make_service(name="CAASE legal help", organization=caase)
    make_rich_service(name="Chicago office")
    old = make_service(name="Old entry")
    Service.objects.filter(pk=old.pk).update(modified=timezone.now() - datetime.timedelta(days=9))
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    assert listed(client, search="visa") == ["Immigration legal clinic"]
    assert listed(client, organization_id=caase.pk) == ["CAASE legal help"]
    assert "Old entry" not in listed(client, modified_after=since)
    assert "Old entry" in listed(client)
    assert listed(client, postcode="60601") == ["Chicago office"]
    # By its Illinois service area, as from any Illinois ZIP code: never by its shelter's.
    assert listed(client, postcode=SHELTER_ZIP) == listed(client, postcode="62701")


def test_it_filters_services_at_locations_with_the_same_parameters(client):
    need = make_need()
    make_rich_service(name="With need", needs=[need])
    make_rich_service(name="Without")

    page = get_page(
        client,
        "/service_at_locations",
        {"taxonomy_term_id": need.pk},
        "service_at_location_list.json",
    )

    assert page["total_items"] == 2
    assert {link["service"]["name"] for link in page["contents"]} == {"With need"}
    near = get_page(client, "/service_at_locations", {"postcode": "60601"})["contents"]
    assert {link["service"]["name"] for link in near} == {"With need", "Without"}


@pytest.mark.parametrize(
    "path, params, parameter, message",
    [
        ("/services", {"taxonomy_term_id": "legal-aid"}, "taxonomy_term_id", "not a valid UUID"),
        ("/services", {"taxonomy_term_id": uuid.UUID(int=1)}, "taxonomy_term_id", "No taxonomy"),
        ("/services", {"taxonomy_id": uuid.UUID(int=1)}, "taxonomy_id", "No taxonomy has"),
        ("/services", {"organization_id": "caase"}, "organization_id", "not a valid UUID"),
        ("/services", {"organization_id": uuid.UUID(int=1)}, "organization_id", "No organization"),
        ("/services", {"modified_after": "yesterday"}, "modified_after", "valid date/time"),
        ("/services", {"postcode": "abc"}, "postcode", "five-digit ZIP code"),
        ("/services", {"per_page": "101"}, "per_page", "less than or equal to 100"),
        ("/services", {"page": "0"}, "page", "greater than or equal to 1"),
        ("/services", {"minimal": "perhaps"}, "minimal", "valid boolean"),
        ("/service_at_locations", {"postcode": "abc"}, "postcode", "five-digit ZIP code"),
        ("/organizations", {"full_service": "perhaps"}, "full_service", "valid boolean"),
        ("/taxonomy_terms", {"parent_id": "legal-aid"}, "parent_id", "not a valid UUID"),
        ("/taxonomy_terms", {"taxonomy_id": uuid.UUID(int=1)}, "taxonomy_id", "No taxonomy has"),
        ("/taxonomy_terms", {"top_only": "perhaps"}, "top_only", "valid boolean"),
        ("/organizations", {"search": "\x00"}, "search", "Null characters are not allowed."),
        ("/services", {"search": "visa\x00"}, "search", "Null characters are not allowed."),
    ],
)
def test_it_rejects_a_bad_parameter_with_400(client, path, params, parameter, message):
    make_service()

    response = client.get(f"{HSDS}{path}", params)

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [parameter]
    assert message in body[parameter][0]


def test_it_answers_404_for_a_page_beyond_the_last(client):
    make_service()

    response = client.get(f"{HSDS}/services", {"page": 3})

    assert response.status_code == 404
    assert response.json() == {"detail": "Page 3 does not exist: the last page is 1."}


@pytest.mark.parametrize(
    "collection",
    ["services", "organizations", "service_at_locations", "taxonomies", "taxonomy_terms"],
)
@pytest.mark.parametrize("item_id", ["not-a-uuid", str(uuid.UUID(int=7))])
def test_it_answers_404_for_a_malformed_or_unknown_id(client, collection, item_id):
    response = client.get(f"{HSDS}/{collection}/{item_id}")

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_refuses_to_write(client, method):
    service = make_service(name="Legal clinic")

    response = getattr(client, method)(f"{HSDS}/services/{service.pk}", {"name": "x"})

    assert response.status_code == 405
    assert Service.objects.get().name == "Legal clinic"


# Organizations, taxonomies, services at locations


def test_it_serves_organizations_valid_against_the_organization_schemas(client, directory_data):
    service = make_rich_service()
    make_organization(name="Nothing published")

    page = get_page(client, "/organizations", {"per_page": 100}, "organization_list.json")
    full = get_page(client, "/organizations", {"full": "true"}, "organization.json")
    detail = get_ok(client, f"/organizations/{service.organization_id}")
    with_services = get_ok(
        client, f"/organizations/{service.organization_id}", {"full_service": "true"}
    )

    expected = Organization.objects.filter(services__in=Service.objects.published()).distinct()
    assert {o["id"] for o in page["contents"]} == {
        str(pk) for pk in expected.values_list("pk", flat=True)
    }
    assert all("services" in o for o in full["contents"])
    assert_valid(detail, "organization.json")
    assert_valid(with_services, "organization.json")
    assert set(detail["services"][0]) < set(with_services["services"][0])
    assert with_services["services"][0]["phones"][0]["number"] == "1-888-373-7888"
    assert {loc["name"] for loc in detail["locations"]} == {
        link.location.name for link in service.service_at_locations.all()
    }


def test_it_searches_organizations_by_name(client):
    make_service(organization=make_organization(name="Chicago Alliance", alternate_name="CAASE"))
    make_service(organization=make_organization(name="Polaris"))

    assert [
        o["name"] for o in get_page(client, "/organizations", {"search": "caase"})["contents"]
    ] == ["Chicago Alliance"]


def test_it_publishes_needs_and_populations_as_two_taxonomies(client, directory_data):
    page = get_page(client, "/taxonomies", schema_name="taxonomy.json")

    assert {t["name"] for t in page["contents"]} == {"Needs", "Populations"}
    for taxonomy in page["contents"]:
        assert_valid(get_ok(client, f"/taxonomies/{taxonomy['id']}"), "taxonomy.json")
    assert [t["name"] for t in get_page(client, "/taxonomies", {"search": "need"})["contents"]] == [
        "Needs"
    ]


def test_it_serves_taxonomy_terms_valid_against_taxonomy_term_json(client, directory_data):
    page = get_page(client, "/taxonomy_terms", {"per_page": 100}, "taxonomy_term.json")

    assert page["total_items"] == Need.objects.count() + Population.objects.count()
    term = Need.objects.exclude(parent=None).first()
    body = get_ok(client, f"/taxonomy_terms/{term.pk}")
    assert_valid(body, "taxonomy_term.json")
    assert (body["code"], body["parent_id"], body["taxonomy_id"]) == (
        term.slug,
        str(term.parent_id),
        str(NEEDS.id),
    )


def test_it_filters_taxonomy_terms(client):
    legal = make_need(name="Legal aid")
    make_need(name="Immigration law", parent=legal)
    make_population(name="Women")

    def terms(**params):
        return [t["name"] for t in get_page(client, "/taxonomy_terms", params)["contents"]]

    assert terms(taxonomy_id=POPULATIONS.id) == ["Women"]
    assert terms(parent_id=legal.pk) == ["Immigration law"]
    assert sorted(terms(top_only="true")) == ["Legal aid", "Women"]
    assert terms(search="immig") == ["Immigration law"]


def test_it_serves_services_at_locations_valid_against_their_schemas(client):
    service = make_rich_service()

    page = get_page(client, "/service_at_locations", schema_name="service_at_location_list.json")

    assert page["total_items"] == 2
    for link in page["contents"]:
        body = get_ok(client, f"/service_at_locations/{link['id']}")
        assert_valid(body, "service_at_location.json")
        assert body["service"]["id"] == str(service.pk)
        assert body["service"]["attributes"]


# Caching and efficiency


def test_it_lets_partners_cache_hsds_answers(client):
    service = make_service()
    url = f"{HSDS}/services/{service.pk}"
    first = client.get(url)

    again = client.get(url, headers={"if-none-match": first["ETag"]})

    assert set(first["Cache-Control"].split(", ")) == {"public", "max-age=60"}
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/services", "/service_at_locations", "/organizations"])
def test_it_lists_in_a_fixed_number_of_queries(client, settings, path):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    make_many_services(30)

    counts = []
    for per_page in [1, 30]:
        with CaptureQueriesContext(connection) as queries:
            page = get_page(client, path, {"per_page": per_page, "full": "true"})
        assert page["size"] == per_page or path == "/organizations"
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_it_serves_a_service_in_a_fixed_number_of_queries(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    rich, richer = make_rich_service(), make_rich_service()
    for _ in range(3):
        ServiceAtLocation.objects.create(service=richer, location=make_location())

    counts = []
    for service in [rich, richer]:
        with CaptureQueriesContext(connection) as queries:
            get_ok(client, f"/services/{service.pk}")
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_full_lists_each_service_fully_nested_as_one_by_one(client):
    service = make_rich_service()
    page = get_ok(client, "/services", {"full": "true"})
    (listed,) = [item for item in page["contents"] if item["id"] == str(service.pk)]
    assert listed == get_ok(client, f"/services/{service.pk}")
    assert_valid(listed, "service.json")
    links = get_ok(client, "/service_at_locations", {"full": "true"})["contents"]
    assert links and all("service" in link and "location" in link for link in links)
    both = client.get(f"{HSDS}/services", {"full": "true", "minimal": "true"})
    assert both.status_code == 400 and "minimal" in both.json()


@pytest.mark.parametrize(
    "path", ["/services", "/services/{id}", "/organizations", "/taxonomy_terms", "/changes"]
)
def test_a_parameter_an_endpoint_does_not_take_is_a_400_naming_it(client, path):
    service = make_service()
    response = client.get(f"{HSDS}{path.format(id=service.pk)}", {"neeed": "legal-aid"})
    assert response.status_code == 400
    assert list(response.json()) == ["neeed"]


def test_ndjson_streams_every_matching_service_unpaged(client):
    services = [make_service(name=f"Program {n:03}") for n in range(120)]  # over a page
    make_service(name="Draft", publication_state=PublicationState.DRAFT)

    response = client.get(f"{HSDS}/services", {"format": "ndjson", "full": "true"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted(r["id"] for r in records) == sorted(str(s.pk) for s in services)
    assert_valid(records[0], "service.json")

    searched = client.get(f"{HSDS}/services", {"format": "ndjson", "search": "Program 007"})
    assert [json.loads(line)["name"] for line in b"".join(searched.streaming_content).splitlines()][
        0
    ] == "Program 007"


def test_a_streamed_service_is_the_service_its_own_page_gives_in_any_chunk(client, monkeypatch):
    # The stream represents a chunk of services with one serializer; a service's record
    # must not depend on the chunk it falls in or on the services before it.
    monkeypatch.setattr("resources.hsds.views.ServiceViewSet.STREAM_CHUNK", 2)
    make_rich_service(name="Rich")
    for n in range(4):
        make_service(name=f"Plain {n}")

    response = client.get(f"{HSDS}/services", {"format": "ndjson", "full": "true"})

    records = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert len(records) == 5
    for record in records:
        assert record == client.get(f"{HSDS}/services/{record['id']}").json()


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_export_writes_every_published_service_valid_and_never_a_confidential_address(
    tmp_path, suffix
):
    from django.core.management import call_command

    from tests.factories import SHELTER_ADDRESS, SHELTER_ZIP

    service = make_rich_service()
    make_service(name="Draft", publication_state=PublicationState.DRAFT)
    path = tmp_path / f"directory{suffix}"

    call_command("export_hsds", str(path))

    text = path.read_text()
    lines = text.splitlines()
    records = json.loads(text) if suffix == ".json" else [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [str(service.pk)]
    for record in records:
        assert_valid(record, "service.json")
    assert SHELTER_ADDRESS not in text and SHELTER_ZIP not in text
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_export_to_an_unknown_kind_of_file_says_so_and_writes_nothing(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"ending in \.json, \.ndjson or \.zip"):
        call_command("export_hsds", str(tmp_path / "directory.csv"))
    assert not list(tmp_path.iterdir())
