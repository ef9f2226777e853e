"""An HSDS 3 package into the directory: read, check, plan, then apply in one transaction.

A package is a folder or a zip of CSV tables (resources.hsds.tabular), or NDJSON / a
JSON array of fully nested services (flattened into the same tables). Every record is
matched by its id: new ones are created, changed ones updated, and the rows a service,
location or organization owns that the package no longer lists are removed, each
changed entry recorded in its history first so a curator can restore it.

Nothing is written unless every row is sound: each bad one is reported by file, line,
field and reason, and the database stays exactly as it was. What HSDS holds and this
directory does not (contacts, programs, an address outside the United States...) is
reported as not kept, never dropped in silence.
"""

import codecs
import csv
import json
import re
import secrets
import uuid
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from resources import history
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
    check_confidential_location_reachable,
    free_slug,
)
from resources.search import index

from .serializers import HSDS_WEEKDAYS
from .tabular import BY_PATH, TABLE, TABLES, complete, flatten
from .taxonomies import NEEDS, POPULATIONS

CHUNK = 1000
ANALYZE_AFTER = 10_000  # rows written, past which the tables' statistics are refreshed
LABELS = {
    "taxonomy": "Taxonomies",
    "taxonomy_term": "Taxonomy terms",
    "organization": "Organizations",
    "location": "Locations",
    "address": "Addresses",
    "service": "Services",
    "service_at_location": "Services at locations",
    "phone": "Phone numbers",
    "schedule": "Opening hours",
    "service_area": "Service areas",
    "language": "Languages",
    "attribute": "Needs and populations",
}
STATES_24_7 = ",".join(HSDS_WEEKDAYS)


class PackageError(Exception):
    """The package cannot be read at all (not a package, unsafe, too big)."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str | None
    reason: str

    def __str__(self):
        where = self.file + (f", line {self.line}" if self.line else "")
        return f"{where}{f', {self.field}' if self.field else ''}: {self.reason}"


@dataclass
class Row:
    table: str
    file: str
    line: int
    values: dict

    def problem(self, column, reason):
        return Problem(self.file, self.line, column, reason)


@dataclass
class Report:
    """What an import found and did: per table, how many rows are new, changed,
    unchanged and removed; the rejected rows (errors) and what was not kept (notices)."""

    counts: dict = field(default_factory=lambda: defaultdict(Counter))
    errors: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self):
        return not self.errors

    @property
    def row_notices(self):
        """What was not kept of particular rows: worth a curator's look."""
        return [notice for notice in self.notices if notice.line]

    @property
    def unsupported(self):
        """The tables and columns of HSDS the directory has no place for."""
        return [notice for notice in self.notices if not notice.line]

    @property
    def changes_anything(self):
        return any(
            counts[kind]
            for counts in self.counts.values()
            for kind in ("new", "changed", "removed")
        )

    def in_words(self, done=False):
        """What the import would do (or did), in a sentence."""
        parts = []
        verbs = ("added", "changed", "removed") if done else ("add", "change", "remove")
        for kind, verb in zip(("new", "changed", "removed"), verbs, strict=True):
            items = [
                f"{LABELS[table.name].lower()} ({self.counts[table.name][kind]})"
                for table in TABLES
                if self.counts.get(table.name, {}).get(kind)
            ]
            if items:
                parts.append(f"{verb} {', '.join(items)}")
        if not parts:
            return "Nothing would change: everything in it is already in the directory."
        return ("It " if done else "It would ") + "; ".join(parts) + "."

    def count_rejected(self):
        rejected = defaultdict(set)
        for error in self.errors:
            if error.file in BY_PATH and error.line:
                rejected[BY_PATH[error.file].name].add(error.line)
        for table_name, lines in rejected.items():
            self.counts[table_name]["rejected"] = len(lines)

    def table_counts(self):
        return [
            (LABELS[table.name], table.path, self.counts[table.name])
            for table in TABLES
            if any(self.counts.get(table.name, {}).values())
        ]

    def summary(self):
        lines = []
        for table in TABLES:
            counts = self.counts.get(table.name)
            if counts and any(counts.values()):
                parts = ", ".join(
                    f"{counts[kind]} {kind}"
                    for kind in ("new", "changed", "unchanged", "removed", "rejected")
                    if counts[kind]
                )
                lines.append(f"{table.path}: {parts}")
        return lines


# Reading


def max_bytes():
    return settings.HSDS_IMPORT_MAX_BYTES


def read_package(path, report):
    """The package at path as rows per table (in file order); problems go to report."""
    path = Path(path)
    if not path.exists():
        raise PackageError(f"{path} does not exist.")
    if path.is_dir():
        sources = _folder_sources(path, report)
    elif path.suffix == ".zip":
        sources = _zip_sources(path, report)
    elif path.suffix in (".ndjson", ".jsonl", ".json"):
        _check_size(path.name, path.stat().st_size)
        rows = _records(path, report)
        # Nested services give every table, but never an organization's phones.
        return rows, {table.name for table in TABLES} - {"organization_phones"}
    else:
        raise PackageError(
            f"{path.name}: give a folder or .zip of CSV files, or a .ndjson or .json file."
        )
    rows = defaultdict(list)
    for name, opener in sources:
        try:
            with opener() as raw:
                _read_csv(BY_PATH[name], name, raw, rows, report)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as error:
            report.errors.append(Problem(name, None, None, f"cannot be read: {error}"))
    if "service" not in rows and not any(p.file == "services.csv" for p in report.errors):
        report.errors.append(Problem("services.csv", None, None, "the package has no services"))
    supplied = {BY_PATH[name].name for name, _ in sources}
    if "phone" in supplied:
        supplied.add("organization_phones")
    return rows, supplied


def _check_size(name, size):
    if size > max_bytes():
        raise PackageError(
            f"{name} is {size:,} bytes; the most an import reads is {max_bytes():,} "
            "(HSDS_IMPORT_MAX_BYTES)."
        )


