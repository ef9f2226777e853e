"""Keep what search reads in step with what it is built from.

Saving a service, changing its needs, populations or languages, renaming its
organization or one of its terms, or changing where and when it is offered (its areas,
its locations, their addresses, whether a location is confidential, the service's and
its locations' schedules) refreshes the affected services' search and filter vectors
and published names; so does update() on those rows and on services
(models.WhereAndWhenQuerySet, models.ServiceQuerySet). Bulk writes that send no
signals (seed_demo) call resources.search.index_services themselves; `manage.py
index_services` rebuilds every service. Any change to a synonym, or to the needs
synonyms point to, makes every process load the synonym table again.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from .models import (
    Address,
    Language,
    Location,
    Need,
    Organization,
    Population,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Synonym,
)
from .search import forget_synonyms, index_services


def _index(ids):
    # Synchronously, inside the caller's transaction: a rolled-back save rolls back its
    # index update too, and the vectors are never ahead of or behind the data.
    ids = list(ids)
    if ids:
        index_services(ids)


@receiver(post_save, sender=Service)
def service_saved(sender, instance, **kwargs):
    _index([instance.pk])


@receiver(m2m_changed, sender=Service.needs.through)
@receiver(m2m_changed, sender=Service.populations.through)
@receiver(m2m_changed, sender=Service.languages.through)
def service_terms_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:
        if action in {"post_add", "post_remove", "post_clear"}:
            _index([instance.pk])
    elif action == "pre_clear":  # afterwards, the term no longer knows its services
        instance.cleared_service_ids = list(instance.services.values_list("pk", flat=True))
    elif action == "post_clear":
        _index(instance.cleared_service_ids)
    elif action in {"post_add", "post_remove"}:
        _index(pk_set)


@receiver(post_save, sender=Organization)
@receiver(post_save, sender=Need)
@receiver(post_save, sender=Population)
def name_source_saved(sender, instance, raw, **kwargs):
    if not raw:  # loaddata saves services (and so indexes them) after their terms
        _index(instance.services.values_list("pk", flat=True))


# Deleting a term deletes its links to services without an m2m_changed signal.
@receiver(pre_delete, sender=Need)
@receiver(pre_delete, sender=Population)
@receiver(pre_delete, sender=Language)
def term_deleting(sender, instance, **kwargs):
    instance.tagged_service_ids = list(instance.services.values_list("pk", flat=True))


@receiver(post_delete, sender=Need)
@receiver(post_delete, sender=Population)
@receiver(post_delete, sender=Language)
def term_deleted(sender, instance, **kwargs):
    _index(getattr(instance, "tagged_service_ids", []))


# Where and when a service is offered: the rows its place and hours filters read, and
# the services each row speaks for. A row moved to another service or location changes
# both sides. (Their querysets' update() does the same: models.WhereAndWhenQuerySet.)
WHERE_AND_WHEN = (ServiceArea, ServiceAtLocation, Address, Location, Schedule)


def _services_of(rows):
    """The services the rows speak for, from their own fields (they may just have been
    deleted): one query for those offered at the rows' locations."""
    services, location_ids = set(), set()
    for row in rows:
        if isinstance(row, (ServiceArea, ServiceAtLocation)):
            services.add(row.service_id)
            continue
        if getattr(row, "service_id", None):  # a schedule of the service itself
            services.add(row.service_id)
        location_ids.add(row.pk if isinstance(row, Location) else row.location_id)
    location_ids.discard(None)
    if location_ids:
        links = ServiceAtLocation.objects.filter(location_id__in=location_ids)
        services.update(links.values_list("service_id", flat=True))
    return services


def index_services_of(rows):
    _index(_services_of(rows))


def where_or_when_saving(sender, instance, **kwargs):
    # Looked up even for a row being added: loaddata adds rows that may exist already.
    before = sender.objects.filter(pk=instance.pk).first()
    instance.services_before = _services_of([before] if before else [])


def where_or_when_changed(sender, instance, **kwargs):
    _index(getattr(instance, "services_before", set()) | _services_of([instance]))


for model in WHERE_AND_WHEN:
    uid = model.__name__
    pre_save.connect(where_or_when_saving, sender=model, dispatch_uid=f"saving_{uid}")
    post_save.connect(where_or_when_changed, sender=model, dispatch_uid=f"saved_{uid}")
    post_delete.connect(where_or_when_changed, sender=model, dispatch_uid=f"deleted_{uid}")


@receiver(post_save, sender=Synonym)
@receiver(post_delete, sender=Synonym)
@receiver(m2m_changed, sender=Synonym.needs.through)
@receiver(post_save, sender=Need)
@receiver(post_delete, sender=Need)
def synonyms_changed(sender, **kwargs):
    forget_synonyms()
