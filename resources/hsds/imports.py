"""An HSDS 3 package into the directory, in one transaction, a table at a time: each
table's rows are read and checked a chunk at a time, staged in a temporary table, and
compared with the directory and written there with a few statements for the whole table
(docs/hsds.md, "How an import runs").

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

import csv
import io
import json
import re
import secrets
import sys
import tempfile
import uuid
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg.errors import QueryCanceled

from resources import history, sync
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

CHUNK = 2000  # rows checked and staged at a time
LISTED = 1000  # problems of each kind a report lists (it counts them all)
ANALYZE_AFTER = 1_000  # rows written to a table, past which its statistics are refreshed
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


@dataclass(slots=True)
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
    # How many problems there are; only the first LISTED of each kind are kept.
    error_count: int = 0
    notice_count: int = 0
    last_line: dict = field(default_factory=dict)  # file -> the line of its last problem

    def error(self, problem):
        self.error_count += 1
        if len(self.errors) < LISTED:
            self.errors.append(problem)
        # A row's problems are reported together: a new line is another rejected row.
        if (
            problem.file in BY_PATH
            and problem.line
            and problem.line != self.last_line.get(problem.file)
        ):
            self.counts[BY_PATH[problem.file].name]["rejected"] += 1
            self.last_line[problem.file] = problem.line

    def notice(self, problem):
        self.notice_count += 1
        if len(self.notices) < LISTED:
            self.notices.append(problem)

    @property
    def ok(self):
        return not self.error_count

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


# Reading: a package's tables, each a stream of rows


def max_bytes():
    return settings.HSDS_IMPORT_MAX_BYTES


class Package:
    """The tables of the package at path, each read as a stream of rows in file order, so
    that a package of any size is held a chunk at a time. Nested services (NDJSON, a JSON
    array) are first sorted into one temporary file per table."""

    def __init__(self, path, report):
        self.path, self.report = Path(path), report
        self.sources = {}  # table name -> (file name, opener of its bytes)
        self.read = Counter()  # table name -> rows read
        self.spool = self.archive = None
        path = self.path
        if not path.exists():
            raise PackageError(f"{path} does not exist.")
        if path.is_dir():
            self._folder(path)
        elif path.suffix == ".zip":
            self._zip(path)
        elif path.suffix in (".ndjson", ".jsonl", ".json"):
            _check_size(path.name, path.stat().st_size)
            self._nested(path)
        else:
            raise PackageError(
                f"{path.name}: give a folder or .zip of CSV files, or a .ndjson or .json file."
            )
        self.supplied = set(self.sources)
        if self.spool is None and "phone" in self.supplied:
            # Nested services never list an organization's own phones; CSV tables do.
            self.supplied.add("organization_phones")

    def close(self):
        if self.archive is not None:
            self.archive.close()
        if self.spool is not None:
            self.spool.cleanup()

    def rows(self, table_name):
        """The table's rows, each a Row of its values as text."""
        if table_name not in self.sources:
            return
        name, opener = self.sources[table_name]
        try:
            with opener() as raw:
                if self.spool is not None:
                    for text in raw:
                        line, values = json.loads(text)
                        self.read[table_name] += 1
                        yield Row(table_name, name, line, values)
                else:
                    for row in _read_csv(TABLE[table_name], name, raw, self.report):
                        self.read[table_name] += 1
                        yield row
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as error:
            self.report.error(Problem(name, None, None, f"cannot be read: {error}"))

    def _folder(self, folder):
        for file in sorted(p for p in folder.iterdir() if p.is_file()):
            if file.name in BY_PATH:
                _check_size(file.name, file.stat().st_size)
                self.sources[BY_PATH[file.name].name] = (file.name, partial(file.open, "rb"))
            elif file.name.endswith(".csv"):
                self.report.notice(_not_kept_table(file.name))

    def _zip(self, path):
        try:
            archive = self.archive = zipfile.ZipFile(path)
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
        for info in sorted(members, key=lambda info: info.filename):
            name = PurePosixPath(info.filename).name
            if name in BY_PATH:
                self.sources[BY_PATH[name].name] = (name, partial(archive.open, info))
            elif name.endswith(".csv"):
                self.report.notice(_not_kept_table(name))

    def _nested(self, path):
        """Each nested service flattened into the tables' rows, one spool file a table.
        An organization or location shared by several services comes with each of them:
        the same record again is the same rows, kept once."""
        self.spool = tempfile.TemporaryDirectory(prefix="hsds-import-")
        folder = Path(self.spool.name)
        files = {t.name: (folder / t.path).open("w", encoding="utf-8") for t in TABLES}
        seen = {}  # (table, id) of a shared record -> a digest of it
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
                    self.report.error(
                        Problem(name, number, None, "not an HSDS service (a JSON object of one)")
                    )
                    continue
                skip = None  # the table of a repeated shared record whose rows follow it
                for (table_name, row_id), (_, values) in zip(keys, flat, strict=True):
                    if skip and table_name in SHARED_PARTS[skip]:
                        continue
                    skip = None
                    if table_name in SHARED_PARTS:
                        digest = hash(json.dumps(values, sort_keys=True, default=str))
                        if seen.get((table_name, row_id)) == digest:
                            skip = table_name
                            continue
                        seen.setdefault((table_name, row_id), digest)
                    files[table_name].write(json.dumps([number, values], default=str) + "\n")
        except UnicodeDecodeError as error:
            self.report.error(Problem(name, None, None, f"not UTF-8 text ({error.reason})"))
        except JSONError as error:
            self.report.error(Problem(name, error.line, None, f"not JSON: {error.reason}"))
        finally:
            for handle in files.values():
                handle.close()
        for table in TABLES:
            opener = partial((folder / table.path).open, encoding="utf-8")
            self.sources[table.name] = (name, opener)


# A record several nested services share, and the tables of the rows that follow it
# (flatten()'s order) as part of it.
SHARED_PARTS = {
    "organization": (),
    "location": ("address", "phone", "schedule", "language"),
}