def _folder_sources(folder, report):
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    sources = []
    for name in names:
        if name in BY_PATH:
            _check_size(name, (folder / name).stat().st_size)
            sources.append((name, partial((folder / name).open, "rb")))
        elif name.endswith(".csv"):
            report.notices.append(_not_kept_table(name))
    return _in_table_order(sources)


def _zip_sources(path, report):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise PackageError(f"{path.name} is not a zip file: {error}") from None
    members = [info for info in archive.infolist() if not info.is_dir()]
    total = 0
    folders = set()
    for info in members:
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise PackageError(f"{path.name}: {info.filename} points outside the package.")
        folders.add(name.parent)
        total += info.file_size
        _check_size(f"{path.name} unpacked", total)
    if len(folders) > 1:
        raise PackageError(f"{path.name}: put the package's files in one folder.")
    sources = []
    for info in members:
        name = PurePosixPath(info.filename).name
        if name in BY_PATH:
            sources.append((name, lambda info=info: archive.open(info)))
        elif name.endswith(".csv"):
            report.notices.append(_not_kept_table(name))
    return _in_table_order(sources)


def _in_table_order(sources):
    order = {table.path: i for i, table in enumerate(TABLES)}
    return sorted(sources, key=lambda source: order[source[0]])


def _not_kept_table(name):
    return Problem(name, None, None, "not kept: the directory holds no such records")


def _read_csv(table, name, raw, rows, report):
    text = codecs.getreader("utf-8-sig")(raw, errors="strict")
    reader = csv.reader(text)
    line = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [column.strip() for column in header]
        repeated = sorted({column for column in header if header.count(column) > 1})
        for column in repeated:
            report.errors.append(Problem(name, 1, column, "the column is there twice"))
        if repeated:
            return
        missing = [c.name for c in table.columns if c.required and c.name not in header]
        for column in missing:
            report.errors.append(Problem(name, 1, column, "missing column"))
        if missing:
            return
        unknown = [column for column in header if column not in table.column_names]
        unknown_used = Counter()
        line = reader.line_num + 1
        for values in reader:
            if len(values) != len(header) and any(values):
                report.errors.append(
                    Problem(name, line, None, f"{len(values)} values for {len(header)} columns")
                )
            elif any(values):
                record = dict(zip(header, values, strict=True))
                for column in unknown:
                    if record.get(column, "").strip():
                        unknown_used[column] += 1
                rows[table.name].append(Row(table.name, name, line, record))
            line = reader.line_num + 1
    except UnicodeDecodeError as error:
        report.errors.append(Problem(name, line, None, f"not UTF-8 text ({error.reason})"))
        return
    except csv.Error as error:
        report.errors.append(Problem(name, line, None, f"not CSV: {error}"))
        return
    for column, count in unknown_used.items():
        report.notices.append(
            Problem(
                name,
                None,
                column,
                f"not kept: the directory holds no {column} (in {count} row{'s'[: count > 1]})",
            )
        )


def _records(path, report):
    """NDJSON (or a JSON array) of nested services, flattened into table rows."""
    rows = defaultdict(list)
    seen = {}
    name = path.name
    try:
        for number, record in _json_records(path):
            try:
                flat = [
                    (table_name, {k: _cell(v) for k, v in complete(table_name, row).items()})
                    for table_name, row in flatten(record)
                ]
                keys = [(table_name, values.get("id")) for table_name, values in flat]
                hash(tuple(keys))
            except (AttributeError, TypeError):  # a list that is not of records, ...
                report.errors.append(
                    Problem(name, number, None, "not an HSDS service (a JSON object of one)")
                )
                continue
            for key, (table_name, values) in zip(keys, flat, strict=True):
                # An organization or location shared by several services comes with each
                # of them: the same record again is the same row.
                if seen.get(key) == values:
                    continue
                seen.setdefault(key, values)
                rows[table_name].append(Row(table_name, name, number, values))
    except UnicodeDecodeError as error:
        report.errors.append(Problem(name, None, None, f"not UTF-8 text ({error.reason})"))
    except JSONError as error:
        report.errors.append(Problem(name, error.line, None, f"not JSON: {error.reason}"))
    return rows


class JSONError(Exception):
    def __init__(self, line, reason):
        super().__init__(reason)
        self.line, self.reason = line, reason


def _json_records(path):
    """(line, record) for each record of an NDJSON file, or of a JSON array (numbered
    from 1 by their place in it)."""
    with open(path, encoding="utf-8-sig") as handle:
        if path.suffix == ".json":
            try:
                records = json.load(handle)
            except json.JSONDecodeError as error:
                raise JSONError(error.lineno, error.msg) from None
            except (ValueError, RecursionError) as error:
                raise JSONError(None, str(error)) from None
            if not isinstance(records, list):
                raise JSONError(1, "a .json file holds an array of services")
            yield from enumerate(records, start=1)
            return
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as error:
                    raise JSONError(number, error.msg) from None
                except (ValueError, RecursionError) as error:  # a 5,000-digit number, ...
                    raise JSONError(number, str(error)) from None


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return value  # nested records (flatten's), or a value typed() refuses
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Checking values


def _parse(kind, text):
    if kind == "uuid":
        return uuid.UUID(text)
    if kind == "number":
        number = Decimal(text)
        if not number.is_finite():
            raise ValueError
        return number
    if kind == "date":
        return date.fromisoformat(text)
    if kind == "datetime":
        value = datetime.fromisoformat(text)
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if kind == "time":
        return time.fromisoformat(text)
    return text


WHAT = {
    "uuid": "a UUID",
    "number": "a number",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (ISO 8601)",
    "time": "a time (HH:MM:SS)",
}


