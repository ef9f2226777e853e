import pytest
from django.contrib import admin
from django.urls import reverse

from resources.models import (
    Location,
    PublicationState,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
)
from tests.factories import make_location, make_organization, make_service

pytestmark = pytest.mark.django_db

REGISTERED = [model for model in admin.site._registry if model._meta.app_label == "resources"]


def admin_url(model, view):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")


def inline_management(prefix, total=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def service_form(**overrides):
    data = {
        "name": "Legal clinic",
        "slug": "legal-clinic",
        "status": "active",
        "publication_state": "draft",
        **inline_management("service_at_locations"),
        **inline_management("phones"),
        **inline_management("schedules"),
        **inline_management("service_areas"),
        **inline_management("suggestions"),
    }
    data.update(overrides)
    return data


def confirmed_publish(*services):
    """The bulk "Publish" action, confirmed after reading what each service changed."""
    return {
        "action": "publish",
        "confirmed": "yes",
        "_selected_action": [s.pk for s in services],
        **{f"seen-{s.pk}": s.modified.isoformat() for s in services},
    }


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_every_directory_model_is_in_the_admin():
    names = {model.__name__ for model in REGISTERED}
    assert {
        "Organization",
        "Service",
        "Location",
        "ServiceAtLocation",
        "Address",
        "Phone",
        "Schedule",
        "Language",
        "ServiceArea",
        "Need",
        "Population",
    } <= names


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m.__name__)
def test_staff_can_open_every_changelist_and_add_form(staff_client, model, directory_data):
    assert staff_client.get(admin_url(model, "changelist")).status_code == 200
    # Suggestions come from the public only.
    expected = 403 if model.__name__ == "Suggestion" else 200
    assert staff_client.get(admin_url(model, "add")).status_code == expected


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m.__name__)
def test_anonymous_users_are_sent_to_login(client, model):
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_can_search_and_filter_services(staff_client, directory_data):
    url = admin_url(Service, "changelist")
    response = staff_client.get(url, {"q": "hotline", "publication_state__exact": "published"})
    assert response.status_code == 200
    assert b"National Human Trafficking Hotline" in response.content


def test_taxonomy_autocomplete_answers_for_the_service_form(staff_client, directory_data):
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"term": "legal", "app_label": "resources", "model_name": "service", "field_name": "needs"},
    )
    assert response.status_code == 200
    assert any("Legal" in item["text"] for item in response.json()["results"])


def test_an_invalid_age_range_gets_a_field_error_and_saves_nothing(staff_client):
    response = staff_client.post(
        admin_url(Service, "add"), service_form(minimum_age="30", maximum_age="18")
    )
    assert response.status_code == 200
    assert "minimum_age" in response.context["adminform"].form.errors
    assert not Service.objects.exists()


def test_an_invalid_inline_schedule_saves_neither_the_service_nor_the_schedule(staff_client):
    data = service_form(
        **inline_management("schedules", total=1),
        **{
            "schedules-0-weekday": "1",
            "schedules-0-opens_at": "17:00",
            "schedules-0-closes_at": "09:00",
        },
    )
    response = staff_client.post(admin_url(Service, "add"), data)
    assert response.status_code == 200
    assert "closing time must be after" in response.content.decode()
    assert not Service.objects.exists()
    assert not Schedule.objects.exists()


def test_publishing_without_an_organization_is_refused_with_the_reason(staff_client):
    orphan = Service.objects.create(
        name="Orphan",
        slug="orphan",
        source_document="seed.txt",
        publication_state=PublicationState.IN_REVIEW,
    )
    response = staff_client.post(
        admin_url(Service, "changelist"),
        confirmed_publish(orphan),
        follow=True,
    )
    assert "Not published — Orphan: Choose the organization" in response.content.decode()
    orphan.refresh_from_db()
    assert orphan.publication_state == PublicationState.IN_REVIEW


def test_a_valid_service_is_saved_with_its_inlines(staff_client):
    organization = make_organization()
    data = service_form(
        organization=str(organization.pk),
        **inline_management("phones", total=1),
        **{"phones-0-number": "1-888-373-7888", "phones-0-type": "voice", "phones-0-position": "0"},
    )
    response = staff_client.post(admin_url(Service, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    service = Service.objects.get(slug="legal-clinic")
    assert service.phones.get().number == "1-888-373-7888"


def location_form(**overrides):
    data = {
        "name": "Safe house",
        "location_type": "physical",
        **inline_management("addresses"),
        **inline_management("phones"),
        **inline_management("schedules"),
        **inline_management("service_at_locations"),
    }
    data.update(overrides)
    return data


def test_a_confidential_location_without_contact_is_refused(staff_client):
    response = staff_client.post(admin_url(Location, "add"), location_form(confidential="on"))
    assert response.status_code == 200
    assert "way to reach the service" in response.content.decode()
    assert not Location.objects.exists()


def test_a_confidential_location_with_a_phone_is_saved(staff_client):
    data = location_form(
        confidential="on",
        **inline_management("phones", total=1),
        **{"phones-0-number": "(312) 555-0100", "phones-0-type": "voice", "phones-0-position": "0"},
    )
    response = staff_client.post(admin_url(Location, "add"), data)
    assert response.status_code == 302
    assert Location.objects.get().phones.count() == 1


def test_the_publish_action_refuses_what_cannot_be_published(staff_client):
    ready = make_service(publication_state=PublicationState.IN_REVIEW)
    orphan = Service.objects.create(name="Orphan", slug="orphan", source_document="seed.txt")
    response = staff_client.post(
        admin_url(Service, "changelist"),
        confirmed_publish(ready, orphan),
        follow=True,
    )
    assert response.status_code == 200
    ready.refresh_from_db()
    orphan.refresh_from_db()
    assert ready.publication_state == PublicationState.PUBLISHED
    assert orphan.publication_state == PublicationState.DRAFT
    assert "Not published" in response.content.decode()


def test_publishing_a_service_no_place_search_can_find_warns_the_curator(staff_client):
    placeless = make_service(name="Nowhere program", publication_state=PublicationState.IN_REVIEW)
    national = make_service(name="National line", publication_state=PublicationState.IN_REVIEW)
    ServiceArea.objects.create(service=national, extent=ServiceArea.Extent.NATIONWIDE)

    response = staff_client.post(
        admin_url(Service, "changelist"),
        confirmed_publish(placeless, national),
        follow=True,
    )

    html = response.content.decode()
    assert "Published: 2 service(s)." in html
    assert "Nowhere program is published, but no search by place will find it" in html
    assert "National line is published, but" not in html


def test_saving_a_published_service_with_only_a_confidential_address_warns(staff_client):
    service = make_service(name="Shelter program")
    shelter = make_location(confidential=True)
    ServiceAtLocation.objects.create(service=service, location=shelter)
    data = service_form(
        name="Shelter program",
        slug=service.slug,
        organization=str(service.organization_id),
        publication_state="published",
        source_document="seed.txt",
        edited_version=service.modified.isoformat(),
        **{
            "service_at_locations-TOTAL_FORMS": "1",
            "service_at_locations-INITIAL_FORMS": "1",
            "service_at_locations-0-id": str(service.service_at_locations.get().pk),
            "service_at_locations-0-service": str(service.pk),
            "service_at_locations-0-location": str(shelter.pk),
        },
    )

    url = reverse("admin:resources_service_change", args=[service.pk])
    response = staff_client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "Shelter program is published, but no search by place will find it" in (
        response.content.decode()
    )
