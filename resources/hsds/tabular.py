"""HSDS 3 as a tabular data package: the tables this directory writes and reads.

A package is a folder (or a zip of one) of CSV files and a datapackage.json describing
them, as Open Referral's own (schema/datapackage.json). The directory holds a subset of
HSDS, so it declares only the tables and columns it can fill; every one of them is
HSDS's own name, type and format (tests/test_hsds_tabular.py compares them with the
standard's). Export and import share these definitions and flatten(): a nested HSDS
service (the API's shape, an NDJSON line) becomes the same table rows either way.
"""

import csv
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rest_framework.utils.encoders import JSONEncoder

from resources.api.querysets import published_services
from resources.models import Address, Location, Need, Organization, Population, Service

from .serializers import (
    HsdsOrganizationListSerializer,
    HsdsPhoneSerializer,
    HsdsServiceSerializer,
    HsdsTaxonomySerializer,
    HsdsTaxonomyTermSerializer,
    each_represented,
)
from .taxonomies import TAXONOMIES

CHUNK = 500

TYPES = {  # a column's short type: (frictionless type, format)
    "": ("string", None),
    "uuid": ("string", "uuid"),
    "email": ("string", "email"),
    "uri": ("string", "uri"),
    "number": ("number", None),
    "date": ("date", None),
    "datetime": ("datetime", None),
    "time": ("time", None),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = ""  # a key of TYPES
    required: bool = False
    enum: tuple = ()

    def descriptor(self):
        kind, fmt = TYPES[self.type]
        field = {"name": self.name, "type": kind}
        if fmt:
            field["format"] = fmt
        constraints = {"required": self.required}
        if self.name == "id":
            constraints["unique"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        field["constraints"] = constraints
        return field


def columns(spec, **enums):
    """'id:uuid! name! email:email' -> Columns: name[:type][!], ! meaning required."""
    result = []
    for word in spec.split():
        required = word.endswith("!")
        name, _, kind = word.rstrip("!").partition(":")
        result.append(Column(name, kind, required, tuple(enums.get(name, ()))))
    return tuple(result)


@dataclass(frozen=True)
class Table:
    name: str  # the resource's name in datapackage.json
    path: str
    columns: tuple
    references: tuple = ()  # (column, table name)

    @property
    def column_names(self):
        return [column.name for column in self.columns]

    def descriptor(self):
        schema = {"fields": [c.descriptor() for c in self.columns], "primaryKey": "id"}
        if self.references:
            schema["foreignKeys"] = [
                {
                    "fields": column,
                    "reference": {"resource": "" if to == self.name else to, "fields": "id"},
                }
                for column, to in self.references
            ]
        return {
            "name": self.name,
            "path": self.path,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "profile": "tabular-data-resource",
            "schema": schema,
        }


def _choices(model_choices):
    return [value for value, _ in model_choices]


# In the order a reader needs them: each table's references come before it.
TABLES = (
    Table("taxonomy", "taxonomies.csv", columns("id:uuid! name! description!")),
    Table(
        "taxonomy_term",
        "taxonomy_terms.csv",
        columns(
            "id:uuid! code name! description! parent_id:uuid taxonomy language taxonomy_id:uuid"
        ),
        references=(("taxonomy_id", "taxonomy"), ("parent_id", "taxonomy_term")),
    ),
    Table(
        "organization",
        "organizations.csv",
        columns("id:uuid! name! alternate_name description! email:email website:uri"),
    ),
    Table(
        "location",
        "locations.csv",
        columns(
            "id:uuid! location_type! url:uri organization_id:uuid name description "
            "latitude:number longitude:number",
            location_type=_choices(Location.Type.choices),
        ),
        references=(("organization_id", "organization"),),
    ),
    Table(
        "address",
        "addresses.csv",
        columns(
            "id:uuid! location_id:uuid attention address_1! address_2 city! region "
            "state_province! postal_code! country! address_type!",
            address_type=_choices(Address.Type.choices),
        ),
        references=(("location_id", "location"),),
    ),
    Table(
        "service",
        "services.csv",
        columns(
            "id:uuid! organization_id:uuid! name! alternate_name description url:uri "
            "email:email status! interpretation_services application_process "
            "fees_description eligibility_description minimum_age:number "
            "maximum_age:number assured_date:date last_modified:datetime",
            status=_choices(Service.Status.choices),
        ),
        references=(("organization_id", "organization"),),
    ),
    Table(
        "service_at_location",
        "service_at_location.csv",
        columns("id:uuid! service_id:uuid! location_id:uuid! description"),
        references=(("service_id", "service"), ("location_id", "location")),
    ),
    Table(
        "phone",
        "phones.csv",
        columns(
            "id:uuid! location_id:uuid service_id:uuid organization_id:uuid number! "
            "extension:number type description"
        ),
        references=(
            ("location_id", "location"),
            ("service_id", "service"),
            ("organization_id", "organization"),
        ),
    ),
    Table(
        "schedule",
        "schedules.csv",
        columns(
            "id:uuid! service_id:uuid location_id:uuid freq byday opens_at:time "
            "closes_at:time description notes"
        ),
        references=(("service_id", "service"), ("location_id", "location")),
    ),
    Table(
        "service_area",
        "service_areas.csv",
        columns("id:uuid! service_id:uuid name description"),
        references=(("service_id", "service"),),
    ),
    Table(
        "language",
        "languages.csv",
        columns("id:uuid! service_id:uuid location_id:uuid phone_id:uuid name code"),
        references=(
            ("service_id", "service"),
            ("location_id", "location"),
            ("phone_id", "phone"),
        ),
    ),
    Table(
        "attribute",
        "attributes.csv",
        columns("id:uuid! link_id:uuid! taxonomy_term_id:uuid! link_type link_entity!"),
        references=(("taxonomy_term_id", "taxonomy_term"),),
    ),
)
TABLE = {table.name: table for table in TABLES}
BY_PATH = {table.path: table for table in TABLES}


def datapackage():
    return {
        "name": "human_services_directory",
        "title": "Services for survivors of human trafficking and sexual exploitation",
        "profile": "tabular-data-package",
        "version": "3.0.0",
        "resources": [table.descriptor() for table in TABLES],
    }


# Nested HSDS records -> table rows


def flatten(service):
    """A fully nested HSDS service (a dict) as (table name, row) pairs, each row a dict
    of the table's columns; the organization and locations come before what points at them.
    """
    organization = service.get("organization")
    if organization:
        yield "organization", organization
    yield "service", service
    for link in service.get("service_at_locations", ()):
        location = link.get("location")
        if location:
            yield from _location_rows(location)
        yield "service_at_location", link
    yield from _phone_rows(service.get("phones", ()))
    for schedule in service.get("schedules", ()):
        yield "schedule", schedule
    for area in service.get("service_areas", ()):
        yield "service_area", area
    for language in service.get("languages", ()):
        yield "language", language
    for attribute in service.get("attributes", ()):
        yield "attribute", attribute


def _location_rows(location):
    yield "location", location
    for address in location.get("addresses", ()):
        yield "address", address
    yield from _phone_rows(location.get("phones", ()))
    for schedule in location.get("schedules", ()):
        yield "schedule", schedule
    for language in location.get("languages", ()):
        yield "language", language


def _phone_rows(phones):
    for phone in phones:
        yield "phone", phone
        for language in phone.get("languages", ()):
            yield "language", language


def as_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Writing a package


# HSDS requires these tables' descriptions, which the directory may not have: the name
# stands in for a missing one.
DESCRIBED = ("organization", "taxonomy_term")


def complete(table_name, row):
    """row, with its name as the description HSDS requires where it has none."""
    if table_name in DESCRIBED and not row.get("description"):
        return {**row, "description": row.get("name")}
    return row


class PackageWriter:
    """One CSV writer per table in folder; a row whose id was written is not written again
    (an organization or location shared by several services)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.files, self.writers, self.seen = {}, {}, {}
        for table in TABLES:
            handle = (self.folder / table.path).open("w", encoding="utf-8", newline="")
            writer = csv.DictWriter(handle, table.column_names, extrasaction="ignore")
            writer.writeheader()
            self.files[table.name], self.writers[table.name] = handle, writer
            self.seen[table.name] = set()

    def write(self, table_name, row):
        row_id = str(row["id"])
        if row_id in self.seen[table_name]:
            return False
        self.seen[table_name].add(row_id)
        row = complete(table_name, row)
        self.writers[table_name].writerow(
            {name: as_cell(row.get(name)) for name in TABLE[table_name].column_names}
        )
        return True

    def close(self):
        for handle in self.files.values():
            handle.close()
        with open(self.folder / "datapackage.json", "w", encoding="utf-8") as out:
            json.dump(datapackage(), out, indent=2)
            out.write("\n")


def _plain(data):
    """Serializer output (ordered dicts, UUIDs, decimals) as plain JSON values."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


def write_package(folder):
    """Every published service, its organization, places and rows, and the two
    taxonomies, as CSV files and datapackage.json in folder; returns the service count."""
    writer = PackageWriter(folder)
    try:
        for taxonomy in TAXONOMIES:
            writer.write("taxonomy", _plain(HsdsTaxonomySerializer(taxonomy).data))
        for model in (Need, Population):
            for term in model.objects.order_by("position", "name", "pk"):
                writer.write("taxonomy_term", _plain(HsdsTaxonomyTermSerializer(term).data))
        count = 0
        organizations = set()
        services = published_services().order_by("pk")
        for data in each_represented(HsdsServiceSerializer, services, chunk=CHUNK):
            for table_name, row in flatten(_plain(data)):
                if table_name in ("service", "location") and row.get("organization_id"):
                    organizations.add(row["organization_id"])
                writer.write(table_name, row)
            count += 1
        # Organizations known only as a location's owner, and every organization's phones.
        others = Organization.objects.filter(pk__in=organizations).prefetch_related(
            "phones__languages"
        )
        for organization in others.order_by("pk").iterator(chunk_size=CHUNK):
            writer.write("organization", _plain(HsdsOrganizationListSerializer(organization).data))
            phones = _plain(HsdsPhoneSerializer(organization.phones.all(), many=True).data)
            for table_name, row in _phone_rows(phones):
                writer.write(table_name, row)
    finally:
        writer.close()
    return count


def export_package(path):
    """write_package() into path: a folder (made, and empty or absent before) or a .zip.
    Nothing appears at path until the package is complete."""
    path = Path(path)
    if path.suffix not in ("", ".zip"):
        raise ValueError(
            "Give a path ending in .json, .ndjson or .zip, or a new folder's name, "
            f"not {path.name}."
        )
    if path.suffix != ".zip" and path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ValueError(f"{path} exists and is not an empty folder: name a new one.")
    work = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        count = write_package(work)
        if path.suffix == ".zip":
            _zip_folder(work, path)
            shutil.rmtree(work)
        else:
            if path.exists():
                path.rmdir()
            os.replace(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return count


def _zip_folder(folder, path):
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(folder.iterdir()):
                archive.write(file, file.name)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