def typed(rows, report):
    """Each row's values parsed to its columns' types; a row with any bad value is
    reported and left out. Ids are unique per table."""
    result = defaultdict(dict)
    for table_name, table_rows in rows.items():
        table = TABLE[table_name]
        lines = {}
        for row in table_rows:
            values, bad = {}, False
            for column in table.columns:
                text = row.values.get(column.name, "")
                if not isinstance(text, str):
                    report.errors.append(row.problem(column.name, "is not a single value"))
                    bad = True
                    continue
                text = text.strip()
                if "\x00" in text:
                    report.errors.append(row.problem(column.name, "contains a NUL character"))
                    bad = True
                    continue
                if not text:
                    if column.required:
                        report.errors.append(row.problem(column.name, "required, but empty"))
                        bad = True
                    values[column.name] = None
                    continue
                if column.enum and text not in column.enum:
                    allowed = ", ".join(column.enum)
                    report.errors.append(
                        row.problem(column.name, f"{text!r} is not one of: {allowed}")
                    )
                    bad = True
                    continue
                try:
                    values[column.name] = _parse(column.type, text)
                except (ValueError, InvalidOperation):
                    report.errors.append(
                        row.problem(column.name, f"{text!r} is not {WHAT[column.type]}")
                    )
                    bad = True
            if bad:
                continue
            row_id = values["id"]
            if row_id in lines:
                report.errors.append(
                    row.problem("id", f"{row_id} is also on line {lines[row_id]}: ids are unique")
                )
                continue
            lines[row_id] = row.line
            row.values = values
            result[table_name][row_id] = row
    return result


# Planning: package rows -> model instances, compared with what the database holds


@dataclass
class Planned:
    model: type
    row: Row
    values: dict  # model field -> value
    existing: object = None
    # Whether the package changes the existing record: decided before anything is written.
    changed: bool = False

    def differs(self):
        return self.existing is not None and any(
            _comparable(getattr(self.existing, name)) != _comparable(value)
            for name, value in self.values.items()
        )


def _comparable(value):
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, datetime):
        return value.timestamp()
    return "" if value is None else value


