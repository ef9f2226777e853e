import datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from resources.models import (
    Address,
    PublicationState,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
)
from resources.search.results import ResultWindowPaginator
from tests.factories import (
    make_language,
    make_location,
    make_many_services,
    make_need,
    make_organization,
    make_phone,
    make_population,
    make_service,
)

pytestmark = pytest.mark.django_db

SEARCH_URL = reverse("resources:search")


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(response):
    parser = TagCollector()
    parser.feed(response.content.decode())
    return parser.tags


def result_slugs(response):
    """The services listed as results, in order."""
    return [
        attrs["id"].removeprefix("s-")
        for tag, attrs in tags_of(response)
        if tag == "li" and attrs.get("id", "").startswith("s-")
    ]


def add_address(location, **fields):
    fields.setdefault("address_1", "1 Main Street")
    fields.setdefault("city", "Chicago")
    fields.setdefault("state_province", "IL")
    fields.setdefault("postal_code", "60601")
    return Address.objects.create(location=location, **fields)


def place_at(service, location):
    ServiceAtLocation.objects.create(service=service, location=location)


def confidential_shelter(service):
    location = make_location(
        name="Safe house",
        confidential=True,
        latitude="41.881234",
        longitude="-87.623456",
        organization=service.organization,
    )
    add_address(location, address_1="4417 Hidden Lane", postal_code="60699")
    make_phone(location=location, number="(312) 555-0142")
    place_at(service, location)
    return location


# The search page


