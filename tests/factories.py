"""Small builders for test data; each takes overrides as keyword arguments."""

import datetime
import itertools
from decimal import Decimal

from resources.models import (
    Address,
    Language,
    Location,
    Need,
    Organization,
    Phone,
    Population,
    PublicationState,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Weekday,
)

# The confidential shelter of make_rich_service: none of these may ever be shown.
SHELTER_ADDRESS = "7 Hidden Lane"
SHELTER_ZIP = "60201"
SHELTER_LATITUDE = Decimal("12.345678")

_counter = itertools.count(1)


def _n():
    return next(_counter)


def make_organization(**fields):
    n = _n()
    fields.setdefault("name", f"Organization {n}")
    fields.setdefault("slug", f"organization-{n}")
    return Organization.objects.create(**fields)


def make_need(**fields):
    n = _n()
    fields.setdefault("name", f"Need {n}")
    fields.setdefault("slug", f"need-{n}")
    return Need.objects.create(**fields)


def make_population(**fields):
    n = _n()
    fields.setdefault("name", f"Population {n}")
    fields.setdefault("slug", f"population-{n}")
    return Population.objects.create(**fields)


def make_language(code="en", name="English"):
    return Language.objects.get_or_create(code=code, defaults={"name": name})[0]


def make_service(*, needs=(), populations=(), languages=(), **fields):
    n = _n()
    fields.setdefault("name", f"Service {n}")
    fields.setdefault("slug", f"service-{n}")
    if "organization" not in fields:
        fields["organization"] = make_organization()
    fields.setdefault("publication_state", PublicationState.PUBLISHED)
    fields.setdefault("source_document", "test")
    service = Service.objects.create(**fields)
    service.needs.set(needs)
    service.populations.set(populations)
    service.languages.set(languages)
    return service


def make_location(**fields):
    n = _n()
    fields.setdefault("name", f"Location {n}")
    return Location.objects.create(**fields)


def make_phone(**fields):
    fields.setdefault("number", "1-888-373-7888")
    return Phone.objects.create(**fields)


def make_rich_service(**fields):
    """A published service with one of everything an answer embeds, including a
    confidential shelter whose address must never be shown."""
    english, spanish = make_language("en", "English"), make_language("es", "Spanish")
    fields.setdefault("needs", [make_need()])
    fields.setdefault("populations", [make_population()])
    service = make_service(
        languages=[english, spanish],
        url="https://example.org/help",
        email="help@example.org",
        minimum_age=18,
        **fields,
    )
    make_phone(service=service, extension="12", description="Main line").languages.set([spanish])
    Schedule.objects.create(
        service=service,
        weekday=Weekday.MONDAY,
        opens_at=datetime.time(9),
        closes_at=datetime.time(17),
    )
    Schedule.objects.create(service=service, open_24_7=True)
    Schedule.objects.create(service=service, notes="Closed on federal holidays")
    ServiceArea.objects.create(service=service, extent=ServiceArea.Extent.STATE, state="IL")

    office = make_location(
        organization=service.organization,
        latitude=Decimal("41.878100"),
        longitude=Decimal("-87.629800"),
    )
    Address.objects.create(
        location=office,
        address_1="100 Main St",
        city="Chicago",
        state_province="IL",
        postal_code="60601",
    )
    office.languages.set([english])
    make_phone(location=office, number="(312) 555-0100").languages.set([english])
    Schedule.objects.create(
        location=office,
        weekday=Weekday.TUESDAY,
        opens_at=datetime.time(10),
        closes_at=datetime.time(16),
    )
    ServiceAtLocation.objects.create(service=service, location=office)

    shelter = make_location(
        organization=service.organization,
        confidential=True,
        latitude=SHELTER_LATITUDE,
        longitude=Decimal("98.765432"),
    )
    Address.objects.create(
        location=shelter,
        address_1=SHELTER_ADDRESS,
        city="Evanston",
        state_province="IL",
        postal_code=SHELTER_ZIP,
    )
    make_phone(location=shelter, number="(312) 555-0199")
    ServiceAtLocation.objects.create(service=service, location=shelter)
    return service


def make_many_services(count):
    """`count` published services, each with phones, schedules, locations, needs,
    populations and languages, written in bulk (which the database's triggers index)."""
    organization = make_organization()
    need, population = make_need(), make_population()
    english = make_language("en", "English")
    services = Service.objects.bulk_create(
        Service(
            name=f"Bulk service {n:03}",
            slug=f"bulk-service-{n:03}",
            organization=organization,
            publication_state=PublicationState.PUBLISHED,
            source_document="test",
        )
        for n in range(count)
    )
    locations = [make_location(organization=organization) for _ in services]
    phones = Phone.objects.bulk_create(
        [Phone(service=s, number="1-888-373-7888") for s in services]
        + [Phone(location=loc, number="(312) 555-0100") for loc in locations]
    )
    Phone.languages.through.objects.bulk_create(
        Phone.languages.through(phone=phone, language=english) for phone in phones
    )
    Schedule.objects.bulk_create(
        [Schedule(service=s, open_24_7=True) for s in services]
        + [Schedule(location=loc, open_24_7=True) for loc in locations]
    )
    Address.objects.bulk_create(
        Address(
            location=loc,
            address_1="1 Main St",
            city="Chicago",
            state_province="IL",
            postal_code="60601",
        )
        for loc in locations
    )
    ServiceAtLocation.objects.bulk_create(
        ServiceAtLocation(service=s, location=loc)
        for s, loc in zip(services, locations, strict=True)
    )
    ServiceArea.objects.bulk_create(
        ServiceArea(service=s, extent=ServiceArea.Extent.NATIONWIDE) for s in services
    )
    for through, name, value in [
        (Service.needs.through, "need", need),
        (Service.populations.through, "population", population),
        (Service.languages.through, "language", english),
    ]:
        through.objects.bulk_create(through(service=s, **{name: value}) for s in services)
    return services