class Plan:
    def __init__(self, tables, report, *, publish, source):
        self.tables, self.report = tables, report
        self.publish, self.source = publish, source
        self.planned = defaultdict(dict)  # model -> id -> Planned
        self.m2m = {}  # service id -> {"needs": set, "populations": set, "languages": set}
        self.owner_languages = defaultdict(set)  # (model, id) -> language codes
        self.new_languages = {}
        self.modified = {}  # service id -> last_modified from the package
        self.unkept = set()  # ids of rows the package lists but the directory cannot keep
        self.supplied = {table.name for table in TABLES}  # the tables the input gives

    def rows(self, table_name):
        return self.tables.get(table_name, {}).values()

    def error(self, row, column, reason):
        self.report.errors.append(row.problem(column, reason))

    def missing(self, row, column, to_table):
        self.error(
            row, column, f"no {to_table} {row.values[column]} in the package or the directory"
        )

    def notice(self, row, column, reason):
        self.report.notices.append(row.problem(column, f"not kept: {reason}"))
        # A row not kept (or kept in part) leaves the directory's row with its id as it is.
        self.unkept.add(row.values.get("id"))

    # What each id refers to, in the package or the database

    def known(self, table_name, column, model, to_table):
        """The ids in table_name's column that name a to_table record (model) in the
        package or the directory."""
        ids = {row.values[column] for row in self.rows(table_name)} - {None}
        inside = {i for i in ids if i in self.tables.get(to_table, {})}
        outside = list(ids - inside)
        found = set()
        for start in range(0, len(outside), CHUNK):
            found |= set(
                model.objects.filter(pk__in=outside[start : start + CHUNK]).values_list(
                    "pk", flat=True
                )
            )
        return inside | found

    def build(self):
        self._organizations()
        self._locations()
        self._addresses()
        self._services()
        self._service_at_locations()
        self._phones()
        self._schedules()
        self._service_areas()
        self._languages()
        self._attributes()
        self._load_existing()
        self._validate()

    def add(self, model, row, values):
        self.planned[model][row.values["id"]] = Planned(model, row, values)

    def _organizations(self):
        names = {}
        for row in self.rows("organization"):
            v = row.values
            key = v["name"].casefold()
            if key in names:
                self.error(row, "name", f"{v['name']!r} is also the name on line {names[key]}")
                continue
            names[key] = row.line
            self.add(
                Organization,
                row,
                {
                    "name": v["name"],
                    "alternate_name": v["alternate_name"] or "",
                    # The export writes the name where there is no description (HSDS
                    # requires one): that is no description.
                    "description": "" if v["description"] == v["name"] else v["description"],
                    "email": v["email"] or "",
                    "website": v["website"] or "",
                },
            )
        if names:
            clashes = Organization.objects.annotate(lower=Lower("name")).filter(
                lower__in=[name.lower() for name in names]
            )
            planned = self.planned[Organization]
            for organization in clashes.exclude(pk__in=list(planned)):
                for row_id, item in list(planned.items()):
                    if item.values["name"].lower() == organization.name.lower():
                        self.error(
                            item.row,
                            "name",
                            f"{item.values['name']!r} is already the name of organization "
                            f"{organization.pk}: use its id, or another name",
                        )
                        del planned[row_id]

    def _locations(self):
        organizations = self.known("location", "organization_id", Organization, "organization")
        for row in self.rows("location"):
            v = row.values
            organization_id = v["organization_id"]
            if organization_id and organization_id not in organizations:
                self.notice(
                    row,
                    "organization_id",
                    f"organization {organization_id} is in neither the "
                    "package nor the directory; the location is kept without it",
                )
                organization_id = None
            latitude, longitude = v["latitude"], v["longitude"]
            if (latitude is None) != (longitude is None) or (
                latitude is not None and not (abs(latitude) <= 90 and abs(longitude) <= 180)
            ):
                self.notice(
                    row,
                    "latitude",
                    f"({latitude}, {longitude}) is no place on Earth; "
                    "the location is kept without coordinates",
                )
                latitude = longitude = None
            name = v["name"] or ""
            if not name:
                name = f"Location {v['id']}"
                self.notice(row, "name", f"a location needs a name: it is called {name!r}")
            values = {
                "organization_id": organization_id,
                "location_type": v["location_type"],
                "url": v["url"] or "",
                "name": name,
                "description": v["description"] or "",
            }
            if latitude is not None:
                values["latitude"] = latitude.quantize(Decimal("0.000001"))
                values["longitude"] = longitude.quantize(Decimal("0.000001"))
            else:
                values["latitude"] = values["longitude"] = None
            self.add(Location, row, values)

    def _addresses(self):
        locations = self.known("address", "location_id", Location, "location")
        for row in self.rows("address"):
            v = row.values
            if v["location_id"] not in locations:
                self.missing(row, "location_id", "location")
                continue
            values = {
                "location_id": v["location_id"],
                "address_type": v["address_type"],
                "attention": v["attention"] or "",
                "address_1": v["address_1"],
                "address_2": v["address_2"] or "",
                "city": v["city"],
                "region": v["region"] or "",
                "state_province": v["state_province"],
                "postal_code": v["postal_code"],
                "country": v["country"],
            }
            problem = _address_problem(values)
            if problem:
                self.notice(row, problem[0], problem[1])
                continue
            self.add(Address, row, values)

    def _services(self):
        organizations = self.known("service", "organization_id", Organization, "organization")
        for row in self.rows("service"):
            v = row.values
            if v["organization_id"] not in organizations:
                self.missing(row, "organization_id", "organization")
                continue
            ages = {}
            for column in ("minimum_age", "maximum_age"):
                age = v[column]
                if age is not None and (age != age.to_integral_value() or not 0 <= age <= 130):
                    self.error(row, column, f"{age} is not an age in years (0 to 130)")
                    break
                ages[column] = None if age is None else int(age)
            else:
                if None not in ages.values() and ages["minimum_age"] > ages["maximum_age"]:
                    self.error(row, "maximum_age", "is below minimum_age")
                    continue
                self.add(
                    Service,
                    row,
                    {
                        "organization_id": v["organization_id"],
                        "name": v["name"],
                        "alternate_name": v["alternate_name"] or "",
                        "description": v["description"] or "",
                        "url": v["url"] or "",
                        "email": v["email"] or "",
                        "status": v["status"],
                        "interpretation_services": v["interpretation_services"] or "",
                        "application_process": v["application_process"] or "",
                        "fees_description": v["fees_description"] or "",
                        "eligibility_description": v["eligibility_description"] or "",
                        **ages,
                        "last_verified": v["assured_date"],
                    },
                )
                if v["last_modified"]:
                    self.modified[v["id"]] = v["last_modified"]
                self.m2m[v["id"]] = {"needs": set(), "populations": set(), "languages": set()}

    def _service_at_locations(self):
        rows = list(self.rows("service_at_location"))
        services = self.known("service_at_location", "service_id", Service, "service")
        locations = self.known("service_at_location", "location_id", Location, "location")
        for row in rows:
            v = row.values
            if v["service_id"] not in services:
                self.missing(row, "service_id", "service")
            elif v["location_id"] not in locations:
                self.missing(row, "location_id", "location")
            else:
                self.add(
                    ServiceAtLocation,
                    row,
                    {
                        "service_id": v["service_id"],
                        "location_id": v["location_id"],
                        "description": v["description"] or "",
                    },
                )

    def _known_owners(self, table_name, kinds):
        return {
            column: self.known(table_name, column, model, owner_table)
            for column, model, owner_table in kinds
        }

    def _owners(self, row, kinds, known):
        """The service, location and organization a phone or schedule belongs to."""
        owners = {}
        for column, _, table_name in kinds:
            owner_id = row.values[column]
            if owner_id is None:
                continue
            if owner_id not in known[column]:
                self.missing(row, column, table_name)
                return None
            owners[column] = owner_id
        if not owners:
            self.notice(row, None, "it belongs to no service, location or organization")
            return None
        return owners

    def _phones(self):
        kinds = [
            ("service_id", Service, "service"),
            ("location_id", Location, "location"),
            ("organization_id", Organization, "organization"),
        ]
        positions = Counter()
        known = self._known_owners("phone", kinds)
        for row in self.rows("phone"):
            owners = self._owners(row, kinds, known)
            if owners is None:
                continue
            v = row.values
            number = v["number"].strip("\"' ")
            extension = v["extension"]
            if extension is not None and (
                extension < 0 or extension >= 10**10 or extension != extension.to_integral_value()
            ):
                self.error(row, "extension", f"{extension} is not an extension (digits only)")
                continue
            owner_key = tuple(sorted(owners.items()))
            values = {
                "service_id": owners.get("service_id"),
                "location_id": owners.get("location_id"),
                "organization_id": owners.get("organization_id"),
                "number": number,
                "extension": "" if extension is None else str(int(extension)),
                "type": v["type"] or Phone.Type.VOICE,
                "description": v["description"] or "",
                "position": positions[owner_key],
            }
            positions[owner_key] += 1
            self.add(Phone, row, values)

    def _schedules(self):
        kinds = [("service_id", Service, "service"), ("location_id", Location, "location")]
        known = self._known_owners("schedule", kinds)
        for row in self.rows("schedule"):
            owners = self._owners(row, kinds, known)
            if owners is None:
                continue
            v = row.values
            base = {
                "service_id": owners.get("service_id"),
                "location_id": owners.get("location_id"),
                "notes": _notes(row, v["description"], v["notes"], self),
                "open_24_7": False,
                "weekday": None,
                "opens_at": None,
                "closes_at": None,
            }
            days = [d.strip() for d in (v["byday"] or "").split(",") if d.strip()]
            opens, closes = v["opens_at"], v["closes_at"]
            if v["byday"] == STATES_24_7 and opens == time(0) and closes == time(23, 59, 59):
                base.update(open_24_7=True, notes=v["notes"] or "")
                self.add(Schedule, row, base)
            elif not days and not opens and not closes:
                if not base["notes"]:
                    self.notice(row, None, "it gives neither hours nor a description")
                    continue
                self.add(Schedule, row, base)
            elif (v["freq"] or "WEEKLY") != "WEEKLY" or not days or not opens or not closes:
                self.notice(
                    row,
                    "freq",
                    "only weekly hours (freq WEEKLY, byday, opens_at, closes_at) are kept",
                )
            elif any(day not in HSDS_WEEKDAYS for day in days):
                self.error(row, "byday", f"{v['byday']!r} is not a list of days (MO,TU,...)")
            elif closes <= opens:
                self.error(row, "closes_at", "is not after opens_at")
            else:
                for i, day in enumerate(days):
                    values = {
                        **base,
                        "weekday": HSDS_WEEKDAYS.index(day) + 1,
                        "opens_at": opens,
                        "closes_at": closes,
                    }
                    if i == 0:
                        self.add(Schedule, row, values)
                    else:  # one row per day here; the later days get ids of their own
                        split = Row(row.table, row.file, row.line, {"id": derived(row, day)})
                        self.add(Schedule, split, values)
                if len(days) > 1:
                    self.report.notices.append(
                        row.problem("byday", f"kept as {len(days)} rows, one per day")
                    )

    def _service_areas(self):
        services = self.known("service_area", "service_id", Service, "service")
        extents = {label: value for value, label in ServiceArea.Extent.choices}
        for row in self.rows("service_area"):
            v = row.values
            if v["service_id"] not in services:
                self.missing(row, "service_id", "service")
                continue
            values = _area(extents.get(v["description"] or ""), v["name"] or "")
            if values is None:
                self.notice(
                    row,
                    "name",
                    "the directory keeps a nationwide, state, county or city "
                    "area, and cannot tell which this is",
                )
                continue
            self.add(ServiceArea, row, {"service_id": v["service_id"], **values})

    def _languages(self):
        by_code = {language.code: language for language in Language.objects.all()}
        by_name = {language.name.casefold(): language for language in by_code.values()}
        for row in self.rows("language"):
            v = row.values
            code = (v["code"] or "").lower()
            language = by_code.get(code) or by_name.get((v["name"] or "").casefold())
            if language is None:
                if not code or not v["name"]:
                    self.error(row, "code", "a new language needs its ISO 639 code and its name")
                    continue
                language = Language(code=code, name=v["name"])
                try:
                    language.full_clean(validate_unique=False)
                except ValidationError as error:
                    self.error(row, "code", " ".join(error.messages))
                    continue
                by_code[code] = by_name[language.name.casefold()] = language
                self.new_languages[code] = language
            for column, model in (
                ("service_id", Service),
                ("location_id", Location),
                ("phone_id", Phone),
            ):
                if v[column] is not None:
                    if model is Service and v[column] in self.m2m:
                        self.m2m[v[column]]["languages"].add(language.code)
                    elif model is not Service and v[column] in self.planned[model]:
                        self.owner_languages[(model, v[column])].add(language.code)
                    else:
                        self.notice(row, column, f"{v[column]} is not in the package")
                    break
            else:
                self.notice(row, None, "it belongs to no service, location or phone")

    def _attributes(self):
        terms = {row_id: row for row_id, row in self.tables.get("taxonomy_term", {}).items()}
        matcher = TermMatcher()
        for row in self.rows("attribute"):
            v = row.values
            if v["link_id"] not in self.m2m:
                self.notice(row, "link_id", f"{v['link_id']} is no service in the package")
                continue
            term = matcher.match(v["taxonomy_term_id"], terms.get(v["taxonomy_term_id"]))
            if term is None:
                described = terms.get(v["taxonomy_term_id"])
                label = (
                    f"{described.values['name']!r} ({described.values['code'] or 'no code'})"
                    if described
                    else str(v["taxonomy_term_id"])
                )
                self.error(
                    row,
                    "taxonomy_term_id",
                    f"the term {label} matches no need or population by id, code or name",
                )
                continue
            kind = "needs" if isinstance(term, Need) else "populations"
            self.m2m[v["link_id"]][kind].add(term.pk)

    # Comparing with the database

    def _load_existing(self):
        for model, planned in self.planned.items():
            ids = list(planned)
            for start in range(0, len(ids), CHUNK):
                for obj in model.objects.filter(pk__in=ids[start : start + CHUNK]):
                    item = planned[obj.pk]
                    item.existing = obj
                    if model is Service and item.values["last_verified"] is None:
                        # A package without assured_date does not unverify a service.
                        item.values["last_verified"] = obj.last_verified
                    if model is Location and obj.confidential:
                        # A package never holds a confidential location's place.
                        item.values["latitude"] = obj.latitude
                        item.values["longitude"] = obj.longitude
                    item.changed = item.differs()

    def _validate(self):
        """The model's own field rules (lengths, formats, choices), row by row."""
        for model, planned in self.planned.items():
            columns = COLUMNS[model]
            fields = {f.attname: f for f in model._meta.fields}
            for row_id, item in list(planned.items()):
                # As Model.clean_fields(), without building an instance for each row; the
                # references were checked above, for all rows at once.
                errors = {}
                for name, value in item.values.items():
                    field = fields[name]
                    if field.is_relation or (field.blank and value in field.empty_values):
                        continue
                    try:
                        field.clean(value, None)
                    except ValidationError as error:
                        errors[field.name] = error.messages
                for name, messages in errors.items():
                    self.error(item.row, columns.get(name, name), " ".join(messages))
                if errors:
                    del planned[row_id]