def _check_size(name, size):
    if size > max_bytes():
        raise PackageError(
            f"{name} is {size:,} bytes; the most an import reads is {max_bytes():,} "
            "(HSDS_IMPORT_MAX_BYTES)."
        )


def _not_kept_table(name):
    return Problem(name, None, None, "not kept: the directory holds no such records")


def _read_csv(table, name, raw, report):
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text)
    line = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [column.strip() for column in header]
        repeated = sorted({column for column in header if header.count(column) > 1})
        for column in repeated:
            report.error(Problem(name, 1, column, "the column is there twice"))
        if repeated:
            return
        missing = [c.name for c in table.columns if c.required and c.name not in header]
        for column in missing:
            report.error(Problem(name, 1, column, "missing column"))
        if missing:
            return
        unknown = [
            (i, column)
            for i, column in enumerate(header)
            if column not in TABLE_COLUMNS[table.name]
        ]
        unknown_used = Counter()
        width = len(header)
        line = reader.line_num + 1
        for values in reader:
            if len(values) != width:
                if any(values):
                    report.error(
                        Problem(name, line, None, f"{len(values)} values for {width} columns")
                    )
            elif any(values):
                for i, column in unknown:
                    if values[i].strip():
                        unknown_used[column] += 1
                yield Row(table.name, name, line, dict(zip(header, values, strict=True)))
            line = reader.line_num + 1
    except UnicodeDecodeError as error:
        report.error(Problem(name, line, None, f"not UTF-8 text ({error.reason})"))
        return
    except csv.Error as error:
        report.error(Problem(name, line, None, f"not CSV: {error}"))
        return
    for column, count in unknown_used.items():
        report.notice(
            Problem(
                name,
                None,
                column,
                f"not kept: the directory holds no {column} (in {count} row{'s'[: count > 1]})",
            )
        )


TABLE_COLUMNS = {table.name: frozenset(table.column_names) for table in TABLES}


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


CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuid(text):
    """A UUID in its canonical text, as the database writes it (ids stay text here)."""
    if CANONICAL_UUID.fullmatch(text):
        return text
    return str(uuid.UUID(text))


def _number(text):
    number = Decimal(text)
    if not number.is_finite():
        raise ValueError
    return number


def _datetime(text):
    value = datetime.fromisoformat(text)
    return value if timezone.is_aware(value) else timezone.make_aware(value)


PARSERS = {  # a column's type -> (parser, what it must be), for those not kept as text
    "uuid": (_uuid, "a UUID"),
    "number": (_number, "a number"),
    "date": (date.fromisoformat, "a date (YYYY-MM-DD)"),
    "datetime": (_datetime, "a date and time (ISO 8601)"),
    "time": (time.fromisoformat, "a time (HH:MM:SS)"),
}
CONVERTERS = {  # table name -> (column, required, allowed values, parser, what) per column
    table.name: [
        (c.name, c.required, frozenset(c.enum), *PARSERS.get(c.type, (None, None)))
        for c in table.columns
    ]
    for table in TABLES
}


def typed(row, report):
    """The row's values parsed to its columns' types (True), or each bad value reported
    (False)."""
    values, bad = {}, False
    get = row.values.get
    for name, required, allowed, parse, what in CONVERTERS[row.table]:
        text = get(name, "")
        if text.__class__ is not str:
            report.error(row.problem(name, "is not a single value"))
            bad = True
            continue
        text = text.strip()
        if not text:
            if required:
                report.error(row.problem(name, "required, but empty"))
                bad = True
            values[name] = None
        elif "\x00" in text:
            report.error(row.problem(name, "contains a NUL character"))
            bad = True
        elif allowed and text not in allowed:
            listed = next(c.enum for c in TABLE[row.table].columns if c.name == name)
            report.error(row.problem(name, f"{text!r} is not one of: {', '.join(listed)}"))
            bad = True
        elif parse is None:
            values[name] = text
        else:
            try:
                values[name] = parse(text)
            except (ValueError, InvalidOperation):
                report.error(row.problem(name, f"{text!r} is not {what}"))
                bad = True
    if not bad:
        row.values = values
    return not bad


def chunked(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Importing: table by table, each staged, compared and written in the database


def import_package(path, *, publish=False, dry_run=False, user=None, source=None, seconds=None):
    """Read, check and (unless dry_run or any row is bad) apply the package at path; the
    database gives its statements `seconds` each (a web request's budget), or no limit."""
    report = Report()
    package = Package(path, report)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)",
                    [f"{int(seconds * 1000)}" if seconds else "0"],
                )
            run = Import(package, report, publish=publish, source=source or package.path.name)
            try:
                run.apply(user)
            except DatabaseError as error:
                if isinstance(error.__cause__, QueryCanceled):
                    raise
                report.error(Problem(run.source, None, None, f"the database refused it: {error}"))
            # A dry run writes too, and rolls back: so it meets every rule the database
            # and the directory check after writing, as the import would.
            report.applied = report.ok and not dry_run
            if not report.applied:
                transaction.set_rollback(True)
    finally:
        package.close()
    return report


@dataclass(frozen=True)
class Entity:
    """How one of the directory's models is imported: the HSDS table it comes from, the
    fields a package gives, and the owners whose records show its rows."""

    model: type
    table: str
    fields: tuple  # given as one string of names, kept as a tuple
    owners: tuple = ()  # (foreign key, owner model)

    def __post_init__(self):
        if isinstance(self.fields, str):
            object.__setattr__(self, "fields", tuple(self.fields.split()))

    @property
    def references(self):
        """(column, model) for each record the entity's rows name."""
        return [
            (name, field.related_model)
            for name in self.fields
            if (field := self.model._meta.get_field(name.removesuffix("_id"))).is_relation
        ]

    @property
    def stage(self):
        return f"import_{self.table}"


