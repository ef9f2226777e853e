"""Every curator's change, recorded and undoable (django-reversion).

A version of a service is a snapshot of the service and of the rows it owns (its phones,
hours, areas and places), taken in one revision with who and when. The same goes for an
organization (its phones) and a location (its addresses, phones, hours and services).
Organizations, locations and taxonomy terms keep their own history: restoring a service
never changes a location that other services share.

Here: what is recorded (register), the readable differences between two snapshots
(changes), and putting an earlier snapshot back in one step (restore), itself recorded.
"""

from dataclasses import dataclass, field

import reversion
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from reversion.models import Version

from .models import (
    Address,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
)

# The rows each recorded model owns, by the relation that follows them and the foreign
# key that points back at the owner.
OWNED = {
    Service: [
        ("phones", Phone, "service_id"),
        ("schedules", Schedule, "service_id"),
        ("service_areas", ServiceArea, "service_id"),
        ("service_at_locations", ServiceAtLocation, "service_id"),
    ],
    # A location's services are its services' own (each records and restores its places).
    Location: [
        ("addresses", Address, "location_id"),
        ("phones", Phone, "location_id"),
        ("schedules", Schedule, "location_id"),
    ],
    Organization: [("phones", Phone, "organization_id")],
}
# Derived by the database (resources.search.index), or moved by every save.
NOT_RECORDED = {"search_vector", "filter_vector", "place_bits"}
NOT_COMPARED = NOT_RECORDED | {"id", "modified", "created"}
# What a restore leaves as it is: publishing and verifying are decisions of their own,
# made through the workflow (resources.publishing), not undone with the content.
KEPT_ON_RESTORE = {Service: ["publication_state", "last_verified", "last_verified_by"]}


def register():
    for owner, owned in OWNED.items():
        for _, model, _ in owned:
            if not reversion.is_registered(model):
                reversion.register(model)
        reversion.register(
            owner,
            follow=[relation for relation, _, _ in owned],
            exclude=[name for name in NOT_RECORDED if hasattr(owner, name)],
        )


def record(obj, user, comment):
    """Record obj's state now, as one revision by user."""
    with reversion.create_revision():
        reversion.set_user(user)
        reversion.set_comment(comment)
        reversion.add_to_revision(obj)


def ensure_baseline(obj):
    """Before the first recorded change of something that predates history (loaded from
    the shipped directory, imported), record it as it is, so that change has an 'old'."""
    if obj.pk and not Version.objects.get_for_object(obj).exists():
        with reversion.create_revision():
            reversion.set_comment("As it was before its first recorded change.")
            reversion.set_date_created(getattr(obj, "modified", None))
            reversion.add_to_revision(obj)


def versions(obj):
    """obj's recorded versions, newest first, with their revisions and what else each
    revision holds (the rows obj owned then)."""
    return (
        Version.objects.get_for_object(obj)
        .select_related("revision__user")
        .prefetch_related("revision__version_set")
    )


def entries(obj, limit, subject=None):
    """obj's newest `limit` versions, each with what it changed from the one before (None
    for the oldest recorded); subject says what obj is when shown in another's history."""
    recorded = list(versions(obj)[: limit + 1])
    snapshots = [Snapshot.of_version(version) for version in recorded]
    return [
        {
            "version": version,
            "changes": changes(snapshots[i + 1], snapshots[i]) if i + 1 < len(snapshots) else None,
            "is_current": i == 0,
            "subject": subject,
        }
        for i, version in enumerate(recorded[:limit])
    ]


# Snapshots and their differences


