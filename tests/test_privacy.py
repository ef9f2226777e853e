"""What the site leaves on a visitor's device: nothing for a reader, a list that ends
with the browser for a caseworker, and no copy of it in any cache."""

import pytest
from django.urls import reverse

from resources.models import Organization, Service

pytestmark = pytest.mark.django_db


def test_a_visitor_who_only_searches_and_reads_gets_no_cookie(client, directory_data):
    service = Service.objects.published().first()
    organization = Organization.objects.filter(services__in=[service]).first()
    paths = [
        "/",
        "/?q=legal+aid&near=60601",
        "/?need=no-such-need",
        reverse("resources:service", args=[service.slug]),
        reverse("resources:organization", args=[organization.slug]),
        reverse("resources:safety"),
        reverse("resources:referral_list"),
        reverse("resources:referral_list_text"),
        "/no-such-page/",
        "/api/v1/services/?q=legal",
        "/api/hsds/services/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code < 500, path
        assert not response.cookies, (path, response.cookies)
    assert not client.cookies


def test_the_list_is_kept_only_until_the_browser_closes(client, directory_data):
    service = Service.objects.published().first()
    client.post(reverse("resources:referral_add"), {"service": str(service.pk)})

    cookie = client.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert list(client.cookies) == ["sessionid"], "messages ride in the session"


def test_no_page_showing_a_list_may_be_stored(client, directory_data):
    service = Service.objects.published().first()
    for name in ("referral_list", "referral_list_text"):
        assert "no-store" in client.get(reverse(f"resources:{name}"))["Cache-Control"]

    client.post(reverse("resources:referral_add"), {"service": str(service.pk)})
    # Every page now shows the list's count and which results are on it.
    for path in ("/", reverse("resources:service", args=[service.slug]), "/safety/"):
        assert "no-store" in client.get(path)["Cache-Control"], path


def test_the_permissions_policy_names_only_current_features(client):
    policy = client.get("/safety/")["Permissions-Policy"]
    assert policy == "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