ENTITIES = [
    Entity(Organization, "organization", "name alternate_name description email website"),
    Entity(
        Location,
        "location",
        "organization_id location_type url name description latitude longitude",
    ),
    Entity(
        Address,
        "address",
        "location_id address_type attention address_1 address_2 city region state_province "
        "postal_code country",
        owners=(("location_id", Location),),
    ),
    Entity(
        Service,
        "service",
        "organization_id name alternate_name description url email status "
        "interpretation_services application_process fees_description "
        "eligibility_description minimum_age maximum_age last_verified",
    ),
    Entity(
        ServiceAtLocation,
        "service_at_location",
        "service_id location_id description",
        owners=(("service_id", Service),),
    ),
    Entity(
        Phone,
        "phone",
        "service_id location_id organization_id number extension type description position",
        owners=(
            ("service_id", Service),
            ("location_id", Location),
            ("organization_id", Organization),
        ),
    ),
    Entity(
        Schedule,
        "schedule",
        "service_id location_id notes open_24_7 weekday opens_at closes_at",
        owners=(("service_id", Service), ("location_id", Location)),
    ),
    Entity(
        ServiceArea,
        "service_area",
        "service_id extent state county city",
        owners=(("service_id", Service),),
    ),
]
ENTITY = {entity.model: entity for entity in ENTITIES}
RECORDED = (Organization, Location, Service)  # the entries with a history of their own
LINKS = {  # (model, relation) -> the table whose rows give it
    (Service, "needs"): "attribute",
    (Service, "populations"): "attribute",
    (Service, "languages"): "language",
    (Location, "languages"): "language",
    (Phone, "languages"): "language",
}
EXTRA = {  # staged beside a model's fields
    Organization: ("slug varchar(120)",),
    Service: ("slug varchar(120)", "stamp timestamptz"),
}