@dataclass
class Snapshot:
    """What one version (or the database now) holds of an object and of its rows."""

    model: type
    fields: dict
    rows: dict = field(default_factory=dict)  # owned model: {pk: fields}

    @classmethod
    def of_version(cls, version):
        model = version._model
        rows = {owned: {} for _, owned, _ in OWNED.get(model, [])}
        owner_pk = str(version.object_id)
        for other in version.revision.version_set.all():
            for _, owned, key in OWNED.get(model, []):
                if other._model is owned and str(other.field_dict.get(key)) == owner_pk:
                    rows[owned][str(other.object_id)] = other.field_dict
        return cls(model, version.field_dict, rows)

    @classmethod
    def of_object(cls, obj):
        model = type(obj)
        rows = {
            owned: {str(row.pk): field_values(row) for row in getattr(obj, relation).all()}
            for relation, owned, _ in OWNED.get(model, [])
        }
        return cls(model, field_values(obj), rows)

    @classmethod
    def empty(cls, model):
        return cls(model, {}, {owned: {} for _, owned, _ in OWNED.get(model, [])})


def field_values(obj):
    values = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    for f in obj._meta.many_to_many:
        values[f.attname] = [related.pk for related in getattr(obj, f.name).all()]
    return values


@dataclass
class Change:
    what: str  # "Phone number", "Schedule added", ...
    old: str = ""
    new: str = ""


def changes(old, new):
    """The differences from snapshot old to snapshot new, in words a curator reads."""
    found = _field_changes(new.model, old.fields, new.fields, prefix="")
    for owned, new_rows in new.rows.items():
        old_rows = old.rows.get(owned, {})
        name = owned._meta.verbose_name.capitalize()
        for pk in old_rows.keys() - new_rows.keys():
            found.append(Change(f"{name} removed", old=describe(owned, old_rows[pk])))
        for pk in new_rows.keys() - old_rows.keys():
            found.append(Change(f"{name} added", new=describe(owned, new_rows[pk])))
        for pk in old_rows.keys() & new_rows.keys():
            row_changes = _field_changes(owned, old_rows[pk], new_rows[pk], prefix="")
            if row_changes:  # named (which can take a query) only when it changed
                label = describe(owned, old_rows[pk])
                for change in row_changes:
                    change.what = f"{label}: {change.what}"
                found += row_changes
    return found


def _field_changes(model, old, new, *, prefix):
    found = []
    for f in model._meta.concrete_fields + model._meta.many_to_many:
        if f.name in NOT_COMPARED or f.attname not in new:
            continue
        before, after = old.get(f.attname), new.get(f.attname)
        if f.many_to_many:
            before, after = {str(pk) for pk in before or []}, {str(pk) for pk in after or []}
            if before != after:
                found.append(
                    Change(
                        f"{prefix}{f.verbose_name}",
                        old=_names(f, before - after) and "removed " + _names(f, before - after),
                        new=_names(f, after - before) and "added " + _names(f, after - before),
                    )
                )
        elif _comparable(before) != _comparable(after):
            found.append(Change(f"{prefix}{f.verbose_name}", show(f, before), show(f, after)))
    return found


def _comparable(value):
    return None if value in (None, "") else str(value)


def _names(f, pks):
    if not pks:
        return ""
    found = {str(obj.pk): str(obj) for obj in f.related_model._default_manager.filter(pk__in=pks)}
    return ", ".join(sorted(found.get(pk, "(since deleted)") for pk in pks))


def show(f, value):
    """A field's value as the admin would write it."""
    if value in (None, ""):
        return "—"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.BooleanField):
        return "yes" if value else "no"
    if isinstance(f, models.TimeField):
        return value.strftime("%H:%M")
    if f.is_relation:
        try:
            return str(f.related_model._default_manager.get(pk=value))
        except (ObjectDoesNotExist, ValueError):
            return "(since deleted)"
    return str(value)


def describe(model, values):
    """A row, in a few words: its number, its hours, its area, its place."""
    if model is Phone:
        return " ext. ".join(filter(None, [values.get("number"), values.get("extension")]))
    if model is Schedule:
        return str(Schedule(**_concrete(Schedule, values)))
    if model is ServiceArea:
        return str(ServiceArea(**_concrete(ServiceArea, values)))
    if model is ServiceAtLocation:
        return "at " + show(ServiceAtLocation._meta.get_field("location"), values["location_id"])
    if model is Address:
        return ", ".join(filter(None, [values.get("address_1"), values.get("city")]))
    return model._meta.verbose_name