def test_it_shows_the_search_form(client):
    make_need(), make_population(), make_language()
    response = client.get(SEARCH_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form id="search-form"' in html and 'method="get"' in html
    for name in ("q", "need", "population", "language", "near", "radius", "state"):
        assert f'name="{name}"' in html
    for name in ("nationwide", "open_now", "is_24_7", "ordering"):
        assert f'name="{name}"' in html


def test_it_lists_only_published_services(client):
    make_service(name="Open legal clinic")
    for state in (PublicationState.DRAFT, PublicationState.IN_REVIEW, PublicationState.ARCHIVED):
        make_service(name=f"Hidden {state}", publication_state=state)

    response = client.get(SEARCH_URL)

    assert response.status_code == 200
    assert "Open legal clinic" in response.content.decode()
    assert "Hidden" not in response.content.decode()
    assert response.context["page"].paginator.count == 1


def test_it_finds_a_seed_program_by_need_and_population(client, directory_data):
    response = client.get(SEARCH_URL, {"need": "legal-aid", "population": "criminalized-survivors"})
    assert response.status_code == 200
    assert "caase-legal-services" in result_slugs(response)

    response = client.get(
        SEARCH_URL, {"need": "victim-identification", "population": "foreign-nationals"}
    )
    assert result_slugs(response) == ["iom-victim-identification"]


def test_it_finds_seed_programs_by_keyword(client, directory_data):
    response = client.get(SEARCH_URL, {"q": "hotline"})
    assert response.status_code == 200
    assert "national-human-trafficking-hotline" in result_slugs(response)


def test_it_says_when_nothing_matches(client):
    make_service(name="Food pantry")

    response = client.get(SEARCH_URL, {"q": "zzzz"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "0 services found" in html
    assert "No services match all of these choices." in html
    assert "Some filters could not be used" not in html


def test_it_includes_sub_needs(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    immigration = make_need(name="Immigration help", slug="immigration", parent=legal)
    make_service(name="T visa clinic", slug="t-visa-clinic", needs=[immigration])
    make_service(name="Food pantry", slug="food-pantry", needs=[make_need()])

    response = client.get(SEARCH_URL, {"need": "legal-aid"})

    assert result_slugs(response) == ["t-visa-clinic"]


def test_it_combines_need_population_and_keyword(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    foreign = make_population(name="Foreign nationals", slug="foreign-nationals")
    make_service(
        name="Immigration clinic",
        slug="clinic",
        keywords="T visa",
        needs=[legal],
        populations=[foreign],
    )
    make_service(name="Defense clinic", slug="defense", needs=[legal], populations=[foreign])
    make_service(name="Visa help for youth", slug="youth", keywords="T visa", needs=[legal])

    response = client.get(
        SEARCH_URL, {"need": "legal-aid", "population": "foreign-nationals", "q": "T visa"}
    )

    assert result_slugs(response) == ["clinic"]


def test_it_shows_facet_counts_beside_the_filters(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    women = make_population(name="Women", slug="women")
    for _ in range(3):
        make_service(needs=[legal], populations=[women])
    make_service(needs=[make_need(name="Housing", slug="housing")])

    html = client.get(SEARCH_URL).content.decode()

    assert "Legal aid <span" in html
    assert '<span class="facet-count">(3<span class="visually-hidden"> services' in html
    assert '<span class="facet-count">(1<span class="visually-hidden"> service<' in html


def test_it_keeps_the_chosen_filters_in_the_form(client):
    make_need(name="Legal aid", slug="legal-aid")
    make_population(name="Women", slug="women")
    make_language("es", "Spanish")

    response = client.get(
        SEARCH_URL,
        {
            "q": "visa",
            "need": "legal-aid",
            "population": "women",
            "language": "es",
            "city": "Chicago",
            "open_now": "true",
        },
    )

    html = response.content.decode()
    assert 'value="visa"' in html
    assert 'value="legal-aid" id="need-legal-aid" checked' in html
    assert 'value="women" id="population-women" checked' in html
    assert 'value="es" id="language-es" checked' in html
    assert 'value="Chicago"' in html
    assert 'id="id_open_now" checked' in html


def test_it_paginates_twenty_per_page(client):
    for n in range(25):
        make_service(name=f"Service {n:02}", slug=f"service-{n:02}")

    first = client.get(SEARCH_URL)
    second = client.get(SEARCH_URL, {"page": "2"})

    assert len(result_slugs(first)) == 20
    assert result_slugs(second) == [f"service-{n:02}" for n in range(20, 25)]
    assert "Page 2 of 2" in second.content.decode()
    assert "25 services found" in first.content.decode()


def test_it_keeps_the_filters_in_pagination_links(client):
    need = make_need(slug="legal-aid")
    for _ in range(21):
        make_service(needs=[need])

    html = client.get(SEARCH_URL, {"need": "legal-aid"}).content.decode()

    assert 'href="?need=legal-aid&amp;page=2"' in html


def test_it_shows_the_last_page_for_a_page_beyond_it(client):
    for _ in range(3):
        make_service()

    response = client.get(SEARCH_URL, {"page": "999999"})

    assert response.status_code == 200
    assert len(result_slugs(response)) == 3
    assert "There are only 1 page of results, so this is the last." in response.content.decode()


def test_it_shows_the_first_page_for_a_malformed_page_number(client):
    make_service()
    for page in ("abc", "-1", "0", "1.5", "9" * 5000):
        response = client.get(SEARCH_URL, {"page": page})
        assert response.status_code == 200
        assert len(result_slugs(response)) == 1
        assert 'class="notice"' in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"need": "no-such-need"}, "need", "Select a valid choice"),
        ({"population": "nobody"}, "population", "Select a valid choice"),
        ({"language": "xx"}, "language", "Select a valid choice"),
        ({"state": "XYZ"}, "state", "at most 2 characters"),
        ({"state": "1"}, "state", "Use a two-letter state code"),
        ({"postal_code": "abc"}, "postal_code", "Use a five-digit ZIP code."),
        ({"ordering": "shoe-size"}, "ordering", "Select a valid choice"),
        ({"organization": "nobody"}, "organization", "Select a valid choice"),
        ({"modified_after": "yesterday"}, "modified_after", "Enter a valid date"),
        ({"q": "visa\x00"}, "q", "Null characters are not allowed."),
        ({"city": "Chi\x00cago"}, "city", "Null characters are not allowed."),
    ],
)
def test_it_rejects_a_bad_filter_value_with_a_message(client, params, field, message):
    make_service(name="Should not be listed")

    kept = {"city": "kept"} if field == "q" else {"q": "kept"}
    response = client.get(SEARCH_URL, {**kept, **params})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Some filters could not be used" in html
    assert message in html
    assert f'href="#id_{field}"' in html  # the summary links to the field
    assert result_slugs(response) == []
    assert "Should not be listed" not in html
    assert 'value="kept"' in html  # the form is kept


def test_it_says_when_a_long_query_was_shortened(client):
    make_service()
    response = client.get(SEARCH_URL, {"q": "visa " * 2000})
    assert response.status_code == 200
    assert "Your search was long, so only its first part was used." in response.content.decode()


def test_it_escapes_html_in_the_query(client):
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'

    response = client.get(SEARCH_URL, {"q": attack, "city": attack, "need": attack})

    assert response.status_code == 400  # the need does not exist
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_sorts_by_name_and_by_recently_verified(client):
    make_service(name="Bravo", slug="bravo", last_verified=datetime.date(2026, 1, 5))
    make_service(name="Alpha", slug="alpha", last_verified=datetime.date(2025, 6, 1))
    make_service(name="Charlie", slug="charlie", last_verified=datetime.date(2026, 3, 1))

    by_name = client.get(SEARCH_URL, {"ordering": "name"})
    by_verified = client.get(SEARCH_URL, {"ordering": "recently_verified"})

    assert result_slugs(by_name) == ["alpha", "bravo", "charlie"]
    assert result_slugs(by_verified) == ["charlie", "bravo", "alpha"]
    assert '<option value="recently_verified" selected>' in by_verified.content.decode()


def test_it_filters_by_place(client):
    chicago = make_service(name="Chicago clinic", slug="chicago")
    office = make_location()
    add_address(office, city="Chicago", state_province="IL", postal_code="60601")
    place_at(chicago, office)
    nationwide = make_service(name="Hotline", slug="hotline")
    ServiceArea.objects.create(service=nationwide, extent=ServiceArea.Extent.NATIONWIDE)
    make_service(name="Elsewhere", slug="elsewhere")

    assert result_slugs(client.get(SEARCH_URL, {"state": "il"})) == ["chicago", "hotline"]
    assert result_slugs(client.get(SEARCH_URL, {"city": "chicago"})) == ["chicago", "hotline"]
    assert result_slugs(client.get(SEARCH_URL, {"postal_code": "60601"})) == ["chicago", "hotline"]
    assert result_slugs(client.get(SEARCH_URL, {"nationwide": "true"})) == ["hotline"]


def test_it_filters_by_hours(client):
    always = make_service(name="Always open", slug="always")
    Schedule.objects.create(service=always, open_24_7=True)
    today = make_service(name="Open today", slug="today")
    Schedule.objects.create(
        service=today,
        weekday=timezone.localdate().isoweekday(),
        opens_at=datetime.time(0, 0),
        closes_at=datetime.time(23, 59, 59),
    )
    make_service(name="Never listed", slug="never")

    assert result_slugs(client.get(SEARCH_URL, {"is_24_7": "true"})) == ["always"]
    assert result_slugs(client.get(SEARCH_URL, {"open_now": "true"})) == ["always", "today"]


def test_it_shows_what_a_caseworker_needs_in_each_result(client):
    need = make_need(name="Crisis hotlines")
    population = make_population(name="All survivors")
    service = make_service(
        name="Hotline",
        slug="hotline",
        needs=[need],
        populations=[population],
        last_verified=datetime.date(2026, 3, 1),
        organization=make_organization(name="Hotline Org"),
    )
    make_phone(service=service, number="1-888-373-7888")
    Schedule.objects.create(service=service, open_24_7=True)
    ServiceArea.objects.create(service=service, extent=ServiceArea.Extent.NATIONWIDE)

    html = client.get(SEARCH_URL).content.decode()

    assert 'href="/services/hotline/"' in html
    assert "Hotline Org" in html
    assert "<li>Crisis hotlines</li>" in html
    assert "<li>All survivors</li>" in html
    assert 'href="tel:18883737888"' in html
    assert "Open 24/7" in html
    assert "Nationwide" in html
    assert "1 Mar 2026" in html


def test_it_shows_whether_a_service_is_open_now(client):
    service = make_service(name="Always open")
    Schedule.objects.create(service=service, open_24_7=True)
    make_service(name="No hours given")

    html = client.get(SEARCH_URL).content.decode()

    assert '<li class="badge badge-open">Open 24/7</li>' in html
    assert html.count('<li class="badge') == 1


def test_it_shows_a_page_of_results_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    for _ in range(20):
        service = make_service(needs=[make_need()], populations=[make_population()])
        make_phone(service=service)
        Schedule.objects.create(service=service, open_24_7=True)
        location = make_location()
        add_address(location)
        place_at(service, location)

    with django_assert_max_num_queries(30):
        response = client.get(SEARCH_URL)
    assert len(result_slugs(response)) == 20


# Service and organization pages


def test_it_shows_everything_a_caseworker_needs_on_the_service_page(client):
    service = make_service(
        name="Legal services",
        slug="legal-services",
        description="Free legal help for survivors.",
        eligibility_description="Survivors of any age.",
        fees_description="Free",
        application_process="Call first.",
        interpretation_services="Interpreters on request.",
        languages=[make_language("es", "Spanish")],
        source_document="001_seed.txt",
        source_passage="CAASE provides legal services.",
        source_url="https://example.org/source",
        last_verified=datetime.date(2026, 2, 3),
        minimum_age=18,
    )
    make_phone(service=service, number="(312) 555-0100", extension="12")
    office = make_location(name="Main office")
    add_address(office, address_1="70 E Lake St", postal_code="60601")
    Schedule.objects.create(
        location=office, weekday=1, opens_at=datetime.time(9), closes_at=datetime.time(17)
    )
    place_at(service, office)

    response = client.get(service.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "<h1>Legal services</h1>",
        "Free legal help for survivors.",
        "Survivors of any age.",
        "18 and older",
        "Spanish",
        "Interpreters on request.",
        "Free",
        "Call first.",
        "Main office",
        "70 E Lake St",
        "60601",
        "Mon 9 a.m.–5 p.m.",
        'href="tel:3125550100;ext=12"',
        'href="https://example.org/source"',
        "the project’s source documents",
        "A curator confirmed these details on 3 February 2026",
    ):
        assert text in html, text
    # The full citation stays in the admin and the API: no file name, no quoted passage.
    assert "001_seed.txt" not in html
    assert "CAASE provides legal services." not in html


def test_it_404s_an_unpublished_service(client):
    for state in (PublicationState.DRAFT, PublicationState.IN_REVIEW, PublicationState.ARCHIVED):
        service = make_service(publication_state=state)
        assert client.get(service.get_absolute_url()).status_code == 404
    assert client.get("/services/no-such-service/").status_code == 404


def test_it_lists_only_published_services_on_the_organization_page(client):
    organization = make_organization(name="CAASE", slug="caase")
    make_service(name="Legal services", organization=organization)
    make_service(
        name="Draft program", organization=organization, publication_state=PublicationState.DRAFT
    )

    response = client.get(organization.get_absolute_url())

    assert response.status_code == 200
    assert "<h1>CAASE</h1>" in response.content.decode()
    assert "Legal services" in response.content.decode()
    assert "Draft program" not in response.content.decode()


def test_it_404s_an_organization_without_published_services(client):
    organization = make_organization()
    make_service(organization=organization, publication_state=PublicationState.IN_REVIEW)
    assert client.get(organization.get_absolute_url()).status_code == 404
    assert client.get("/organizations/nobody/").status_code == 404


def test_it_shows_seed_services_and_organizations(client, directory_data):
    response = client.get("/services/national-human-trafficking-hotline/")
    assert response.status_code == 200
    assert 'href="tel:18883737888"' in response.content.decode()
    response = client.get("/organizations/national-human-trafficking-hotline/")
    assert response.status_code == 200
    assert client.get("/services/trauma-informed-counseling/").status_code == 404


# Confidential locations


def test_it_hides_confidential_addresses(client):
    service = make_service(name="Shelter program", slug="shelter")
    confidential_shelter(service)
    secrets = ("4417 Hidden Lane", "60699", "41.881234", "-87.623456", "41.88", "87.62")

    pages = [
        client.get(service.get_absolute_url()),
        client.get(SEARCH_URL),
        client.get(SEARCH_URL, {"q": "shelter"}),
        client.get(service.organization.get_absolute_url()),
    ]

    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        for secret in secrets:
            assert secret not in html
    detail = pages[0].content.decode()
    assert "Address withheld for safety" in detail
    assert 'href="tel:3125550142"' in detail  # how to make contact


def test_it_never_finds_a_confidential_location_by_place(client):
    service = make_service(name="Shelter program", slug="shelter")
    confidential_shelter(service)
    assert result_slugs(client.get(SEARCH_URL, {"postal_code": "60699"})) == []
    assert result_slugs(client.get(SEARCH_URL, {"city": "Chicago"})) == []


def test_it_shows_a_public_address_with_a_map_link(client):
    service = make_service()
    office = make_location(latitude="41.885500", longitude="-87.626300")
    add_address(office, address_1="70 E Lake St")
    place_at(service, office)

    html = client.get(service.get_absolute_url()).content.decode()

    assert "70 E Lake St" in html
    assert "https://www.openstreetmap.org/?mlat=41.885500&amp;mlon=-87.626300" in html


# Privacy and safety


def every_public_page(client):
    service = make_service(url="https://provider.example.org/", source_url="https://src.example/")
    make_phone(service=service)
    return {
        "search": client.get(SEARCH_URL),
        "service": client.get(service.get_absolute_url()),
        "organization": client.get(service.organization.get_absolute_url()),
        "list": client.get(reverse("resources:referral_list")),
        "safety": client.get(reverse("resources:safety")),
        "not found": client.get("/services/nothing-here/"),
        "bad filter": client.get(SEARCH_URL, {"need": "nothing"}),
    }


def test_it_sets_referrer_policy_and_content_security_policy(client):
    for name, response in every_public_page(client).items():
        # Both keep other sites from learning where a visitor came from; same-origin also
        # lets browsers send the Origin that Django's CSRF check needs on this site's forms.
        assert response["Referrer-Policy"] in {"no-referrer", "same-origin"}, name
        assert "script-src 'self'" in response["Content-Security-Policy"], name


def test_it_loads_nothing_from_other_hosts(client):
    for name, response in every_public_page(client).items():
        for tag, attrs in tags_of(response):
            url = {"script": attrs.get("src"), "img": attrs.get("src"), "link": attrs.get("href")}
            url = url.get(tag)
            if url:
                assert not urlsplit(url).netloc, (name, tag, url)
                assert urlsplit(url).scheme in ("", "data"), (name, tag, url)


def test_it_uses_no_inline_scripts_styles_or_handlers(client):
    for name, response in every_public_page(client).items():
        for tag, attrs in tags_of(response):
            assert tag != "style", name
            assert "style" not in attrs, (name, tag)
            assert not [a for a in attrs if a.startswith("on")], (name, tag, attrs)
            if tag == "script":
                assert attrs.get("src"), (name, "inline script")


def test_it_opens_external_links_with_noopener_noreferrer(client):
    checked = 0
    for name, response in every_public_page(client).items():
        for tag, attrs in tags_of(response):
            if tag == "a" and urlsplit(attrs.get("href", "")).scheme in ("http", "https"):
                assert set(attrs.get("rel", "").split()) >= {"noopener", "noreferrer"}, (
                    name,
                    attrs,
                )
                checked += 1
    assert checked > 5


def test_it_offers_a_quick_exit_on_every_page(client):
    for name, response in every_public_page(client).items():
        html = response.content.decode()
        assert 'id="quick-exit"' in html, name
        assert "press <kbd>Esc</kbd>" in html, name
        assert 'href="#main"' in html, name  # the skip link


def test_it_explains_how_to_browse_safely(client):
    response = client.get(reverse("resources:safety"))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("private", "history", "safe device", "no trackers", "Esc"):
        assert text in html, text


def test_the_list_buttons_refuse_a_post_from_another_site_without_setting_a_cookie(
    client, directory_data
):
    """The list's buttons are on every page; Django's CSRF token would set a cookie on
    each. Browsers say where a post comes from, and only this site's own are taken."""
    client.get(reverse("resources:search"))
    client.get(reverse("resources:service", args=[Service.objects.published().first().slug]))
    assert not client.cookies, "a visitor who only reads gets no cookie"

    service = Service.objects.published().first()
    url = reverse("resources:referral_add")
    data = {"service": str(service.pk)}
    foreign = [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "https://testserver"},
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": "http://testserver"},  # the right host, the wrong scheme
        {"HTTP_REFERER": "https://evil.example/page"},
    ]
    for headers in foreign:
        assert client.post(url, data, secure=True, **headers).status_code == 403, headers
    assert not client.cookies

    own = [
        {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "https://testserver"},
        {"HTTP_ORIGIN": "https://testserver"},
        {"HTTP_REFERER": "https://testserver/?q=legal"},
    ]
    for headers in own:
        assert client.post(url, data, secure=True, **headers).status_code == 302, headers


def test_it_leaves_out_facet_counts_when_a_search_finds_too_many(client, monkeypatch):
    monkeypatch.setattr(ResultWindowPaginator, "window", 2)
    legal = make_need(name="Legal aid", slug="legal-aid")
    housing = make_need(name="Housing", slug="housing")
    make_service(needs=[legal])
    make_service(needs=[housing])
    make_service(needs=[housing])

    everything = client.get(SEARCH_URL).content.decode()
    narrowed = client.get(SEARCH_URL, {"need": "housing"}).content.decode()

    assert 'class="facet-count"' not in everything
    assert "Counts appear once a search finds 2 services or fewer." in everything
    assert "More than 2 services found" in everything
    assert '<span class="facet-count">(2<span class="visually-hidden"> services' in narrowed
    assert "Counts appear" not in narrowed


def test_a_listing_page_past_the_window_asks_only_for_its_own_services(client, monkeypatch):
    monkeypatch.setattr(ResultWindowPaginator, "window", 45)
    make_many_services(50)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(SEARCH_URL, {"page": "2"})

    assert response.status_code == 200
    assert len(response.context["page"]) == 20
    limits = [q["sql"] for q in queries if "LIMIT" in q["sql"] and "ORDER BY" in q["sql"]]
    assert any("LIMIT 20 OFFSET 20" in sql for sql in limits)
    assert not any("LIMIT 46" in sql for sql in limits)  # never the window's ids in order


def test_it_pages_through_the_first_results_of_a_broad_search_and_says_so(client, monkeypatch):
    monkeypatch.setattr(ResultWindowPaginator, "window", 45)
    services = make_many_services(50)

    first = client.get(SEARCH_URL)
    past_the_window = client.get(SEARCH_URL, {"page": "4"})

    html = first.content.decode()
    assert "More than 45 services found" in html
    assert "Showing 1–20 of the first 45" in html
    assert "Page 1 of 3" in html
    assert past_the_window.status_code == 200
    last = past_the_window.context["page"]
    assert last.number == 3
    assert [s.name for s in last] == sorted(s.name for s in services)[40:45]
    assert "Only the first 45 results can be paged through" in past_the_window.content.decode()


# Narrowing, widening, ways forward


def test_a_search_typed_on_the_first_page_ranks_by_best_match(client):
    make_service(name="Another legal clinic", description="legal")
    make_service(name="Legal aid")
    first = client.get(SEARCH_URL).content.decode()
    # The sort menu's default sends no order of its own, so typed words rank.
    assert '<option value="" selected>Best match</option>' in first
    assert result_slugs(client.get(SEARCH_URL, {"q": "legal aid", "ordering": ""}))[0] == (
        Service.objects.get(name="Legal aid").slug
    )


def test_each_chosen_filter_is_a_chip_that_removes_just_it(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    women = make_population(name="Women", slug="women")
    make_service(name="Clinic", needs=[legal], populations=[women])

    response = client.get(SEARCH_URL, {"q": "clinic", "need": "legal-aid", "population": "women"})

    chips = response.context["chips"]
    assert [chip.label for chip in chips] == ["Words: clinic", "Legal aid", "Women"]
    assert chips[1].without == "?q=clinic&population=women"
    html = response.content.decode()
    assert 'href="?q=clinic&amp;population=women"' in html


def test_an_empty_search_names_the_filters_that_emptied_it(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    make_need(name="Housing", slug="housing")
    make_service(name="Clinic", needs=[legal])

    response = client.get(SEARCH_URL, {"need": "legal-aid", "open_now": "true"})
    html = response.content.decode()

    assert "No services match all of these choices." in html
    assert 'Without “Open now”</a> <span class="widen-note">finds services</span>' in html
    assert "Without “Legal aid”</a></li>" in html  # removing it alone finds nothing
    assert 'href="tel:18883737888"' in html and 'href="tel:211"' in html


def test_a_misspelt_word_gets_a_did_you_mean_that_keeps_the_filters(client):
    make_service(name="Legal clinic", needs=[make_need(slug="legal-aid")])
    html = client.get(SEARCH_URL, {"q": "leagal", "need": "legal-aid"}).content.decode()
    assert 'Did you mean <a href="?q=legal&amp;need=legal-aid">legal</a>?' in html


def test_a_misspelt_word_never_suggests_what_only_an_unpublished_service_holds(client):
    make_service(name="Legal clinic")
    make_service(name="Xylophonia safe house", publication_state=PublicationState.DRAFT)
    html = client.get(SEARCH_URL, {"q": "xylophonie"}).content.decode()
    assert "Did you mean" not in html
    assert "ylophonia" not in html


@pytest.mark.parametrize("query", ["правовая помощь", "!!! ??? ...", "***", "法律援助", "the"])
def test_a_query_in_another_script_or_of_punctuation_gets_the_ways_forward(client, query):
    for n in range(4):
        make_service(name=f"Legal clinic {n}")
    response = client.get(SEARCH_URL, {"q": query})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    html = response.content.decode()
    assert "Other ways to find help" in html


def test_filters_that_would_find_nothing_show_a_zero(client):
    legal = make_need(name="Legal aid", slug="legal-aid")
    make_need(name="Housing", slug="housing")
    make_service(name="Clinic", needs=[legal])

    html = client.get(SEARCH_URL, {"q": "clinic"}).content.decode()

    assert '<li class="facet-none">' in html
    assert 'Housing <span class="facet-count">(0<span' in html
    assert 'Legal aid <span class="facet-count">(1<span' in html


def test_a_card_folds_its_tags_after_the_first_three(client):
    needs = [make_need(name=f"Need {n}", slug=f"need-{n}") for n in range(5)]
    make_service(name="Many needs", needs=needs)
    html = client.get(SEARCH_URL).content.decode()
    assert '<summary>2 more<span class="visually-hidden"> of helps with</span></summary>' in html


def test_a_card_without_a_phone_or_a_website_says_so(client):
    make_service(name="Quiet program")
    html = client.get(SEARCH_URL).content.decode()
    assert "No phone or website listed yet" in html
    assert "call first" not in html