class Import:
    """One import, in one transaction: each table's rows are checked a chunk at a time
    and staged in a temporary table, then compared with the directory and written with
    a few statements; only the report and small lookups are held in memory."""

    def __init__(self, package, report, *, publish, source):
        self.package, self.report = package, report
        self.publish, self.source = publish, source
        self.terms = {}  # the package's taxonomy terms: id -> row
        self.matcher = TermMatcher()
        self.languages = {language.code: language for language in Language.objects.all()}
        self.language_names = {lang.name.casefold(): lang for lang in self.languages.values()}
        self.checks = {entity.model: field_checks(entity) for entity in ENTITIES}

    # The whole run

    def apply(self, user):
        self._create_stages()
        with index.indexing_paused(), sync.touching_paused():
            for _ in self._rows("taxonomy"):
                pass  # checked; the directory's two taxonomies are its own
            for row in self._rows("taxonomy_term"):
                self.terms[row.values["id"]] = row
            for entity in ENTITIES:
                self._entity(entity)
                if entity.model is Service and not self._has_services():
                    self.report.error(
                        Problem("services.csv", None, None, "the package has no services")
                    )
            self._stage_links()
            self._write_links()
            self._publish()
            self._touch_services()
        # Every reference checked now, inside the run (and the dry run), not at commit.
        self._sql("SET CONSTRAINTS ALL IMMEDIATE")
        self._check_confidential()
        self._reindex()
        self._record_after(user)

    def _has_services(self):
        return (
            self.package.spool is not None
            or self.package.read["service"]
            or any(p.file == "services.csv" for p in self.report.errors)
        )

    def _rows(self, table_name):
        """The table's rows whose values are sound, typed."""
        for row in self.package.rows(table_name):
            if typed(row, self.report):
                yield row

    def _sql(self, statement, params=None):
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    def _create_stages(self):
        # Dropped at commit; a caller's own transaction (a test's) may hold earlier ones.
        stages = [entity.stage for entity in ENTITIES] + ["import_link", "import_touched"]
        self._sql(f"DROP TABLE IF EXISTS {', '.join('pg_temp.' + name for name in stages)}")
        for entity in ENTITIES:
            fields = [entity.model._meta.get_field(name) for name in entity.fields]
            columns = [f"{f.column} {f.db_type(connection)}" for f in fields]
            self._sql(
                f"CREATE TEMPORARY TABLE {entity.stage} (seq bigserial, line integer, id uuid, "
                "kept boolean, verdict char(1), "
                + ", ".join(columns + list(EXTRA.get(entity.model, ())))
                + ") ON COMMIT DROP"
            )
        self._sql(
            "CREATE TEMPORARY TABLE import_link (model text, owner_id uuid, relation text, "
            "value text) ON COMMIT DROP"
        )
        # Entries whose records change through their rows or links: 'service', id.
        self._sql("CREATE TEMPORARY TABLE import_touched (model text, id uuid) ON COMMIT DROP")

    # One table: stage, check, compare, write

    def _entity(self, entity):
        plan = getattr(self, f"_plan_{entity.table}")
        for chunk in chunked(self._rows(entity.table), CHUNK):
            staged = []  # (line, id, kept, values or None)
            for row, values in plan(chunk):
                if values is None:  # listed, not kept: its stored row stays as it is
                    staged.append((row.line, row.values["id"], False, None))
                elif self._valid(entity, row, values):
                    staged.append((row.line, row.values["id"], True, values))
            self._stage(entity, staged)
        self._references(entity)
        self._duplicates(entity)
        if entity.model is Organization:
            self._name_clashes()
        if entity.model is Phone:
            # Each owner's phones in the package's order.
            self._sql(
                "UPDATE import_phone s SET position = n.position FROM ("
                " SELECT id, row_number() OVER (PARTITION BY service_id, location_id,"
                " organization_id ORDER BY line, seq) - 1 AS position FROM import_phone WHERE kept"
                ") n WHERE n.id = s.id"
            )
        self._compare(entity)
        try:
            with transaction.atomic():
                removed = self._removed(entity)
                self._touch(entity)
                self._record_before(entity)
                self._write(entity)
        except DatabaseError as error:
            if isinstance(error.__cause__, QueryCanceled):
                raise
            self.report.error(
                Problem(self._file(entity), None, None, f"the database refused it: {error}")
            )
            removed = 0
        self._count(entity, removed)
        counts = self.report.counts[entity.table]
        if counts["new"] + counts["changed"] + removed >= ANALYZE_AFTER:
            self._analyze(entity.model._meta.db_table)

    def _analyze(self, *tables):
        """As after a restore: statistics of what was just written (this transaction's own
        rows count), or the planner takes a table filled from empty for empty still, and
        joins it row by row."""
        self._sql(f"ANALYZE {', '.join(tables)}")

    def _valid(self, entity, row, values):
        """Whether the values keep the model's own field rules; each broken one reported."""
        ok = True
        for name, _, error in self._broken_rules(entity.model, values):
            column = COLUMNS[entity.model].get(name, name)
            self.report.error(row.problem(column, " ".join(error.messages)))
            ok = False
        return ok

    def _broken_rules(self, model, values):
        """(field, value, ValidationError) for each value that breaks the model's rules
        (lengths, formats, choices)."""
        for name, null, blank, choices, plain, check in self.checks[model]:
            value = values[name]
            if value is None:
                if null or blank:
                    continue
            elif value.__class__ is not str:
                continue  # a number, time or date, bounded where it was read
            elif blank if not value else value in choices if choices else len(value) <= plain:
                continue
            try:
                check(value)
            except ValidationError as error:
                yield name, value, error

    def _stage(self, entity, staged):
        if not staged:
            return
        names = entity.fields + (("stamp",) if entity.model is Service else ())
        columns = ["line", "id", "kept", "verdict"] + [
            entity.model._meta.get_field(name).column if name != "stamp" else name for name in names
        ]
        empty = (None,) * len(names)
        statement = f"COPY {entity.stage} ({', '.join(columns)}) FROM STDIN"
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for line, row_id, kept, values in staged:
                copy.write_row(
                    (line, row_id, kept, "n" if kept else None)
                    + (empty if values is None else tuple(values[n] for n in names))
                )

    def _references(self, entity):
        """Each staged row's references name a record written already (the package's
        tables come before those that refer to them) or the directory's own: a row that
        names another is refused, except a location's organization, which it goes without."""
        file = self._file(entity)
        for column, target in entity.references:
            missing = (
                f"WHERE s.kept AND s.{column} IS NOT NULL AND NOT EXISTS"
                f" (SELECT 1 FROM {target._meta.db_table} t WHERE t.id = s.{column})"
            )
            named = ENTITY[target].table
            if entity.model is Location:
                for line, value in self._sql(
                    f"UPDATE {entity.stage} u SET {column} = NULL FROM (SELECT s.ctid, s.line,"
                    f" s.{column} FROM {entity.stage} s {missing}) s WHERE u.ctid = s.ctid"
                    f" RETURNING s.line, s.{column}"
                ):
                    self.report.notice(
                        Problem(
                            file,
                            line,
                            column,
                            f"not kept: {named} {value} is in neither the package nor the "
                            "directory; the location is kept without it",
                        )
                    )
                continue
            refused = self._sql(
                f"DELETE FROM {entity.stage} s {missing} RETURNING s.line, s.{column}"
            )
            for line, value in sorted(refused):
                self.report.error(
                    Problem(
                        file, line, column, f"no {named} {value} in the package or the directory"
                    )
                )

    def _duplicates(self, entity):
        self._sql(f"CREATE INDEX ON {entity.stage} (id)")
        found = self._sql(
            f"SELECT s.seq, s.line, s.id, f.line FROM {entity.stage} s JOIN ("
            f" SELECT DISTINCT ON (id) id, seq, line FROM {entity.stage} ORDER BY id, seq"
            f") f ON f.id = s.id AND f.seq < s.seq ORDER BY s.seq"
        )
        for _, line, row_id, first in found:
            self.report.error(
                Problem(
                    self._file(entity),
                    line,
                    "id",
                    f"{row_id} is also on line {first}: ids are unique",
                )
            )
        if found:
            self._sql(f"DELETE FROM {entity.stage} WHERE seq = ANY(%s)", [[f[0] for f in found]])

    def _file(self, entity):
        return self.package.sources.get(entity.table, (TABLE[entity.table].path,))[0]

    def _name_clashes(self):
        """Two organizations of one name split their services between two pages: a name
        given twice, or already another organization's, is refused."""
        file = self._file(ENTITY[Organization])
        twice = self._sql(
            "SELECT s.line, s.name, f.line FROM import_organization s JOIN ("
            " SELECT DISTINCT ON (lower(name)) lower(name) AS key, line"
            " FROM import_organization WHERE kept ORDER BY lower(name), line"
            ") f ON f.key = lower(s.name) AND f.line < s.line WHERE s.kept ORDER BY s.line"
        )
        for line, name, first in twice:
            self.report.error(
                Problem(file, line, "name", f"{name!r} is also the name on line {first}")
            )
        self._sql("DELETE FROM import_organization WHERE line = ANY(%s)", [[t[0] for t in twice]])
        taken = self._sql(
            "SELECT s.line, s.name, o.id FROM import_organization s"
            " JOIN resources_organization o ON lower(o.name) = lower(s.name) AND o.id <> s.id"
            " WHERE s.kept AND NOT EXISTS (SELECT 1 FROM import_organization p WHERE p.id = o.id)"
            " ORDER BY s.line"
        )
        for line, name, other in taken:
            self.report.error(
                Problem(
                    file,
                    line,
                    "name",
                    f"{name!r} is already the name of organization {other}: "
                    "use its id, or another name",
                )
            )
        self._sql("DELETE FROM import_organization WHERE line = ANY(%s)", [[t[0] for t in taken]])

    def _compare(self, entity):
        """Mark each staged row the directory holds changed (c) or unchanged (u); the rest
        were staged new (n)."""
        table = entity.model._meta.db_table
        if entity.model is Service:
            # A package without assured_date does not unverify a service.
            self._sql(
                "UPDATE import_service s SET last_verified = t.last_verified"
                " FROM resources_service t WHERE t.id = s.id AND s.last_verified IS NULL"
            )
        if entity.model is Location:
            # A package never holds a confidential location's place.
            self._sql(
                "UPDATE import_location s SET latitude = t.latitude, longitude = t.longitude"
                " FROM resources_location t WHERE t.id = s.id AND t.confidential"
            )
        columns = [entity.model._meta.get_field(n).column for n in entity.fields]
        ours = ", ".join(f"s.{c}" for c in columns)
        theirs = ", ".join(f"t.{c}" for c in columns)
        self._sql(
            f"UPDATE {entity.stage} s SET verdict = CASE WHEN ({ours}) IS DISTINCT FROM ({theirs})"
            f" THEN 'c' ELSE 'u' END FROM {table} t WHERE t.id = s.id AND s.kept"
        )
        self._analyze(entity.stage)  # for the statements that pick rows by their verdict

    def _removed(self, entity):
        """Remove the rows of the package's entries the package no longer lists; returns
        how many, after noting whose records they changed."""
        removed = 0
        for fk, owner in entity.owners:
            given = "organization_phones" if owner is Organization else entity.table
            if given not in self.package.supplied:
                continue  # a table the package leaves out is not a table of nothing
            table = entity.model._meta.db_table
            extra = ""
            if entity.model is Address:  # a confidential location's address is never exported
                extra = (
                    " AND NOT EXISTS (SELECT 1 FROM resources_location l"
                    " WHERE l.id = r.location_id AND l.confidential)"
                )
            gone = (
                f"FROM {table} r WHERE r.{fk} IN (SELECT id FROM {ENTITY[owner].stage}"
                f" WHERE kept AND verdict <> 'n')"
                f" AND NOT EXISTS (SELECT 1 FROM {entity.stage} s WHERE s.id = r.id){extra}"
            )
            self._note_touched(f"SELECT %s, r.{fk} {gone}", [owner._meta.model_name])
            self._record_touched(owner, f"SELECT r.{fk} {gone}")
            for relation in entity.model._meta.many_to_many:  # a phone's languages
                through = relation.remote_field.through._meta.db_table
                own = relation.m2m_column_name()
                self._sql(f"DELETE FROM {through} WHERE {own} IN (SELECT r.id {gone})")
            removed += self._sql(f"DELETE {gone}")
        return removed

    def _touch(self, entity):
        """Note the owners whose records show this table's new and changed rows."""
        table = entity.model._meta.db_table
        for fk, owner in entity.owners:
            name = owner._meta.model_name
            self._note_touched(
                f"SELECT %s, s.{fk} FROM {entity.stage} s WHERE s.verdict IN ('n', 'c')"
                f" UNION ALL SELECT %s, t.{fk} FROM {entity.stage} s"
                f" JOIN {table} t ON t.id = s.id WHERE s.verdict = 'c'",
                [name, name],
            )

    def _note_touched(self, query, params=None):
        """Note the entries (model name, id) query gives as changed by their rows or
        links, except those the import adds; returns how many."""
        added = " AND ".join(  # (each an anti-join, not a lookup per row)
            f"NOT EXISTS (SELECT 1 FROM {ENTITY[m].stage} n WHERE n.id = x.id"
            f" AND x.model = '{m._meta.model_name}' AND n.verdict = 'n')"
            for m in RECORDED
        )
        return self._sql(
            f"INSERT INTO import_touched SELECT x.model, x.id FROM ({query}) AS x(model, id)"
            f" WHERE x.id IS NOT NULL AND {added}",
            params,
        )

    def _count(self, entity, removed):
        counts = self.report.counts[entity.table]
        for verdict, number in self._sql(
            f"SELECT verdict, count(*) FROM {entity.stage} WHERE kept GROUP BY verdict"
        ):
            counts[{"n": "new", "c": "changed", "u": "unchanged"}[verdict]] += number
        counts["removed"] += removed

    def _record_before(self, entity):
        """Before this table's writes: the entries they change that predate history are
        recorded as they are, so each change has an 'old' a curator can restore."""
        if entity.model in RECORDED:
            self._record_touched(entity.model, f"SELECT id FROM {entity.stage} WHERE verdict = 'c'")
        for fk, owner in entity.owners:
            self._record_touched(
                owner,
                f"SELECT s.{fk} FROM {entity.stage} s WHERE s.verdict IN ('n', 'c')"
                f" UNION ALL SELECT t.{fk} FROM {entity.stage} s"
                f" JOIN {entity.model._meta.db_table} t ON t.id = s.id WHERE s.verdict = 'c'",
            )

    def _record_touched(self, model, ids_query, params=None):
        """history.ensure_baseline() for model's existing entries in ids_query, except
        those this import adds."""
        if model not in RECORDED:
            return
        table = model._meta.db_table
        kind = ContentType.objects.get_for_model(model).pk
        ids = [
            pk
            for (pk,) in self._sql(
                f"SELECT t.id FROM {table} t WHERE t.id IN ({ids_query})"
                f" AND NOT EXISTS (SELECT 1 FROM {ENTITY[model].stage} n"
                " WHERE n.id = t.id AND n.verdict = 'n')"
                " AND NOT EXISTS (SELECT 1 FROM reversion_version v"
                f" WHERE v.content_type_id = {kind} AND v.object_id = t.id::text)",
                params,
            )
        ]
        for start in range(0, len(ids), CHUNK):
            for obj in model.objects.filter(pk__in=ids[start : start + CHUNK]):
                history.ensure_baseline(obj)

    def _write(self, entity):
        model, table = entity.model, entity.model._meta.db_table
        columns = [model._meta.get_field(n).column for n in entity.fields]
        now = timezone.now()
        if model in (Organization, Service):
            self._slugs(entity)
        # What a package does not give: as a new instance of the model has it.
        given = {"source_document": f"HSDS package {self.source}"[:200]}
        if model is Service:
            given["publication_state"] = (
                PublicationState.PUBLISHED if self.publish else PublicationState.DRAFT
            )
        slug = ["slug"] if model in (Organization, Service) else []
        extra = {}
        for f in model._meta.concrete_fields:
            if f.primary_key or f.column in columns + slug:
                continue
            if f.column in given:
                value = given[f.column]
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
            extra[f.column] = (f.get_db_prep_save(value, connection), f)
        selected = ["s.id", *(f"s.{c}" for c in columns + slug)] + [
            f"%s::{f.db_type(connection)}" for _, f in extra.values()
        ]
        if model is Service:
            # A new service's last_modified is the package's where it gives one: the
            # package says when the source last changed it, and re-importing it must
            # change nothing. (Nothing moves it later: touching_paused().)
            at = list(extra).index("modified") + 1 + len(columns + slug)
            selected[at] = f"COALESCE(s.stamp, {selected[at]})"
        self._sql(
            f"INSERT INTO {table} (id, {', '.join(columns + slug + list(extra))})"
            f" SELECT {', '.join(selected)} FROM {entity.stage} s WHERE s.verdict = 'n'",
            [value for value, _ in extra.values()],
        )
        assignments = [f"{c} = s.{c}" for c in columns]
        params = []
        if model in RECORDED:
            assignments.append("modified = %s")
            params.append(now)
        self._sql(
            f"UPDATE {table} t SET {', '.join(assignments)} FROM {entity.stage} s"
            " WHERE s.id = t.id AND s.verdict = 'c'",
            params,
        )

    def _slugs(self, entity):
        """Unique slugs for the new entries, from their names."""
        slugs = Slugs()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, name FROM {entity.stage} WHERE verdict = 'n' ORDER BY line")
            while rows := cursor.fetchmany(CHUNK):
                made = [(pk, slugs.make(entity.model, name)) for pk, name in rows]
                with connection.cursor() as update:
                    update.execute(
                        f"UPDATE {entity.stage} s SET slug = v.slug"
                        " FROM unnest(%s::uuid[], %s::text[]) AS v(id, slug) WHERE s.id = v.id",
                        [[pk for pk, _ in made], [slug for _, slug in made]],
                    )

    # What each row refers to, in the package or the directory

    def _in_package(self, chunk, column, model):
        """The ids in the chunk's column that name a model record the package lists."""
        ids = list({row.values[column] for row in chunk} - {None})
        if not ids:
            return set()
        found = self._sql(
            f"SELECT id::text FROM {ENTITY[model].stage} WHERE id = ANY(%s::uuid[]) AND kept",
            [ids],
        )
        return {pk for (pk,) in found}

    def error(self, row, column, reason):
        self.report.error(row.problem(column, reason))

    def notice(self, row, column, reason):
        self.report.notice(row.problem(column, f"not kept: {reason}"))

    # Package rows -> the directory's fields, a chunk at a time; (row, None) is a row
    # listed and not kept

    def _plan_organization(self, chunk):
        for row in chunk:
            v = row.values
            yield (
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

    def _plan_location(self, chunk):
        for row in chunk:
            v = row.values
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
            yield (
                row,
                {
                    "organization_id": v["organization_id"],
                    "location_type": v["location_type"],
                    "url": v["url"] or "",
                    "name": name,
                    "description": v["description"] or "",
                    "latitude": None if latitude is None else latitude.quantize(MICRODEGREE),
                    "longitude": None if longitude is None else longitude.quantize(MICRODEGREE),
                },
            )

    def _plan_address(self, chunk):
        for row in chunk:
            v = row.values
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
            problem = self._address_problem(values)
            if problem:
                self.notice(row, problem[0], problem[1])
                yield row, None
                continue
            yield row, values

    def _address_problem(self, values):
        """Why an address cannot be kept in the directory's (United States) form, or None."""
        for name, value, error in self._broken_rules(Address, values):
            return name, (
                "the address is not in the directory's (United States) form: "
                f"{value!r}, {error.messages[0]}"
            )
        return None

    def _plan_service(self, chunk):
        for row in chunk:
            v = row.values
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
                yield (
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
                        "stamp": v["last_modified"],
                    },
                )

    def _plan_service_at_location(self, chunk):
        for row in chunk:
            v = row.values
            yield (
                row,
                {
                    "service_id": v["service_id"],
                    "location_id": v["location_id"],
                    "description": v["description"] or "",
                },
            )

    def _owners(self, chunk, kinds):
        """The service, location and organization each row belongs to, or None."""
        for row in chunk:
            owners = {c: row.values[c] for c, _, _ in kinds if row.values[c] is not None}
            if not owners:
                self.notice(row, None, "it belongs to no service, location or organization")
            yield row, owners or None

    def _plan_phone(self, chunk):
        kinds = [
            ("service_id", Service, "service"),
            ("location_id", Location, "location"),
            ("organization_id", Organization, "organization"),
        ]
        for row, owners in self._owners(chunk, kinds):
            if owners is None:
                yield row, None
                continue
            v = row.values
            extension = v["extension"]
            if extension is not None and (
                extension < 0 or extension >= 10**10 or extension != extension.to_integral_value()
            ):
                self.error(row, "extension", f"{extension} is not an extension (digits only)")
                continue
            yield (
                row,
                {
                    "service_id": owners.get("service_id"),
                    "location_id": owners.get("location_id"),
                    "organization_id": owners.get("organization_id"),
                    "number": v["number"].strip("\"' "),
                    "extension": "" if extension is None else str(int(extension)),
                    "type": v["type"] or Phone.Type.VOICE,
                    "description": v["description"] or "",
                    "position": 0,  # set once all are staged
                },
            )

    def _plan_schedule(self, chunk):
        kinds = [("service_id", Service, "service"), ("location_id", Location, "location")]
        for row, owners in self._owners(chunk, kinds):
            if owners is None:
                yield row, None
                continue
            v = row.values
            base = {
                "service_id": owners.get("service_id"),
                "location_id": owners.get("location_id"),
                "notes": self._notes(row, v["description"], v["notes"]),
                "open_24_7": False,
                "weekday": None,
                "opens_at": None,
                "closes_at": None,
            }
            days = [d.strip() for d in (v["byday"] or "").split(",") if d.strip()]
            opens, closes = v["opens_at"], v["closes_at"]
            if v["byday"] == STATES_24_7 and opens == time(0) and closes == time(23, 59, 59):
                base.update(open_24_7=True, notes=v["notes"] or "")
                yield row, base
            elif not days and not opens and not closes:
                if not base["notes"]:
                    self.notice(row, None, "it gives neither hours nor a description")
                    yield row, None
                    continue
                yield row, base
            elif (v["freq"] or "WEEKLY") != "WEEKLY" or not days or not opens or not closes:
                self.notice(
                    row,
                    "freq",
                    "only weekly hours (freq WEEKLY, byday, opens_at, closes_at) are kept",
                )
                yield row, None
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
                        yield row, values
                    else:  # one row per day here; the later days get ids of their own
                        yield Row(row.table, row.file, row.line, {"id": derived(row, day)}), values
                if len(days) > 1:
                    self.report.notice(
                        row.problem("byday", f"kept as {len(days)} rows, one per day")
                    )

    def _notes(self, row, description, notes):
        """A schedule's HSDS description and notes as the directory's one note (they are
        the same text in the directory's own packages)."""
        parts = [text for text in dict.fromkeys((description, notes)) if text]
        text = " ".join(parts)
        limit = Schedule._meta.get_field("notes").max_length
        if len(text) > limit:
            self.notice(
                row,
                "notes",
                f"only the first {limit} characters of the description and notes are kept",
            )
            text = text[:limit]
        return text

    def _plan_service_area(self, chunk):
        for row in chunk:
            v = row.values
            values = _area(EXTENTS.get(v["description"] or ""), v["name"] or "")
            if values is None:
                self.notice(
                    row,
                    "name",
                    "the directory keeps a nationwide, state, county or city "
                    "area, and cannot tell which this is",
                )
                yield row, None
                continue
            yield row, {"service_id": v["service_id"], **values}

    # Needs, populations and languages

    def _stage_links(self):
        for chunk in chunked(self._rows("language"), CHUNK):
            self._copy_links(self._language_links(chunk))
        for chunk in chunked(self._rows("attribute"), CHUNK):
            self._copy_links(self._attribute_links(chunk))
        self._analyze("import_link")

    def _copy_links(self, links):
        links = list(links)  # each chunk's checks ask the database first
        statement = "COPY import_link (model, owner_id, relation, value) FROM STDIN"
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for link in links:
                copy.write_row(link)

    def _language_links(self, chunk):
        known = {
            column: self._in_package(chunk, column, model)
            for column, model in (
                ("service_id", Service),
                ("location_id", Location),
                ("phone_id", Phone),
            )
        }
        for row in chunk:
            v = row.values
            code = (v["code"] or "").lower()
            language = self.languages.get(code) or self.language_names.get(
                (v["name"] or "").casefold()
            )
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
                language.save(force_insert=True)
                self.languages[code] = self.language_names[language.name.casefold()] = language
            for column, model in (
                ("service_id", Service),
                ("location_id", Location),
                ("phone_id", Phone),
            ):
                if v[column] is not None:
                    if v[column] in known[column]:
                        yield model._meta.model_name, v[column], "languages", language.code
                    else:
                        self.notice(row, column, f"{v[column]} is not in the package")
                    break
            else:
                self.notice(row, None, "it belongs to no service, location or phone")

    def _attribute_links(self, chunk):
        services = self._in_package(chunk, "link_id", Service)
        for row in chunk:
            v = row.values
            if v["link_id"] not in services:
                self.notice(row, "link_id", f"{v['link_id']} is no service in the package")
                continue
            described = self.terms.get(v["taxonomy_term_id"])
            term = self.matcher.match(v["taxonomy_term_id"], described)
            if term is None:
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
            relation = "needs" if isinstance(term, Need) else "populations"
            yield "service", v["link_id"], relation, str(term.pk)

    def _write_links(self):
        """Each listed entry's needs, populations and languages become the package's."""
        for (model, relation), table_name in LINKS.items():
            if table_name not in self.package.supplied:
                continue
            through, own, other = _through(model, relation)
            name = model._meta.model_name
            stage, table = ENTITY[model].stage, through._meta.db_table
            value = f"t.{other}::text"
            cast = "" if relation == "languages" else "::uuid"
            link = "l.model = %s AND l.relation = %s"
            gone = (
                f"FROM {table} t WHERE t.{own} IN (SELECT id FROM {stage} WHERE kept)"
                f" AND NOT EXISTS (SELECT 1 FROM import_link l WHERE {link}"
                f" AND l.owner_id = t.{own} AND l.value = {value})"
            )
            new = (
                f"FROM import_link l WHERE {link} AND NOT EXISTS (SELECT 1 FROM"
                f" {through._meta.db_table} t WHERE t.{own} = l.owner_id AND {value} = l.value)"
            )
            params = [name, relation]
            owners = f"SELECT t.{own} AS id {gone} UNION SELECT l.owner_id {new}"
            if model is Phone:  # a phone's languages show on its service, location or organization
                touched = (
                    "SELECT CASE WHEN p.service_id IS NOT NULL THEN 'service'"
                    " WHEN p.location_id IS NOT NULL THEN 'location' ELSE 'organization' END,"
                    " COALESCE(p.service_id, p.location_id, p.organization_id)"
                    f" FROM resources_phone p WHERE p.id IN ({owners})"
                )
                touched_params = params * 2
            else:
                touched = f"SELECT %s, o.id FROM ({owners}) o"
                touched_params = [name] + params * 2
            if self._note_touched(touched, touched_params):
                for owner in RECORDED:
                    self._record_touched(
                        owner,
                        "SELECT id FROM import_touched WHERE model = %s",
                        [owner._meta.model_name],
                    )
            written = self._sql(f"DELETE {gone}", params) + self._sql(
                f"INSERT INTO {through._meta.db_table} ({own}, {other})"
                f" SELECT DISTINCT l.owner_id, l.value{cast} {new}",
                params,
            )
            if written >= ANALYZE_AFTER:
                self._analyze(through._meta.db_table)

    def _touch_services(self):
        """What the tables' triggers do, once: a service already here whose organization,
        places or rows the import changed is modified now (HSDS's last_modified covers
        "any related information"), for partners polling by modified_after."""
        touched = "SELECT id FROM import_touched WHERE model = %s"
        changed = "SELECT id FROM import_{} WHERE verdict = 'c'"
        self._sql(
            # The triggers' own function (resources/sync.py), given every such service.
            "SELECT resources_touch_services(ARRAY(SELECT s.id FROM resources_service s"
            " WHERE NOT EXISTS (SELECT 1 FROM import_service n WHERE n.id = s.id"
            " AND n.verdict = 'n') AND ("
            f" s.id IN ({touched})"
            " OR s.id IN (SELECT service_id FROM resources_serviceatlocation WHERE location_id IN"
            f" ({touched} UNION {changed.format('location')}))"
            f" OR s.organization_id IN ({touched} UNION {changed.format('organization')}))))",
            ["service", "location", "organization"],
        )

    def _publish(self):
        if not self.publish:
            return
        unpublished = (
            "SELECT id FROM resources_service WHERE id IN (SELECT id FROM import_service"
            " WHERE kept) AND publication_state <> %s"
        )
        self._record_touched(Service, unpublished, [PublicationState.PUBLISHED])
        self._note_touched(
            f"SELECT 'service', id FROM ({unpublished}) p", [PublicationState.PUBLISHED]
        )
        self._sql(
            f"UPDATE resources_service SET publication_state = %s WHERE id IN ({unpublished})",
            [PublicationState.PUBLISHED, PublicationState.PUBLISHED],
        )

    def _check_confidential(self):
        """A shelter whose address is hidden keeps a way to reach it (a phone of its own,
        or its organization's contact), whatever the package removed or changed."""
        shelters = Location.objects.filter(confidential=True).extra(
            where=[
                "resources_location.id IN (SELECT id FROM import_location WHERE kept"
                " UNION SELECT id FROM import_touched WHERE model = 'location')"
                " OR resources_location.organization_id IN (SELECT id FROM import_organization"
                " WHERE kept UNION SELECT id FROM import_touched WHERE model = 'organization')"
            ]
        )
        for shelter in shelters.select_related("organization"):
            try:
                check_confidential_location_reachable(shelter, phone_count=shelter.phones.count())
            except ValidationError as error:
                lines = self._sql("SELECT line FROM import_location WHERE id = %s", [shelter.pk])
                line = lines[0][0] if lines else None
                file = self._file(ENTITY[Location]) if line else self.source
                self.report.error(
                    Problem(file, line, "id", f"{shelter.name}: {' '.join(error.messages)}")
                )

    def _reindex(self):
        """Re-index the services whose search index the import may have changed: those it
        adds or changes, those at the places and of the organizations it adds or changes."""
        changed = (
            "WHERE verdict IN ('n', 'c') UNION SELECT id FROM import_touched WHERE model = '{}'"
        )
        services = (
            f"SELECT id FROM import_service {changed.format('service')}"
            " UNION SELECT sal.service_id FROM resources_serviceatlocation sal WHERE"
            f" sal.location_id IN (SELECT id FROM import_location {changed.format('location')})"
            " UNION SELECT s.id FROM resources_service s WHERE"
            " s.organization_id IN (SELECT id FROM import_organization WHERE verdict IN ('n', 'c'))"
        )
        # The index's own function (resources/search/index.py), given the ids in the database.
        self._sql(f"SELECT resources_index_services(ARRAY({services}))")
        touched = self._sql(
            "SELECT count(*) FROM import_service WHERE verdict = 'u' AND id IN"
            " (SELECT id FROM import_touched WHERE model = 'service')"
        )[0][0]
        # A service whose rows or links change is changed, even if its own row is not.
        counts = self.report.counts["service"]
        counts["unchanged"] -= touched
        counts["changed"] += touched

    def _record_after(self, user):
        comment = f"Imported from {self.source}."
        for model in RECORDED:
            name = model._meta.model_name
            ids = [
                pk
                for (pk,) in self._sql(
                    f"SELECT id FROM {ENTITY[model].stage} WHERE verdict = 'c'"
                    " UNION SELECT id FROM import_touched WHERE model = %s",
                    [name],
                )
            ]
            for start in range(0, len(ids), CHUNK):
                for obj in model.objects.filter(pk__in=ids[start : start + CHUNK]):
                    history.record(obj, user, comment)


