"""A service's way to the public and back: the review workflow, and verifying.

    draft ──submit──▶ in review ──publish──▶ published ──archive──▶ archived
      ▲                  │                                              │
      └────send back─────┘◀───────────────── return to draft ──────────┘

Editors (change_service) create and change drafts and submit them; reviewers
(publish_service) also publish, send back, archive, return to draft and verify. The admin's
buttons and bulk actions, and the shipped-directory loader, all come through here, so
each rule holds whoever asks. Every step is one recorded version (resources.history).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import history
from .models import Address, Location, Organization, PublicationState, Service

State = PublicationState
EDIT = "resources.change_service"
PUBLISH = "resources.publish_service"


@dataclass(frozen=True)
class Transition:
    name: str
    label: str  # the button
    done: str  # what the history and the messages say
    sources: tuple
    target: str
    permission: str


TRANSITIONS = {
    t.name: t
    for t in [
        Transition(
            "submit",
            "Submit for review",
            "Submitted for review.",
            (State.DRAFT,),
            State.IN_REVIEW,
            EDIT,
        ),
        Transition(
            "publish", "Publish", "Published.", (State.IN_REVIEW,), State.PUBLISHED, PUBLISH
        ),
        Transition(
            "send_back",
            "Send back to draft",
            "Sent back to draft.",
            (State.IN_REVIEW,),
            State.DRAFT,
            PUBLISH,
        ),
        Transition(
            "archive",
            "Archive",
            "Archived.",
            (State.DRAFT, State.IN_REVIEW, State.PUBLISHED),
            State.ARCHIVED,
            PUBLISH,
        ),
        Transition(
            "unarchive",
            "Return to draft",
            "Returned to draft from the archive.",
            (State.ARCHIVED,),
            State.DRAFT,
            PUBLISH,
        ),
    ]
}


def available(service, user):
    """The transitions user may take service through now."""
    return [
        t
        for t in TRANSITIONS.values()
        if service.publication_state in t.sources and user.has_perm(t.permission)
    ]


def may_edit(service, user):
    """Editors change drafts and services in review; only reviewers change what the
    public sees; an archived service is returned to draft before anyone changes it."""
    if not user.has_perm(EDIT):
        return False
    if service is None or service.publication_state in (State.DRAFT, State.IN_REVIEW):
        return True
    return service.publication_state == State.PUBLISHED and user.has_perm(PUBLISH)


def may_change(obj, user):
    """Whether user may change obj, a service or anything a service shows (its
    organization, a location, an address, a phone, hours, an area, a place): what
    published services show is a reviewer's to change, like the services themselves."""
    if isinstance(obj, Service):
        return may_edit(obj, user)
    if user.has_perm(PUBLISH):
        return True
    return not shown_by_published(obj)


def shown_by_published(obj):
    """Whether a published (or archived, frozen) service shows obj."""
    frozen = Service.objects.exclude(publication_state__in=[State.DRAFT, State.IN_REVIEW])
    if isinstance(obj, Organization):
        return frozen.filter(organization=obj).exists()
    if isinstance(obj, Location):
        return frozen.filter(service_at_locations__location=obj).exists()
    owners = [
        getattr(obj, name)
        for name in ("service", "location", "organization")
        if getattr(obj, name + "_id", None) is not None
    ]
    return any(
        owner.publication_state not in (State.DRAFT, State.IN_REVIEW)
        if isinstance(owner, Service)
        else shown_by_published(owner)
        for owner in owners
    )


@dataclass
class Outcome:
    done: list = field(default_factory=list)
    refused: dict = field(default_factory=dict)  # service: the reasons, in a sentence


def apply(transition, services, user):
    """Take each service through transition, when its state and user's permissions
    allow and (to publish) it passes every check a published service must; the others
    are left as they were, with the reasons."""
    outcome = Outcome()
    if not user.has_perm(transition.permission):
        raise PermissionError(f"{user} may not {transition.label.lower()}.")
    for service in services:
        if service.publication_state not in transition.sources:
            outcome.refused[service] = (
                f"it is {service.get_publication_state_display().lower()}; only a service "
                + " or ".join(State(s).label.lower() for s in transition.sources)
                + f" can be {transition.done.lower().rstrip('.')}"
            )
            continue
        with transaction.atomic():
            history.ensure_baseline(service)
            service.publication_state = transition.target
            try:
                if transition.target == State.PUBLISHED:
                    service.full_clean()
            except ValidationError as error:
                service.refresh_from_db()
                outcome.refused[service] = " ".join(error.messages)
                continue
            service.save(update_fields=["publication_state", "modified"])
            _recorded(service, user, transition.done)
        outcome.done.append(service)
    return outcome


def archive(services):
    """The shipped-directory loader's archive of services it no longer ships: no person
    asked, so no permission applies; it is recorded all the same."""
    for service in services:
        with transaction.atomic():
            history.ensure_baseline(service)
            service.publication_state = State.ARCHIVED
            service.save(update_fields=["publication_state", "modified"])
            history.record(service, None, "Archived: no longer in the shipped directory.")


def mark_verified(services, user, *, on=None):
    """Record that user confirmed the services' contact details with the provider."""
    if not user.has_perm(PUBLISH):
        raise PermissionError(f"{user} may not verify services.")
    on = on or timezone.localdate()
    for service in services:
        with transaction.atomic():
            history.ensure_baseline(service)
            service.last_verified, service.last_verified_by = on, user
            service.save(update_fields=["last_verified", "last_verified_by", "modified"])
            _recorded(service, user, f"Verified its details on {on:%d %b %Y}.")
    return len(services)


def needing_verification(services, days):
    """Services nobody has verified for days or more, never-verified first, then oldest."""
    since = timezone.localdate() - timedelta(days=days)
    return services.exclude(last_verified__gt=since).order_by(
        F("last_verified").asc(nulls_first=True), "name"
    )


def _recorded(service, user, message):
    history.record(service, user, message)
    if user is not None:
        LogEntry.objects.log_actions(user.pk, [service], CHANGE, message)


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