COLUMNS = {  # model field -> the HSDS column it comes from, where the names differ
    Service: {"last_verified": "assured_date", "organization": "organization_id"},
    Location: {"organization": "organization_id"},
    Address: {"location": "location_id"},
    Phone: {"service": "service_id", "location": "location_id", "organization": "organization_id"},
    Schedule: {"weekday": "byday", "open_24_7": "byday"},
    ServiceArea: {"extent": "description", "state": "name", "county": "name", "city": "name"},
    Organization: {},
    ServiceAtLocation: {},
}


def _notes(row, description, notes, plan):
    """A schedule's HSDS description and notes as the directory's one note (they are the
    same text in the directory's own packages)."""
    parts = [text for text in dict.fromkeys((description, notes)) if text]
    text = " ".join(parts)
    limit = Schedule._meta.get_field("notes").max_length
    if len(text) > limit:
        plan.notice(
            row, "notes", f"only the first {limit} characters of the description and notes are kept"
        )
        text = text[:limit]
    return text


def derived(row, day):
    return uuid.uuid5(row.values["id"], day)


def _address_problem(values):
    """Why an address cannot be kept in the directory's (United States) form, or None."""
    address = Address(**values)
    try:
        address.clean_fields(exclude=["id", "location"])
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        return name, (
            f"the address is not in the directory's (United States) form: {values[name]!r}, "
            f"{messages[0]}"
        )
    return None


