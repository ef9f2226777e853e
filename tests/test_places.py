"""Searching by place: near a ZIP code or a city, in a city, in a ZIP code.

One meaning however the place is given: the services there (nearest first, with their
distance, when near), then those whose service area covers the place (its city, county
or state), then those serving the whole country. A confidential location is never a
place: such a service is found by its service area, never by its address.
"""

import pytest
from django.urls import reverse

from resources.models import Address, Location, ServiceArea, ServiceAtLocation
from tests.factories import make_location, make_phone, make_service

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/services/"
SEARCH = reverse("resources:search")


def office(service, *, city, state, zip_code, latitude=None, longitude=None, **fields):
    location = make_location(latitude=latitude, longitude=longitude, **fields)
    Address.objects.create(
        location=location,
        address_1="1 Main St",
        city=city,
        state_province=state,
        postal_code=zip_code,
    )
    ServiceAtLocation.objects.create(service=service, location=location)
    return location


def area(service, extent, **place):
    ServiceArea.objects.create(service=service, extent=extent, **place)


@pytest.fixture
def chicago_area():
    """Services around Chicago, a statewide and a nationwide one, and one far away."""
    loop = make_service(name="Loop clinic")  # downtown, by its own coordinates
    office(loop, city="Chicago", state="IL", zip_code="60601", latitude=41.8858, longitude=-87.6181)
    evanston = make_service(name="Evanston clinic")  # 12 miles north, by its ZIP code
    office(evanston, city="Evanston", state="IL", zip_code="60201")
    aurora = make_service(name="Aurora clinic")  # about 35 miles west
    office(aurora, city="Aurora", state="IL", zip_code="60505")
    cook = make_service(name="Cook County program")
    area(cook, ServiceArea.Extent.COUNTY, state="IL", county="Cook")
    statewide = make_service(name="Illinois helpline")
    area(statewide, ServiceArea.Extent.STATE, state="IL")
    national = make_service(name="National hotline")
    area(national, ServiceArea.Extent.NATIONWIDE)
    texas = make_service(name="Austin clinic")
    office(texas, city="Austin", state="TX", zip_code="78701")
    shelter = make_service(name="Safe house program")  # a shelter downtown, serves Chicago
    hidden = office(
        shelter,
        city="Chicago",
        state="IL",
        zip_code="60601",
        latitude=41.8858,
        longitude=-87.6181,
        confidential=True,
    )
    make_phone(location=hidden, number="(312) 555-0142")
    area(shelter, ServiceArea.Extent.CITY, state="IL", city="Chicago")


def api(client, **params):
    response = client.get(SERVICES, params)
    assert response.status_code == 200, response.content
    return [
        (s["name"], s["distance"] and round(s["distance"], 1)) for s in response.json()["results"]
    ]


def test_near_a_zip_code_lists_the_nearest_first_then_by_area_then_nationwide(client, chicago_area):
    assert api(client, near="60601") == [
        ("Loop clinic", 0.0),
        ("Evanston clinic", 12.3),
        ("Cook County program", None),
        ("Illinois helpline", None),
        ("Safe house program", None),  # by its city area, never its address
        ("National hotline", None),
    ]


def test_a_wider_radius_reaches_further(client, chicago_area):
    names = [name for name, _ in api(client, near="Chicago, IL", radius="50")]
    assert names[:3] == ["Loop clinic", "Evanston clinic", "Aurora clinic"]
    assert "Austin clinic" not in names


def test_a_confidential_location_never_gives_a_distance_nor_a_place(client, chicago_area):
    Location.objects.exclude(confidential=True).update(confidential=True)  # every one hidden
    found = api(client, near="60601")
    assert all(distance is None for _, distance in found)
    assert ("Loop clinic", None) not in found  # no area: no place search finds it
    assert ("Safe house program", None) in found


def test_a_city_or_a_zip_code_includes_its_county_state_and_the_whole_country(client, chicago_area):
    expected = [
        ("Loop clinic", None),
        ("Cook County program", None),
        ("Illinois helpline", None),
        ("Safe house program", None),
        ("National hotline", None),
    ]
    assert api(client, city="Chicago") == expected
    assert api(client, city="chicago, il") == expected
    assert api(client, postal_code="60601") == expected
    assert api(client, city="Austin, TX") == [("Austin clinic", None), ("National hotline", None)]


