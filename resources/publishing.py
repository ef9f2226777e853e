"""Publishing, archiving and verifying services: what the admin's actions (and, later,
an import) call, so each rule is applied the same way whoever asks."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Address, PublicationState, Service


@dataclass
class Outcome:
    done: list = field(default_factory=list)
    refused: dict = field(default_factory=dict)  # service: the reasons, in a sentence


@transaction.atomic
def publish(services):
    """Publish each service that passes every check a published one must (an organization,
    a source, ...); the others are left as they were, with the reasons."""
    outcome = Outcome()
    for service in services:
        was = service.publication_state
        service.publication_state = PublicationState.PUBLISHED
        try:
            service.full_clean()
        except ValidationError as error:
            service.publication_state = was
            outcome.refused[service] = " ".join(error.messages)
            continue
        service.save(update_fields=["publication_state", "modified"])
        outcome.done.append(service)
    return outcome


def archive(services):
    """Take services off the public site and the API, keeping everything about them."""
    return services.update(publication_state=PublicationState.ARCHIVED, modified=timezone.now())


def mark_verified(services, *, on=None):
    """Record that a curator confirmed the services' details with the provider today."""
    return services.update(last_verified=on or timezone.localdate(), modified=timezone.now())


def placeless(services):
    """The services no place search can find: without a service area, and without a
    public address (a confidential shelter's is never searched)."""
    addressed = Address.objects.public().values("location__service_at_locations__service")
    return services.filter(service_areas__isnull=True).exclude(pk__in=addressed)


PLACELESS_WARNING = (
    "{name} is published, but no search by place will find it: give it a service area "
    "(nationwide, a state, a county or a city) or a location with a public address."
)


def placeless_warnings(services):
    published = Service.objects.filter(
        pk__in=[s.pk for s in services], publication_state=PublicationState.PUBLISHED
    )
    return [PLACELESS_WARNING.format(name=service.name) for service in placeless(published)]