def _area(extent, name):
    """A service area's extent and place from its HSDS name and description."""
    if extent == ServiceArea.Extent.NATIONWIDE and name in ("", "Nationwide"):
        return {"extent": extent, "state": "", "county": "", "city": ""}
    if extent == ServiceArea.Extent.STATE and len(name) == 2 and name.isupper():
        return {"extent": extent, "state": name, "county": "", "city": ""}
    place, _, state = name.rpartition(", ")
    if extent in (ServiceArea.Extent.COUNTY, ServiceArea.Extent.CITY) and place and state:
        where = "county" if extent == ServiceArea.Extent.COUNTY else "city"
        return {"extent": extent, "state": state, "county": "", "city": "", where: place}
    return None


class TermMatcher:
    """HSDS taxonomy terms onto needs and populations: by id, then code, then name."""

    def __init__(self):
        self.terms = [*Need.objects.all(), *Population.objects.all()]
        self.by_id = {term.pk: term for term in self.terms}

    def match(self, term_id, row):
        if term_id in self.by_id:
            return self.by_id[term_id]
        if row is None:
            return None
        candidates = self.terms
        taxonomy = row.values.get("taxonomy_id")
        if taxonomy in (NEEDS.id, POPULATIONS.id):
            model = NEEDS.model if taxonomy == NEEDS.id else POPULATIONS.model
            candidates = [term for term in self.terms if isinstance(term, model)]
        code = (row.values.get("code") or "").casefold()
        name = (row.values.get("name") or "").casefold()
        for test in (
            lambda t: code and t.slug.casefold() == code,
            lambda t: name and t.name.casefold() == name,
        ):
            found = [term for term in candidates if test(term)]
            if len(found) == 1:
                return found[0]
        return None


# The whole import


def import_package(path, *, publish=False, dry_run=False, user=None, source=None, seconds=None):
    """Read, check and (unless dry_run or any row is bad) apply the package at path; the
    database gives its statements `seconds` each (a web request's budget), or no limit."""
    report = Report()
    rows, supplied = read_package(path, report)
    tables = typed(rows, report)
    plan = Plan(tables, report, publish=publish, source=source or Path(path).name)
    plan.supplied = supplied
    plan.build()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [f"{int(seconds * 1000)}" if seconds else "0"],
            )
        changes = Changes(plan)
        changes.count()
        report.count_rejected()
        if report.ok:
            # A dry run writes too, and rolls back: so it meets every rule the database
            # and the directory check after writing, as the import would.
            try:
                changes.apply(user)
            except DatabaseError as error:
                report.errors.append(
                    Problem(plan.source, None, None, f"the database refused it: {error}")
                )
        report.applied = report.ok and not dry_run
        if not report.applied:
            transaction.set_rollback(True)
    return report


