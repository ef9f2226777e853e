import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from resources.models import (
    Address,
    Location,
    PublicationState,
    Schedule,
    Service,
    ServiceArea,
)
from tests.factories import (
    make_location,
    make_need,
    make_organization,
    make_phone,
    make_rich_service,
    make_service,
)

pytestmark = pytest.mark.django_db


def assert_constraint_rejects(constraint_name, create):
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        create()
    # PostgreSQL names the violated constraint in its message.
    assert constraint_name in str(error.value)


def test_it_rejects_a_minimum_age_above_the_maximum_in_clean():
    service = Service(name="Youth shelter", slug="youth-shelter", minimum_age=18, maximum_age=12)
    with pytest.raises(ValidationError) as error:
        service.full_clean()
    assert "minimum_age" in error.value.message_dict


def test_it_rejects_a_minimum_age_above_the_maximum_in_the_database():
    organization = make_organization()
    assert_constraint_rejects(
        "service_minimum_age_not_above_maximum",
        lambda: Service.objects.create(
            name="x", slug="x", organization=organization, minimum_age=30, maximum_age=20
        ),
    )


def test_it_accepts_an_age_range_with_only_one_bound():
    make_service(minimum_age=18).full_clean()
    make_service(maximum_age=24).full_clean()


def test_it_refuses_to_publish_a_service_without_an_organization():
    with pytest.raises(ValidationError) as error:
        Service(
            name="Counseling",
            slug="counseling",
            publication_state=PublicationState.PUBLISHED,
            source_document="seed.txt",
        ).full_clean()
    assert "organization" in error.value.message_dict
    assert_constraint_rejects(
        "published_service_has_organization",
        lambda: Service.objects.create(
            name="x", slug="x", publication_state=PublicationState.PUBLISHED, source_document="s"
        ),
    )


def test_it_keeps_an_unattributed_service_in_review():
    service = Service.objects.create(
        name="Counseling", slug="c", publication_state=PublicationState.IN_REVIEW
    )
    service.full_clean()


def test_it_refuses_to_publish_a_service_without_a_source():
    service = make_service(publication_state=PublicationState.DRAFT, source_document="")
    service.publication_state = PublicationState.PUBLISHED
    with pytest.raises(ValidationError) as error:
        service.full_clean()
    assert "source_document" in error.value.message_dict
    assert_constraint_rejects(
        "published_service_cites_source",
        lambda: Service.objects.create(
            name="y", slug="y", organization=service.organization, publication_state="published"
        ),
    )


def test_published_lists_only_published_services():
    shown = make_service()
    for state in (PublicationState.DRAFT, PublicationState.IN_REVIEW, PublicationState.ARCHIVED):
        make_service(publication_state=state)
    assert list(Service.objects.published()) == [shown]


@pytest.mark.parametrize(
    "number",
    ["1-888-373-7888", "(312) 555-0100", "+1 312 555 0100", "233733", "911", "312.555.0100"],
)
def test_it_accepts_phone_numbers_as_people_dial_them(number):
    make_phone(service=make_service(), number=number).full_clean()


@pytest.mark.parametrize(
    "number", ["call us", "555-CALL-NOW", "12", "1234567890123456", "+", "--1--", "312-555-0100 x"]
)
def test_it_rejects_malformed_phone_numbers(number):
    phone = make_phone(service=make_service(), number=number)
    with pytest.raises(ValidationError) as error:
        phone.full_clean()
    assert "number" in error.value.message_dict


def test_it_rejects_a_phone_that_belongs_to_nothing():
    from resources.models import Phone

    assert_constraint_rejects(
        "phone_belongs_to_something", lambda: Phone.objects.create(number="911")
    )


def test_it_rejects_malformed_emails_and_urls():
    service = make_service(email="not-an-email", url="javascript:alert(1)")
    with pytest.raises(ValidationError) as error:
        service.full_clean()
    assert {"email", "url"} <= set(error.value.message_dict)


def test_it_rejects_a_closing_time_before_the_opening_time():
    service = make_service()
    schedule = Schedule(
        service=service, weekday=1, opens_at=datetime.time(17), closes_at=datetime.time(9)
    )
    with pytest.raises(ValidationError) as error:
        schedule.full_clean()
    assert "closes_at" in error.value.message_dict
    assert_constraint_rejects("schedule_closes_after_opening", schedule.save)