def _concrete(model, values):
    names = {f.attname for f in model._meta.concrete_fields}
    return {name: value for name, value in values.items() if name in names}


def last_published(service):
    """The newest recorded version in which the service was published, or None."""
    # Narrowed in the database (the JSON as Django's serializer writes it), then checked.
    candidates = versions(service).filter(
        serialized_data__contains='"publication_state": "published"'
    )
    for version in candidates:
        if version.field_dict.get("publication_state") == "published":
            return version
    return None


def changes_since_published(service):
    """What a reviewer checks before publishing: the service now against the version
    last published (everything, when it never was). Returns (version or None, changes)."""
    version = last_published(service)
    old = Snapshot.of_version(version) if version else Snapshot.empty(Service)
    now = Snapshot.of_object(service)
    # That it is no longer published goes without saying.
    now.fields.pop("publication_state")
    return version, changes(old, now)


# Restoring


class RestoreError(Exception):
    pass


def restore(version, user):
    """Put obj back as it was in version, with the rows it owned then, in one
    transaction, and record that as a new version. Refused (RestoreError), with nothing
    changed, when the version points at something no longer there or clashes with
    something added since."""
    model = version._model
    snapshot_versions = _owned_versions(version)
    try:
        with transaction.atomic():
            obj = model._default_manager.select_for_update().get(pk=version.object_id)
            missing = [
                problem for v in [version, *snapshot_versions] for problem in _missing_references(v)
            ]
            if missing:
                raise RestoreError(
                    "This version cannot be restored, because "
                    + "; ".join(dict.fromkeys(missing))
                    + ". Change it by hand instead."
                )
            kept = {name: getattr(obj, name) for name in KEPT_ON_RESTORE.get(model, [])}
            ensure_baseline(obj)
            for relation, owned, _ in OWNED.get(model, []):
                keep = [v.object_id for v in snapshot_versions if v._model is owned]
                getattr(obj, relation).exclude(pk__in=keep).delete()
            version.revert()
            for owned_version in snapshot_versions:
                owned_version.revert()
            obj = model._default_manager.get(pk=obj.pk)
            for name, value in kept.items():
                setattr(obj, name, value)
            obj.save()
            when = timezone.localtime(version.revision.date_created)
            record(obj, user, f"Restored the version of {when:%d %b %Y %H:%M}.")
            # Foreign keys are checked at commit: check them here, to answer in words.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    except IntegrityError as error:
        raise RestoreError(
            "This version cannot be restored: it clashes with what the directory holds "
            f"now ({str(error).splitlines()[0]}). Change it by hand instead."
        ) from None
    return obj


def _owned_versions(version):
    owner_pk = str(version.object_id)
    owned = {model: key for _, model, key in OWNED.get(version._model, [])}
    return [
        other
        for other in version.revision.version_set.all()
        if other._model in owned and str(other.field_dict.get(owned[other._model])) == owner_pk
    ]


def _missing_references(version):
    """The things a version points at that no longer exist, in words."""
    model = version._model
    values = version.field_dict
    for f in model._meta.concrete_fields + model._meta.many_to_many:
        if not f.is_relation or f.related_model is None or f.attname not in values:
            continue
        if f.related_model._meta.label == "auth.User":
            continue
        pks = values[f.attname] if f.many_to_many else [values[f.attname]]
        pks = {str(pk) for pk in pks if pk is not None}
        if not pks:
            continue
        found = {
            str(pk)
            for pk in f.related_model._default_manager.filter(pk__in=pks).values_list(
                "pk", flat=True
            )
        }
        for pk in sorted(pks - found):
            name = _name_of_deleted(f.related_model, pk)
            yield f"its {f.verbose_name}{name} has since been deleted"


def _name_of_deleted(model, pk):
    """("name"), as the deleted thing's own history or the admin's log last knew it."""
    known = Version.objects.get_for_model(model).filter(object_id=pk).first() or (
        LogEntry.objects.filter(
            content_type__app_label=model._meta.app_label,
            content_type__model=model._meta.model_name,
            object_id=pk,
        ).first()
    )
    return f" ({known.object_repr})" if known else ""
