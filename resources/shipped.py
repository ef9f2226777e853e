"""The directory this project ships (fixtures/), loaded only where a database lacks it.

Curators own every row once it is here: loading again adds what is new in the shipped
files and leaves every row it wrote before as it now is, edited or deleted.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.db import IntegrityError, connection, transaction

from .models import ShippedRow

# In the order they load: the taxonomy before the services tagged with it.
FIXTURES = ["taxonomy", "directory", "synonyms"]


@dataclass
class Report:
    added: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)
    skipped: list = field(default_factory=list)

    def __str__(self):
        lines = [f"Added {_count(self.added)}." if self.added else "Nothing new to add."]
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


@transaction.atomic
def load_shipped(names=FIXTURES):
    """Write each shipped row that was never written here, and report what was done."""
    report = Report()
    done = set(ShippedRow.objects.values_list("model", "object_pk"))
    written = set()  # (model, pk) of the rows this load writes, before they are saved
    for row in shipped_rows(names):
        instance = row.object
        key = (instance._meta.label_lower, str(instance.pk))
        if key in done:
            continue  # written once already: since then it is the curators'
        # Recorded even when it cannot be written (see below): a row skipped because a
        # curator deleted what it belongs to stays skipped.
        ShippedRow.objects.create(model=key[0], object_pk=key[1])
        if type(instance)._base_manager.filter(pk=instance.pk).exists():
            report.kept[instance._meta.verbose_name_plural] += 1
            continue
        missing = _missing_relations(row, written)
        if missing:
            report.skipped.append(f"{instance._meta.verbose_name} “{instance}”: {missing}")
            continue
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError as error:  # e.g. a curator's row already has its slug
            reason = str(error).splitlines()[0]
            report.skipped.append(f"{instance._meta.verbose_name} “{instance}”: {reason}")
            continue
        written.add(key)
        report.added[instance._meta.verbose_name_plural] += 1
    return report


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
    """The tables reset_directory empties: every model of the app."""
    from django.apps import apps

    tables = []
    for model in apps.get_app_config("resources").get_models(include_auto_created=True):
        tables.append(model._meta.db_table)
    return tables


@transaction.atomic
def reset():
    """Empty every directory table (what curators entered included) and load the
    shipped directory afresh."""
    quoted = ", ".join(connection.ops.quote_name(table) for table in directory_tables())
    with connection.cursor() as cursor:
        # TRUNCATE waits for no deferred check, so none may be pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {quoted}")
    return load_shipped()
