"""The directory this project ships (fixtures/), loaded only where a database lacks it.

Curators own every row once it is here. Loading again adds what is new in the shipped
files; a row this loader wrote is brought up to a newer shipped version only while no
one has changed it since (its fields, compared by digest, are still what was written),
and a shipped service a newer release no longer ships is archived on the same terms.
A row anyone has touched, or deleted, stays as it is.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.db import IntegrityError, connection, transaction

from . import publishing
from .models import PublicationState, Service, ShippedRow
from .search.synonyms import forget_synonyms

# In the order they load: the taxonomy before the services tagged with it.
FIXTURES = ["taxonomy", "directory", "synonyms"]
# What the database derives from the rest: no part of what a curator may change.
DERIVED = {"search_vector", "filter_vector", "place_bits"}


@dataclass
class Report:
    added: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    archived: list = field(default_factory=list)
    kept: Counter = field(default_factory=Counter)
    skipped: list = field(default_factory=list)

    def __str__(self):
        lines = [f"Added {_count(self.added)}." if self.added else "Nothing new to add."]
        if self.updated:
            lines.append(f"Brought up to date, as no one had changed them: {_count(self.updated)}.")
        lines += [
            f"Archived {name}, which the directory no longer ships." for name in self.archived
        ]
        if self.kept:
            lines.append(f"Left as they are here: {_count(self.kept)}.")
        lines += [f"Skipped {row}." for row in self.skipped]
        return "\n".join(lines)


def _count(counter):
    return ", ".join(f"{n} {label}" for label, n in sorted(counter.items()))


def fixture_path(name):
    for folder in settings.FIXTURE_DIRS:
        path = Path(folder) / f"{name}.json"
        if path.exists():
            return path
    raise FileNotFoundError(f"No fixture {name}.json in {settings.FIXTURE_DIRS}")


def shipped_rows(names=FIXTURES):
    for name in names:
        with fixture_path(name).open() as stream:
            yield from serializers.deserialize("json", stream)


def _digest(instance, m2m):
    """A row's fields and tags, as one string to compare."""
    fields = {
        f.attname: f.value_to_string(instance)
        for f in instance._meta.concrete_fields
        if f.name not in DERIVED
    }
    for relation in instance._meta.many_to_many:
        fields[relation.name] = sorted(str(pk) for pk in m2m.get(relation.name, []))
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def shipped_digest(row):
    return _digest(row.object, row.m2m_data or {})


def stored_digest(model, pk):
    """The digest of the row as the database holds it now, or None if it is gone."""
    instance = model._base_manager.filter(pk=pk).first()
    if instance is None:
        return None
    tags = {
        f.name: getattr(instance, f.name).values_list("pk", flat=True)
        for f in model._meta.many_to_many
    }
    return _digest(instance, tags)


@transaction.atomic
def load_shipped(names=FIXTURES):
    """Write each shipped row that was never written here, bring up to date those no
    one has changed since, and report what was done."""
    report = Report()
    records = {(r.model, r.object_pk): r for r in ShippedRow.objects.all()}
    written = set()  # (model, pk) of the rows this load writes, before they are saved
    shipped = set()
    for row in shipped_rows(names):
        instance = row.object
        model = type(instance)
        key = (instance._meta.label_lower, str(instance.pk))
        shipped.add(key)
        record = records.get(key)
        if record is not None:
            _update_if_untouched(row, record, report)
            continue
        # Recorded even when it cannot be written (see below): a row skipped because a
        # curator deleted what it belongs to stays skipped.
        record = ShippedRow(model=key[0], object_pk=key[1], shipped=shipped_digest(row))
        if model._base_manager.filter(pk=instance.pk).exists():
            # Here before this loader kept records: whose it is cannot be known.
            record.shipped = ""
            record.save()
            report.kept[instance._meta.verbose_name_plural] += 1
            continue
        missing = _missing_relations(row, written)
        if missing or not _write(row, report):
            if missing:
                report.skipped.append(f"{instance._meta.verbose_name} “{instance}”: {missing}")
            record.save()
            continue
        record.written = stored_digest(model, instance.pk)
        record.save()
        written.add(key)
        report.added[instance._meta.verbose_name_plural] += 1
    _archive_unshipped_services(records, shipped, names, report)
    return report


def _write(row, report):
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:  # e.g. a curator's row already has its slug
        instance = row.object
        reason = str(error).splitlines()[0]
        report.skipped.append(f"{instance._meta.verbose_name} “{instance}”: {reason}")
        return False
    return True


def _update_if_untouched(row, record, report):
    instance = row.object
    model = type(instance)
    digest = shipped_digest(row)
    if not record.written or digest == record.shipped:
        return  # not ours to change, or unchanged upstream
    if stored_digest(model, instance.pk) != record.written:
        return  # a curator changed or deleted it: it is theirs
    if _missing_relations(row, set()) or not _write(row, report):
        return
    record.shipped, record.written = digest, stored_digest(model, instance.pk)
    record.save()
    report.updated[instance._meta.verbose_name_plural] += 1


def _archive_unshipped_services(records, shipped, names, report):
    """Archive the published services this loader wrote that the shipped directory no
    longer holds, while no one has changed them (never delete: partners know their ids)."""
    if "directory" not in names:
        return
    label = Service._meta.label_lower
    for key, record in records.items():
        if key[0] != label or key in shipped or not record.written:
            continue
        if stored_digest(Service, key[1]) != record.written:
            continue
        service = Service.objects.get(pk=key[1])
        if service.publication_state != PublicationState.PUBLISHED:
            continue
        publishing.archive(Service.objects.filter(pk=service.pk))
        record.written = stored_digest(Service, service.pk)
        record.save()
        report.archived.append(f"“{service.name}”")


def _missing_relations(row, written):
    """What a shipped row refers to that is no longer here (a curator deleted it), or ''.
    Tags that are gone are dropped from the row; anything else it needs skips it."""

    def present(model, pk):
        return (model._meta.label_lower, str(pk)) in written or (
            model._base_manager.filter(pk=pk).exists()
        )

    instance = row.object
    for relation in instance._meta.concrete_fields:
        value = getattr(instance, relation.attname)
        if (
            relation.is_relation
            and value is not None
            and not present(relation.related_model, value)
        ):
            return f"its {relation.verbose_name} was deleted here"
    for name, pks in (row.m2m_data or {}).items():
        model = instance._meta.get_field(name).related_model
        row.m2m_data[name] = [pk for pk in pks if present(model, pk)]
    return ""


def directory_tables():
    """The tables reset_directory empties: every model of the app but reference data
    its migrations fill (the ZIP codes), which no one enters."""
    from django.apps import apps

    models = apps.get_app_config("resources").get_models(include_auto_created=True)
    return [model._meta.db_table for model in models if model._meta.managed]


@transaction.atomic
def reset():
    """Empty every directory table (what curators entered included) and load the
    shipped directory afresh."""
    quoted = ", ".join(connection.ops.quote_name(table) for table in directory_tables())
    with connection.cursor() as cursor:
        # TRUNCATE waits for no deferred check, so none may be pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {quoted}")
    forget_synonyms()
    return load_shipped()