class Changes:
    """What applying a plan writes: new and changed rows, the owned rows it removes,
    and the links (needs, populations, languages) it sets."""

    OWNED = {  # model -> [(owned model, foreign key)]
        Service: [
            (Phone, "service_id"),
            (Schedule, "service_id"),
            (ServiceArea, "service_id"),
            (ServiceAtLocation, "service_id"),
        ],
        Location: [(Address, "location_id"), (Phone, "location_id"), (Schedule, "location_id")],
        Organization: [(Phone, "organization_id")],
    }
    LINKS = {
        Service: ("needs", "populations", "languages"),
        Location: ("languages",),
        Phone: ("languages",),
    }

    def __init__(self, plan):
        self.plan = plan
        self.removed = defaultdict(set)  # model -> ids
        self.links = {}  # (model, id, relation) -> (old set, new set)
        self.touched = defaultdict(set)  # owner model -> ids whose rows or links change

    def count(self):
        plan, counts = self.plan, self.plan.report.counts
        for owner, owned in self.OWNED.items():
            ids = [i for i, item in plan.planned[owner].items() if item.existing]
            for model, fk in owned:
                given = "organization_phones" if owner is Organization else TABLE_OF[model]
                if given not in plan.supplied:
                    continue  # a table the package leaves out is not a table of nothing
                keep = set(plan.planned[model]) | plan.unkept
                for start in range(0, len(ids), CHUNK):
                    rows = model.objects.filter(**{f"{fk}__in": ids[start : start + CHUNK]})
                    if owner is Location:  # a confidential location's address is never exported
                        rows = (
                            rows.exclude(location__confidential=True) if model is Address else rows
                        )
                    for row_id, owner_id in rows.values_list("pk", fk):
                        if row_id not in keep:
                            self.removed[model].add(row_id)
                            self.touched[owner].add(owner_id)
        self._count_links()
        # A new or changed row changes what its owners (before and after) show.
        for model, owners in OWNERS.items():
            for item in plan.planned[model].values():
                if item.existing is None or item.changed:
                    for fk, owner in owners:
                        before = item.existing.__dict__ if item.existing else {}
                        for source in (item.values, before):
                            if source.get(fk):
                                self.touched[owner].add(source[fk])
        for model, planned in plan.planned.items():
            table = TABLE_OF[model]
            for item in planned.values():
                kind = (
                    "new" if item.existing is None else "changed" if item.changed else "unchanged"
                )
                counts[table][kind] += 1
        for model, ids in self.removed.items():
            counts[TABLE_OF[model]]["removed"] += len(ids)
        if plan.publish:
            for item in plan.planned[Service].values():
                if item.existing and item.existing.publication_state != PublicationState.PUBLISHED:
                    self.touched[Service].add(item.existing.pk)
        # A service whose rows or links change is changed, even if its own row is not.
        service_counts = counts["service"]
        for item in plan.planned[Service].values():
            if item.existing and not item.changed and item.existing.pk in self.touched[Service]:
                service_counts["unchanged"] -= 1
                service_counts["changed"] += 1

    def _count_links(self):
        plan = self.plan
        wanted = {}
        given = {
            "needs": "attribute" in plan.supplied,
            "populations": "attribute" in plan.supplied,
            "languages": "language" in plan.supplied,
        }
        for service_id, links in plan.m2m.items():
            for relation, values in links.items():
                if given[relation]:
                    wanted[(Service, service_id, relation)] = values
        for model in (Location, Phone) if given["languages"] else ():
            for row_id in plan.planned[model]:
                wanted[(model, row_id, "languages")] = plan.owner_languages.get(
                    (model, row_id), set()
                )
        by_model = defaultdict(list)
        for model, row_id, relation in wanted:
            by_model[(model, relation)].append(row_id)
        for (model, relation), ids in by_model.items():
            through, own, other = _through(model, relation)
            current = defaultdict(set)
            for start in range(0, len(ids), CHUNK):
                for owner_id, value in through.objects.filter(
                    **{f"{own}__in": ids[start : start + CHUNK]}
                ).values_list(own, other):
                    current[owner_id].add(value)
            for row_id in ids:
                new = wanted[(model, row_id, relation)]
                old = current.get(row_id, set())
                if new != old:
                    self.links[(model, row_id, relation)] = (old, new)
                    owner = self._owner_of(model, row_id)
                    if owner:
                        self.touched[owner[0]].add(owner[1])

    def _owner_of(self, model, row_id):
        if model is Phone:
            phone = self.plan.planned[Phone][row_id].values
            for key, owner in (
                ("service_id", Service),
                ("location_id", Location),
                ("organization_id", Organization),
            ):
                if phone[key]:
                    return owner, phone[key]
            return None
        return model, row_id

    def apply(self, user):
        self._record_before()
        with index.indexing_paused():
            self._write()
        self._check_confidential()
        if self.written() >= ANALYZE_AFTER:
            # As after a restore: statistics of what was just written (this transaction's
            # own rows count), or the planner takes the tables for empty and indexing
            # them is several times slower.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE " + ", ".join(m._meta.db_table for m in WRITE_ORDER))
        index.reindex(self._indexed())
        self._record_after(user)

    def _check_confidential(self):
        """A shelter whose address is hidden keeps a way to reach it (a phone of its own,
        or its organization's contact), whatever the package removed or changed."""
        plan = self.plan
        shelters = Location.objects.filter(confidential=True).filter(
            Q(pk__in=list(plan.planned[Location]) + list(self.touched[Location]))
            | Q(
                organization__in=list(plan.planned[Organization]) + list(self.touched[Organization])
            )
        )
        for shelter in shelters.select_related("organization"):
            try:
                check_confidential_location_reachable(shelter, phone_count=shelter.phones.count())
            except ValidationError as error:
                item = plan.planned[Location].get(shelter.pk)
                where = item.row if item else Row("location", plan.source, None, {})
                plan.error(where, "id", f"{shelter.name}: {' '.join(error.messages)}")

    def written(self):
        counts = self.plan.report.counts
        return sum(c["new"] + c["changed"] + c["removed"] for c in counts.values())

    def _indexed(self):
        """The services whose search index the import may have changed: its own, those at
        its locations and those of its organizations."""
        planned = self.plan.planned
        services = set(planned[Service]) | self.touched[Service]
        for model, link in (
            (Location, "service_at_locations__location"),
            (Organization, "organization"),
        ):
            ids = list(planned[model])
            for start in range(0, len(ids), CHUNK):
                services.update(
                    Service.objects.filter(
                        **{f"{link}__in": ids[start : start + CHUNK]}
                    ).values_list("pk", flat=True)
                )
        return services

    def _write(self):
        plan = self.plan
        connection.cursor().execute("SET CONSTRAINTS ALL DEFERRED")
        for model, ids in self.removed.items():
            ids = list(ids)
            for start in range(0, len(ids), CHUNK):
                model.objects.filter(pk__in=ids[start : start + CHUNK]).delete()
        Language.objects.bulk_create(plan.new_languages.values())
        slugs = Slugs()
        for model in WRITE_ORDER:
            new, changed = [], []
            for row_id, item in plan.planned[model].items():
                if item.existing is None:
                    obj = model(pk=row_id, **item.values)
                    if model in (Service, Organization):
                        obj.slug = slugs.make(model, item.values["name"])
                        obj.source_document = f"HSDS package {plan.source}"[:200]
                    if model is Service:
                        obj.publication_state = (
                            PublicationState.PUBLISHED if plan.publish else PublicationState.DRAFT
                        )
                    new.append(obj)
                elif item.changed:
                    for name, value in item.values.items():
                        setattr(item.existing, name, value)
                    changed.append(item.existing)
            model.objects.bulk_create(new, batch_size=CHUNK)
            if changed:
                fields = list(next(iter(plan.planned[model].values())).values)
                if model in (Service, Organization, Location):
                    fields.append("modified")
                    for obj in changed:
                        obj.modified = timezone.now()
                model.objects.bulk_update(changed, fields, batch_size=CHUNK)
        if plan.publish:
            Service.objects.filter(pk__in=list(plan.planned[Service])).exclude(
                publication_state=PublicationState.PUBLISHED
            ).update(publication_state=PublicationState.PUBLISHED)
        self._write_links()
        self._set_modified()
        connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")

    def _write_links(self):
        added, gone = defaultdict(list), defaultdict(list)
        for (model, row_id, relation), (old, new) in self.links.items():
            added[(model, relation)] += [(row_id, value) for value in new - old]
            gone[(model, relation)] += [(row_id, value) for value in old - new]
        for (model, relation), pairs in gone.items():
            through, own, other = _through(model, relation)
            for row_id, value in pairs:
                through.objects.filter(**{own: row_id, other: value}).delete()
        for (model, relation), pairs in added.items():
            through, own, other = _through(model, relation)
            through.objects.bulk_create(
                [through(**{own: row_id, other: value}) for row_id, value in pairs],
                batch_size=CHUNK,
            )

    def _set_modified(self):
        """A service's last_modified is the package's where it gives one: the package
        says when the source last changed it, and re-importing it must change nothing."""
        # A service already here that the package changes is changed now, for partners
        # polling by modified_after and for list ETags.
        planned = self.plan.planned[Service]
        stamps = [
            (pk, stamp)
            for pk, stamp in self.plan.modified.items()
            if pk in planned and planned[pk].existing is None
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(stamps), CHUNK):
                part = stamps[start : start + CHUNK]
                cursor.execute(
                    "UPDATE resources_service AS s SET modified = v.modified "
                    "FROM unnest(%s::uuid[], %s::timestamptz[]) AS v(id, modified) "
                    "WHERE s.id = v.id",
                    [[pk for pk, _ in part], [stamp for _, stamp in part]],
                )

    def _changed(self, model):
        """Ids of model's entries the import creates or changes (with their rows)."""
        return {
            pk
            for pk, item in self.plan.planned[model].items()
            if item.existing is None or item.changed
        } | (self.touched[model] & set(self.plan.planned[model]))

    def _existing_changed(self, model):
        return [
            self.plan.planned[model][pk].existing
            for pk in self._changed(model)
            if self.plan.planned[model][pk].existing is not None
        ]

    def _record_before(self):
        for model in (Organization, Location, Service):
            for obj in self._existing_changed(model):
                history.ensure_baseline(obj)

    def _record_after(self, user):
        comment = f"Imported from {self.plan.source}."
        for model in (Organization, Location, Service):
            for obj in self._existing_changed(model):
                obj.refresh_from_db()
                history.record(obj, user, comment)