def test_a_city_in_several_states_includes_each_states_services(client, chicago_area):
    names = [name for name, _ in api(client, city="Springfield")]
    assert names == ["Illinois helpline", "National hotline"]


def test_the_page_shows_the_distance_on_each_card(client, chicago_area):
    html = client.get(SEARCH, {"near": "60601"}).content.decode()
    assert '<li class="badge">under 0.1 miles away</li>' in html
    assert '<li class="badge">12 miles away</li>' in html
    assert html.index("Loop clinic") < html.index("Cook County program")
    assert html.index("Illinois helpline") < html.index("National hotline")


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"near": "99999"}, "near", "No US ZIP code or city with its state"),
        ({"near": "Atlantis, ZZ"}, "near", "No US ZIP code or city with its state"),
        ({"near": "Springfield"}, "near", "a city and its state"),
        ({"near": "60601", "radius": "0"}, "radius", "more than 0 and at most 500 miles"),
        ({"near": "60601", "radius": "-5"}, "radius", "more than 0 and at most 500 miles"),
        ({"near": "60601", "radius": "100000"}, "radius", "more than 0 and at most 500 miles"),
        ({"near": "60601", "radius": "abc"}, "radius", "Enter a number."),
        ({"near": "60601", "radius": "nan"}, "radius", "Enter a number."),
        ({"radius": "10"}, "radius", "Give the place to measure from"),
        ({"near": "60601", "city": "Chicago"}, "city", "Give one place"),
        ({"city": "Atlantis"}, "city", "No US city is called"),
        ({"postal_code": "99999"}, "postal_code", "No US ZIP code is 99999"),
    ],
)
def test_a_bad_place_or_distance_is_refused_by_name(client, params, field, message):
    response = client.get(SERVICES, params)
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])

    page = client.get(SEARCH, params)
    assert page.status_code == 400
    assert message in page.content.decode()


def test_hsds_finds_services_within_proximity_meters_of_a_postcode(client, chicago_area):
    response = client.get("/api/hsds/services", {"postcode": "60601", "proximity": "5000"})
    assert response.status_code == 200
    names = [service["name"] for service in response.json()["contents"]]
    assert names[0] == "Loop clinic"
    assert "Evanston clinic" not in names  # 12 miles is more than 5 km
    assert names[-1] == "National hotline"
    for params, name, message in [
        ({"postcode": "60601", "proximity": "far"}, "proximity", "meters"),
        ({"postcode": "60601", "proximity": "-5"}, "proximity", "meters"),
        ({"postcode": "60601", "proximity": "1000000"}, "proximity", "804672 meters"),
        ({"proximity": "5000"}, "postcode", "five-digit ZIP code"),
        ({"postcode": "Chicago, IL", "proximity": "5000"}, "postcode", "five-digit ZIP code"),
        ({"postcode": "99999", "proximity": "5000"}, "postcode", "No US ZIP code"),
    ]:
        bad = client.get("/api/hsds/services", params)
        assert bad.status_code == 400, params
        assert message in " ".join(bad.json()[name]), (params, bad.json())


def test_a_places_results_page_through_its_parts_in_order(client, chicago_area, monkeypatch):
    from resources.search.results import ResultWindowPaginator

    monkeypatch.setattr(ResultWindowPaginator, "window", 4)
    whole = api(client, near="60601", page_size="100")
    assert len(whole) == 4  # the window: the first four in order
    pages = [
        name
        for page in ("1", "2")
        for name, _ in api(client, near="60601", page_size="2", page=page)
    ]
    assert pages == [name for name, _ in whole]
    response = client.get(SERVICES, {"near": "60601", "page_size": "2"})
    assert response.json()["count_exact"] is False


def test_words_near_a_place_rank_by_distance_then_by_match(client, chicago_area):
    assert api(client, near="60601", q="clinic") == [
        ("Loop clinic", 0.0),
        ("Evanston clinic", 12.3),
    ]