def test_it_requires_weekday_and_both_times_together():
    schedule = Schedule(service=make_service(), weekday=2, opens_at=datetime.time(9))
    with pytest.raises(ValidationError) as error:
        schedule.full_clean()
    assert "closes_at" in error.value.message_dict


def test_it_rejects_hours_on_a_24_7_schedule():
    schedule = Schedule(
        service=make_service(),
        open_24_7=True,
        weekday=1,
        opens_at=datetime.time(9),
        closes_at=datetime.time(10),
    )
    with pytest.raises(ValidationError) as error:
        schedule.full_clean()
    assert "open_24_7" in error.value.message_dict
    assert_constraint_rejects("schedule_is_24_7_or_weekday_hours_or_note", schedule.save)


def test_it_accepts_a_24_7_schedule_and_weekday_hours():
    service = make_service()
    Schedule(service=service, open_24_7=True).full_clean()
    Schedule(
        service=service, weekday=5, opens_at=datetime.time(9), closes_at=datetime.time(17)
    ).full_clean()


def test_it_rejects_a_confidential_location_with_no_way_to_reach_it():
    location = make_location(confidential=True, organization=make_organization())
    with pytest.raises(ValidationError) as error:
        location.full_clean()
    assert "way to reach" in " ".join(error.value.messages)


def test_it_accepts_a_confidential_location_reachable_by_phone_or_organization_contact():
    by_phone = make_location(confidential=True)
    make_phone(location=by_phone)
    by_phone.full_clean()
    by_org = make_location(
        confidential=True, organization=make_organization(website="https://example.org/")
    )
    by_org.full_clean()


def test_it_requires_both_coordinates_or_neither():
    location = Location(name="Clinic", latitude=41.88)
    with pytest.raises(ValidationError) as error:
        location.full_clean()
    assert "longitude" in error.value.message_dict


def test_it_rejects_coordinates_off_the_globe():
    assert_constraint_rejects(
        "location_coordinates_valid",
        lambda: Location.objects.create(name="x", latitude=95, longitude=10),
    )


def test_it_rejects_a_malformed_zip_code_and_state():
    address = Address(
        location=make_location(),
        address_1="1 Main St",
        city="Chicago",
        state_province="Illinois",
        postal_code="606",
    )
    with pytest.raises(ValidationError) as error:
        address.full_clean()
    assert {"state_province", "postal_code"} <= set(error.value.message_dict)


@pytest.mark.parametrize(
    "fields, bad_field",
    [
        ({"extent": "state"}, "state"),
        ({"extent": "city", "state": "IL"}, "city"),
        ({"extent": "county", "state": "IL"}, "county"),
        ({"extent": "nationwide", "state": "IL"}, "extent"),
    ],
)
def test_it_rejects_a_service_area_that_does_not_name_its_place(fields, bad_field):
    area = ServiceArea(service=make_service(), **fields)
    with pytest.raises(ValidationError) as error:
        area.full_clean()
    assert bad_field in error.value.message_dict
    assert_constraint_rejects("service_area_names_its_place", area.save)


def test_it_refuses_a_need_placed_under_its_own_descendant():
    parent = make_need()
    child = make_need(parent=parent)
    parent.parent = child
    with pytest.raises(ValidationError) as error:
        parent.full_clean()
    assert "parent" in error.value.message_dict


def test_phone_tel_uri_keeps_only_digits_and_extension():
    phone = make_phone(service=make_service(), number="(312) 555-0100", extension="12")
    assert phone.tel_uri == "tel:3125550100;ext=12"


def test_a_service_lists_its_relations_loaded_with_it_or_not(django_assert_num_queries):
    service = make_rich_service()
    needs = list(service.needs.all())

    loaded = Service.objects.for_results().get(pk=service.pk)
    with django_assert_num_queries(0):
        assert [phone.number for phone in loaded.phone_list] == ["1-888-373-7888"]
        assert loaded.need_list == needs
        [office, shelter] = sorted(
            (link.location for link in loaded.link_list), key=lambda location: location.confidential
        )
        assert [a.city for a in office.public_addresses] == ["Chicago"]
        assert shelter.address_list == []  # never loaded

    plain = Service.objects.get(pk=service.pk)
    with django_assert_num_queries(1):
        assert [phone.number for phone in plain.phone_list] == ["1-888-373-7888"]
        assert plain.phone_list is plain.phone_list  # read once
