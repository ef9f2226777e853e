"""The curated synonyms every search reads, kept by each process until a curator edits them.

Each process keeps the table under a version held in the shared cache: a search reads
that short string, not the table. An edit deletes the version, so every process loads
the table again; its timeout is only a safety net.
"""

import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from resources.models import Need, Synonym

VERSION_KEY = "search:synonyms:version"
CACHE_SECONDS = 600
_tables = {}  # {version: table}, in this process


def synonym_table():
    """Every curated synonym by its phrase, with its needs loaded."""
    version = cache.get(VERSION_KEY)
    if version is None:
        # Two processes may get here at once: the first to add the version wins.
        cache.add(VERSION_KEY, uuid.uuid4().hex, CACHE_SECONDS)
        version = cache.get(VERSION_KEY)
    table = _tables.get(version)
    if table is None:
        table = {s.phrase: s for s in Synonym.objects.prefetch_related("needs")}
        _tables.clear()
        # Without a version (no shared cache, or an edit deleted it just now), nothing
        # would tell this copy is out of date: it serves this search only.
        if version is not None:
            _tables[version] = table
    return table


def forget_synonyms(**kwargs):
    # Now, and again once the edit is committed: a search running in between could
    # otherwise load what the edit is replacing under the version that follows.
    cache.delete(VERSION_KEY)
    transaction.on_commit(lambda: cache.delete(VERSION_KEY))


def follow_edits():
    """Forget the synonyms whenever a curator changes one, or a need they point to."""
    for name, signal, sender in [
        ("saved", post_save, Synonym),
        ("deleted", post_delete, Synonym),
        ("needs", m2m_changed, Synonym.needs.through),
        ("need_saved", post_save, Need),
        ("need_deleted", post_delete, Need),
    ]:
        signal.connect(forget_synonyms, sender=sender, dispatch_uid=f"synonyms_{name}")