def _through(model, relation):
    """A many-to-many relation's table, and its columns for model and for the other side."""
    manager = getattr(model, relation)
    return (
        manager.through,
        f"{model._meta.model_name}_id",
        f"{manager.field.related_model._meta.model_name}_id",
    )


# The rows whose owners show them: (foreign key, owner model).
OWNERS = {
    Phone: [("service_id", Service), ("location_id", Location), ("organization_id", Organization)],
    Schedule: [("service_id", Service), ("location_id", Location)],
    ServiceArea: [("service_id", Service)],
    ServiceAtLocation: [("service_id", Service)],
    Address: [("location_id", Location)],
}
WRITE_ORDER = [
    Organization,
    Location,
    Address,
    Service,
    ServiceAtLocation,
    Phone,
    Schedule,
    ServiceArea,
]
TABLE_OF = {
    Organization: "organization",
    Location: "location",
    Address: "address",
    Service: "service",
    ServiceAtLocation: "service_at_location",
    Phone: "phone",
    Schedule: "schedule",
    ServiceArea: "service_area",
}


class Slugs:
    """Unique slugs for new services and organizations, checked a batch at a time."""

    def __init__(self):
        self.taken = {Service: set(), Organization: set()}
        self.loaded = set()

    def make(self, model, name):
        if model not in self.loaded:
            self.taken[model] = set(model.objects.values_list("slug", flat=True))
            self.loaded.add(model)
        slug = free_slug(name, self.taken[model].__contains__)
        self.taken[model].add(slug)
        return slug


# Packages uploaded in the admin, kept between the dry run and applying it


UPLOAD_SUFFIXES = (".zip", ".ndjson", ".json")
UPLOAD_NAME = re.compile(r"^(\d+)-[A-Za-z0-9_-]{22}(\.zip|\.ndjson|\.json)$")
UPLOAD_DAYS = 1


def stage_upload(uploaded, user):
    """Keep an uploaded package for user; returns the name that finds it again."""
    suffix = Path(uploaded.name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise PackageError("Upload a .zip of the package's CSV files, or a .ndjson or .json file.")
    folder = Path(settings.HSDS_IMPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = timezone.now().timestamp() - UPLOAD_DAYS * 86400
    for old in folder.iterdir():  # uploads nobody applied
        if UPLOAD_NAME.match(old.name) and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    name = f"{user.pk}-{secrets.token_urlsafe(16)}{suffix}"
    with open(folder / name, "xb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    return name


def staged(name, user):
    """The path of user's staged upload called name, or None."""
    match = UPLOAD_NAME.match(name or "")
    if not match or match.group(1) != str(user.pk):
        return None
    path = Path(settings.HSDS_IMPORT_DIR) / name
    return path if path.exists() else None
