"""Keep what search reads in step with what it is built from.

Saving a service, changing its needs or populations, or renaming its organization or
one of its terms refreshes the affected services' vectors. Bulk writes that bypass
signals (seed_demo) call resources.search.index_services themselves. Any change to a
synonym, or to the needs synonyms point to, clears the cached synonym table.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .models import Need, Organization, Population, Service, Synonym
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
def service_terms_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        _index([instance.pk])
    elif pk_set:
        _index(pk_set)
    else:
        _index(instance.services.values_list("pk", flat=True))


@receiver(post_save, sender=Organization)
@receiver(post_save, sender=Need)
@receiver(post_save, sender=Population)
def name_source_saved(sender, instance, raw, **kwargs):
    if not raw:  # loaddata saves services (and so indexes them) after their terms
        _index(instance.services.values_list("pk", flat=True))


@receiver(post_save, sender=Synonym)
@receiver(post_delete, sender=Synonym)
@receiver(m2m_changed, sender=Synonym.needs.through)
@receiver(post_save, sender=Need)
@receiver(post_delete, sender=Need)
def synonyms_changed(sender, **kwargs):
    forget_synonyms()
