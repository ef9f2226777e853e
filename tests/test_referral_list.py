import datetime
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resources import referrals
from resources.models import Address, PublicationState, Schedule, ServiceAtLocation
from tests.factories import make_location, make_organization, make_phone, make_service

pytestmark = pytest.mark.django_db

LIST_URL = reverse("resources:referral_list")
TEXT_URL = reverse("resources:referral_list_text")
ADD_URL = reverse("resources:referral_add")
REMOVE_URL = reverse("resources:referral_remove")
CLEAR_URL = reverse("resources:referral_clear")


def add(client, service, next_url="/", **headers):
    return client.post(ADD_URL, {"service": str(service.pk), "next": next_url}, **headers)


def listed(client):
    return client.session.get(referrals.SESSION_KEY, [])


def test_it_adds_a_service_and_returns_to_the_page_it_was_on(client):
    service = make_service(name="Legal clinic")

    response = add(client, service, next_url="/?need=legal-aid&page=2#s-legal-clinic")

    assert response.status_code == 302
    assert response["Location"] == "/?need=legal-aid&page=2#s-legal-clinic"
    assert listed(client) == [str(service.pk)]
    page = client.get(LIST_URL).content.decode()
    assert "Legal clinic" in page
    assert 'Your list <span class="count">(1)</span>' in page


