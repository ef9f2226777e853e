"""Small builders for test data; each takes overrides as keyword arguments."""

import itertools

from resources.models import (
    Language,
    Location,
    Need,
    Organization,
    Phone,
    Population,
    PublicationState,
    Service,
)

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