def field_checks(entity):
    """For each of the entity's own fields, its name, what needs no other check (a null
    where allowed, a blank, one of its choices, a text of at most its longest plain
    text), and the model's rules for it (as Field.clean(), without an instance)."""
    checks = []
    for name in entity.fields:
        field = entity.model._meta.get_field(name)
        if field.is_relation:
            continue
        plain = 0
        if not field.choices and all(isinstance(v, MaxLengthValidator) for v in field.validators):
            plain = field.max_length or sys.maxsize
        choices = {value for value, _ in field.flatchoices} if field.choices else None
        check = partial(_check_field, field)
        checks.append((name, field.null, field.blank, choices, plain, check))
    return checks


def _check_field(field, value):
    field.validate(value, None)
    field.run_validators(value)


MICRODEGREE = Decimal("0.000001")
EXTENTS = {label: value for value, label in ServiceArea.Extent.choices}

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


def derived(row, day):
    return str(uuid.uuid5(uuid.UUID(row.values["id"]), day))


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
        self.by_id = {str(term.pk): term for term in self.terms}

    def match(self, term_id, row):
        if term_id in self.by_id:
            return self.by_id[term_id]
        if row is None:
            return None
        candidates = self.terms
        taxonomy = row.values.get("taxonomy_id")
        if taxonomy in (str(NEEDS.id), str(POPULATIONS.id)):
            model = NEEDS.model if taxonomy == str(NEEDS.id) else POPULATIONS.model
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


def _through(model, relation):
    """A many-to-many relation's table, and its columns for model and for the other side."""
    manager = getattr(model, relation)
    return (
        manager.through,
        f"{model._meta.model_name}_id",
        f"{manager.field.related_model._meta.model_name}_id",
    )


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