def test_it_stores_only_service_ids_until_the_browser_closes(client):
    service = make_service()
    add(client, service)
    add(client, service)  # twice: still listed once

    session = client.session
    assert {key for key, _ in session.items() if not key.startswith("_")} == {referrals.SESSION_KEY}
    assert session[referrals.SESSION_KEY] == [str(service.pk)]
    assert session.get_expire_at_browser_close()


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "",
        "\x00//evil.example/",
    ],
)
def test_it_never_redirects_to_another_site(client, next_url):
    response = add(client, make_service(), next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == LIST_URL


def test_it_never_lets_next_break_the_redirect_header(client):
    response = add(client, make_service(), next_url="/list/\r\nSet-Cookie: a=b\x00")
    assert response.status_code == 302
    assert "\n" not in response["Location"] and "\x00" not in response["Location"]
    assert "a" not in response.cookies


def test_it_shows_the_service_as_listed_on_results_and_its_page(client):
    service = make_service(name="Legal clinic")
    add(client, service)

    for url in (reverse("resources:search"), service.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "✓ On your list" in html
        assert f'action="{REMOVE_URL}"' in html


@pytest.mark.parametrize(
    "value", ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "<script>"]
)
def test_it_refuses_to_add_an_unknown_service(client, value):
    response = client.post(ADD_URL, {"service": value, "next": "/"})
    assert response.status_code == 400
    assert "That service could not be added to the list." in response.content.decode()
    assert "<script>" not in response.content.decode()
    assert listed(client) == []


def test_it_refuses_to_add_an_unpublished_service(client):
    draft = make_service(publication_state=PublicationState.DRAFT)
    assert add(client, draft).status_code == 400
    assert listed(client) == []


def test_it_only_accepts_posts(client):
    assert client.get(ADD_URL).status_code == 405
    assert client.get(REMOVE_URL).status_code == 405
    assert client.get(CLEAR_URL).status_code == 405


def test_it_refuses_a_post_from_another_site(client):
    response = add(client, make_service(), HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert listed(client) == []


def test_it_limits_the_length_of_the_list(client):
    services = [make_service() for _ in range(referrals.MAX_SERVICES + 1)]
    for service in services:
        add(client, service)

    assert len(listed(client)) == referrals.MAX_SERVICES
    assert str(services[-1].pk) not in listed(client)
    assert "Remove one before adding another." in client.get(LIST_URL).content.decode()


def test_it_removes_one_service(client):
    kept, removed = make_service(name="Kept"), make_service(name="Removed")
    add(client, kept)
    add(client, removed)

    response = client.post(REMOVE_URL, {"service": str(removed.pk), "next": LIST_URL})

    assert response.status_code == 302
    assert listed(client) == [str(kept.pk)]
    page = client.get(LIST_URL).content.decode()
    assert "<h2>Kept</h2>" in page
    assert "<h2>Removed</h2>" not in page


def test_it_refuses_to_remove_a_malformed_id(client):
    add(client, make_service())
    assert client.post(REMOVE_URL, {"service": "nope"}).status_code == 400
    assert len(listed(client)) == 1


def test_it_clears_the_list(client):
    add(client, make_service())
    add(client, make_service())

    response = client.post(CLEAR_URL, {"next": LIST_URL})

    assert response.status_code == 302
    assert referrals.SESSION_KEY not in client.session
    assert "Your list is empty." in client.get(LIST_URL).content.decode()


def test_it_drops_a_service_unpublished_since_it_was_added(client):
    service = make_service(name="Closing down")
    add(client, service)
    service.publication_state = PublicationState.ARCHIVED
    service.save()

    assert "<h2>Closing down</h2>" not in client.get(LIST_URL).content.decode()
    assert "Closing down" not in client.get(TEXT_URL).content.decode()


def test_it_offers_the_list_as_plain_text(client):
    hotline = make_service(
        name="National Human Trafficking Hotline",
        url="https://humantraffickinghotline.org/",
        last_verified=datetime.date(2026, 2, 3),
    )
    make_phone(service=hotline, number="1-888-373-7888", description="Call any time.")
    make_phone(service=hotline, number="233733", type="text")
    Schedule.objects.create(service=hotline, open_24_7=True)
    clinic = make_service(name="Legal clinic & advocacy")
    office = make_location()
    Address.objects.create(
        location=office, address_1="70 E Lake St", city="Chicago", state_province="IL",
        postal_code="60601",
    )  # fmt: skip
    ServiceAtLocation.objects.create(service=clinic, location=office)
    add(client, hotline)
    add(client, clinic)

    response = client.get(TEXT_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="services.txt"'
    text = response.content.decode()
    assert "1. National Human Trafficking Hotline\n" in text
    assert "   Call 1-888-373-7888 – Call any time.\n" in text
    assert "   Text 233733\n" in text
    assert "   Hours: Open 24/7\n" in text
    assert "   Website: https://humantraffickinghotline.org/\n" in text
    assert "   Details checked: 3 February 2026\n" in text
    assert "2. Legal clinic & advocacy\n" in text  # plain text: nothing escaped
    assert "   70 E Lake St, Chicago, IL 60601\n" in text
    # Where it came from, and the hotline, whoever reads it.
    assert text.endswith(
        "From the Survivor support directory, http://testserver/\n"
        "National Human Trafficking Hotline, any time: call 1-888-373-7888 or text 233733.\n"
    )
    # The same text, escaped, in the page's copy box.
    page = client.get(LIST_URL).content.decode()
    assert "2. Legal clinic &amp; advocacy" in page
    assert "readonly" in page and 'data-copy="list-text"' in page


def test_it_hands_the_list_over_by_the_caseworkers_own_text_or_mail(client):
    clinic = make_service(name="Legal clinic & advocacy")
    make_phone(service=clinic, number="(312) 555-0100")
    add(client, clinic)

    page = client.get(LIST_URL).content.decode()

    body = quote(client.get(TEXT_URL).content.decode(), safe="")
    assert f'href="sms:?&amp;body={body}"' in page
    assert f'href="mailto:?subject=Services%20to%20contact&amp;body={body}"' in page
    assert "this site sends and keeps nothing" in page
    # The printout names the directory, its address and the hotline.
    printout = page[page.index('<footer class="print-only print-footer">') :]
    assert "Survivor support directory, http://testserver/" in printout
    assert "1-888-373-7888" in printout


def test_it_keeps_confidential_addresses_out_of_the_list(client):
    service = make_service(name="Shelter program")
    shelter = make_location(
        confidential=True,
        latitude="41.881234",
        longitude="-87.623456",
        organization=service.organization,
    )
    Address.objects.create(
        location=shelter, address_1="4417 Hidden Lane", city="Chicago", state_province="IL",
        postal_code="60699",
    )  # fmt: skip
    make_phone(location=shelter, number="(312) 555-0142")
    ServiceAtLocation.objects.create(service=service, location=shelter)
    add(client, service)

    for response in (client.get(LIST_URL), client.get(TEXT_URL)):
        content = response.content.decode()
        assert "Address withheld for safety" in content
        assert "(312) 555-0142" in content
        for secret in ("4417 Hidden Lane", "60699", "41.88", "87.62"):
            assert secret not in content


def test_it_shows_an_empty_list(client):
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert "Your list is empty." in response.content.decode()
    assert client.get(TEXT_URL).content.decode().startswith("Services to contact")


def test_it_gives_the_organization_website_when_the_service_has_none(client):
    organization = make_organization(website="https://catwinternational.org/")
    add(client, make_service(organization=organization))

    assert "   Website: https://catwinternational.org/\n" in client.get(TEXT_URL).content.decode()
    assert 'href="https://catwinternational.org/"' in client.get(LIST_URL).content.decode()


@pytest.mark.parametrize("url", [LIST_URL, TEXT_URL])
def test_the_list_costs_the_same_queries_for_two_services_or_six(client, url):
    def make_listed():
        service = make_service()
        make_phone(service=service)
        Schedule.objects.create(service=service, open_24_7=True)
        location = make_location()
        Address.objects.create(location=location, address_1="1 Main St", state_province="IL")
        make_phone(location=location)
        ServiceAtLocation.objects.create(service=service, location=location)
        add(client, service)

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    for _ in range(2):
        make_listed()
    with_two = queries()
    for _ in range(4):
        make_listed()
    assert queries() == with_two
