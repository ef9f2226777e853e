"""HSDS in and out: the tabular package export_hsds writes, and import_hsds reading it back
(or Open Referral's own example, or NDJSON) all or nothing."""

import csv
import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from frictionless import validate
from reversion.models import Version

from resources import history
from resources.hsds.imports import PackageError, import_package
from resources.hsds.tabular import TABLES
from resources.models import (
    Address,
    Location,
    Organization,
    Phone,
    PublicationState,
    Service,
    ServiceChange,
)
from tests.conftest import shared_path
from tests.factories import (
    SHELTER_ADDRESS,
    SHELTER_ZIP,
    make_need,
    make_phone,
    make_population,
    make_rich_service,
    make_service,
)

pytestmark = pytest.mark.django_db


def export(path):
    call_command("export_hsds", str(path))
    return path


def read(path, name):
    with open(Path(path) / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write(path, name, rows):
    with open(Path(path) / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def snapshot():
    """Everything an import may write, to prove a refused one wrote nothing."""
    return {
        model.__name__: sorted(map(str, model.objects.values_list()))
        for model in (Organization, Service, Location, Phone, ServiceChange)
    }


def wipe_directory():
    Service.objects.all().delete()
    Location.objects.all().delete()
    Organization.objects.all().delete()


@pytest.fixture
def directory():
    """Two published services (one with a confidential shelter), and a draft."""
    services = [make_rich_service(), make_service(name="Hotline")]
    make_service(name="Not yet", publication_state=PublicationState.DRAFT)
    return services


# Export


def test_the_package_validates_against_its_table_schemas_and_hides_the_shelter(tmp_path, directory):
    package = export(tmp_path / "package")

    report = validate(str(package / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "message"])
    names = {row["name"] for row in read(package, "services.csv")}
    assert names == {s.name for s in directory}  # published ones only
    text = "".join(p.read_text() for p in package.iterdir())
    assert SHELTER_ADDRESS not in text and SHELTER_ZIP not in text
    shelter = Location.objects.get(confidential=True)
    (row,) = [r for r in read(package, "locations.csv") if r["id"] == str(shelter.pk)]
    assert row["latitude"] == row["longitude"] == ""


def test_every_declared_column_is_hsds_own_name_type_and_format():
    standard = json.loads(shared_path("hsds", "datapackage.json").read_text())
    fields = {
        (resource["name"], field["name"]): field
        for resource in standard["resources"]
        for field in resource["schema"]["fields"]
    }
    paths = {resource["name"]: resource["path"] for resource in standard["resources"]}
    for table in TABLES:
        assert paths[table.name] == table.path
        for column in table.columns:
            ours, theirs = column.descriptor(), fields[(table.name, column.name)]
            assert (ours["type"], ours.get("format")) == (theirs["type"], theirs.get("format"))
            assert ours["constraints"]["required"] == theirs["constraints"]["required"]
        required = {
            n for (t, n), f in fields.items() if t == table.name and f["constraints"]["required"]
        }
        assert required <= set(table.column_names), table.name


def test_a_zip_package_holds_the_same_files(tmp_path, directory):
    folder, archive = export(tmp_path / "package"), export(tmp_path / "package.zip")

    with zipfile.ZipFile(archive) as opened:
        assert sorted(opened.namelist()) == sorted(p.name for p in folder.iterdir())
        assert opened.read("services.csv") == (folder / "services.csv").read_bytes()


def test_export_never_writes_into_a_folder_holding_files(tmp_path, directory):
    (tmp_path / "notes.txt").write_text("mine")

    with pytest.raises(CommandError, match="not an empty folder"):
        export(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


# Import: round trips


def test_export_import_into_an_empty_directory_export_again_gives_the_same_package(
    tmp_path, directory
):
    first = export(tmp_path / "first")
    wipe_directory()

    call_command("import_hsds", str(first), "--publish")

    second = export(tmp_path / "second")
    for table in TABLES:
        assert (second / table.path).read_text() == (first / table.path).read_text(), table.path


def test_a_package_checked_a_row_at_a_time_imports_the_same(tmp_path, directory, monkeypatch):
    first = export(tmp_path / "first")
    wipe_directory()
    monkeypatch.setattr("resources.hsds.imports.CHUNK", 1)  # every row its own chunk

    report = import_package(first, publish=True)

    assert report.applied, report.errors
    second = export(tmp_path / "second")
    for table in TABLES:
        assert (second / table.path).read_text() == (first / table.path).read_text(), table.path


def test_importing_the_same_package_again_changes_nothing(tmp_path, directory, monkeypatch):
    package = export(tmp_path / "package")
    wipe_directory()
    monkeypatch.setattr("resources.hsds.imports.ANALYZE_AFTER", 1)  # as a big import does
    import_package(package, publish=True)
    before = snapshot()

    report = import_package(package, publish=True)

    assert report.applied and not report.errors
    assert all(
        not c["new"] and not c["changed"] and not c["removed"] for c in report.counts.values()
    )
    assert snapshot() == before


def test_an_ndjson_export_imports_as_the_same_services(tmp_path, directory):
    package = export(tmp_path / "package")
    lines = tmp_path / "services.ndjson"
    call_command("export_hsds", str(lines))
    wipe_directory()

    report = import_package(lines, publish=True)

    assert report.applied, report.errors
    again = export(tmp_path / "again")
    for name in ("services.csv", "phones.csv", "schedules.csv", "attributes.csv", "languages.csv"):
        assert (again / name).read_text() == (package / name).read_text(), name


def test_new_services_arrive_as_drafts_unless_published(tmp_path, directory):
    package = export(tmp_path / "package")
    wipe_directory()

    import_package(package)

    assert set(Service.objects.values_list("publication_state", flat=True)) == {
        PublicationState.DRAFT
    }
    assert all(s.source_document == "HSDS package package" for s in Service.objects.all())


def test_an_update_changes_the_service_removes_what_is_gone_and_can_be_undone(tmp_path, directory):
    service = directory[0]
    package = export(tmp_path / "package")
    phones = read(package, "phones.csv")
    own = [p for p in phones if p["service_id"] == str(service.pk)]
    write(package, "phones.csv", [p for p in phones if p is not own[0]])
    services = read(package, "services.csv")
    for row in services:
        if row["id"] == str(service.pk):
            row["description"] = "Now also on weekends."
    write(package, "services.csv", services)

    report = import_package(package)

    assert report.counts["service"]["changed"] == 1
    assert report.counts["phone"]["removed"] == 1
    service.refresh_from_db()
    assert service.description == "Now also on weekends."
    assert not Phone.objects.filter(pk=own[0]["id"]).exists()
    assert service.publication_state == PublicationState.PUBLISHED  # kept as it was
    before, after = list(Version.objects.get_for_object(service))[::-1][-2:]
    assert after.revision.comment == "Imported from package."
    history.restore(before, user=None)
    assert Phone.objects.filter(pk=own[0]["id"]).exists()


# Import: taxonomy terms


def test_terms_map_by_id_then_code_then_name(tmp_path):
    legal = make_need(slug="legal-aid", name="Legal aid")
    youth = make_population(slug="youth", name="Youth")
    service = make_service(needs=[legal], populations=[youth])
    package = export(tmp_path / "package")
    terms = read(package, "taxonomy_terms.csv")
    renamed = {
        str(legal.pk): "11111111-1111-4111-8111-111111111111",
        str(youth.pk): "22222222-2222-4222-8222-222222222222",
    }
    for row in terms:
        row["id"] = renamed.get(row["id"], row["id"])
        if row["code"] == "youth":
            row["code"] = "young-people"  # matched by its name instead
    write(package, "taxonomy_terms.csv", terms)
    attributes = read(package, "attributes.csv")
    for row in attributes:
        row["taxonomy_term_id"] = renamed[row["taxonomy_term_id"]]
    write(package, "attributes.csv", attributes)
    service.needs.clear()
    service.populations.clear()

    report = import_package(package)

    assert report.applied, report.errors
    assert list(service.needs.all()) == [legal] and list(service.populations.all()) == [youth]


# Import: Open Referral's example


def test_open_referrals_example_package_imports_and_says_what_it_did_not_keep():
    example = shared_path("hsds", "examples", "csv")

    report = import_package(example)

    assert report.applied and not report.errors
    service = Service.objects.get(name="Community Counselling")
    assert service.publication_state == PublicationState.DRAFT
    assert service.organization.name == "Example Organization Inc."
    assert service.phones.get().number == "+44 1234 234567"
    notices = [str(n) for n in report.notices]
    assert "contacts.csv: not kept: the directory holds no such records" in notices
    assert any(n.startswith("addresses.csv, line 2, state_province: not kept") for n in notices)
    assert any(n.startswith("locations.csv, line 2, latitude: not kept") for n in notices)


# Import: bad input, reported by file, line and field, with nothing written


def broken(tmp_path, directory, name, change):
    package = export(tmp_path / "package")
    rows = read(package, name)
    change(rows)
    write(package, name, rows)
    return package


def refused(package):
    before = snapshot()
    report = import_package(package, publish=True)
    assert not report.applied
    assert snapshot() == before
    return [str(error) for error in report.errors]


def set_first(column, value):
    def change(rows):
        rows[0][column] = value

    return change


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        (
            "services.csv",
            set_first("assured_date", "31/12/2024"),
            "services.csv, line 2, assured_date: '31/12/2024' is not a date (YYYY-MM-DD)",
        ),
        (
            "services.csv",
            set_first("id", "not-a-uuid"),
            "services.csv, line 2, id: 'not-a-uuid' is not a UUID",
        ),
        (
            "services.csv",
            set_first("status", "open"),
            "services.csv, line 2, status: 'open' is not one of: active, inactive, defunct, "
            "temporarily closed",
        ),
        (
            "services.csv",
            set_first("email", "nobody"),
            "services.csv, line 2, email: Enter a valid email address.",
        ),
        (
            "services.csv",
            set_first("organization_id", "33333333-3333-4333-8333-333333333333"),
            "services.csv, line 2, organization_id: no organization "
            "33333333-3333-4333-8333-333333333333 in the package or the directory",
        ),
        (
            "phones.csv",
            lambda rows: rows.append(dict(rows[0])),
            "phones.csv, line {last}, id: {id} is also on line 2: ids are unique",
        ),
        (
            "attributes.csv",
            set_first("taxonomy_term_id", "44444444-4444-4444-8444-444444444444"),
            "attributes.csv, line 2, taxonomy_term_id: the term "
            "44444444-4444-4444-8444-444444444444 matches no need or population "
            "by id, code or name",
        ),
    ],
)
def test_a_bad_value_is_refused_by_file_line_and_field(tmp_path, directory, name, change, expected):
    package = broken(tmp_path, directory, name, change)
    rows = read(package, name)

    errors = refused(package)

    assert expected.format(last=len(rows) + 1, id=rows[0]["id"]) in errors


def test_past_a_thousand_problems_the_report_counts_them_all_and_lists_the_first(
    tmp_path, directory, monkeypatch
):
    monkeypatch.setattr("resources.hsds.imports.LISTED", 2)

    def change(rows):
        for row in rows:
            row["number"] = "not a number at all"

    package = broken(tmp_path, directory, "phones.csv", change)
    rows = read(package, "phones.csv")

    report = import_package(package)

    assert not report.applied
    assert report.error_count >= len(rows) > len(report.errors) == 2
    assert str(report.errors[0]).startswith("phones.csv, line 2, number:")


def test_a_missing_column_is_refused(tmp_path, directory):
    package = export(tmp_path / "package")
    rows = [{k: v for k, v in row.items() if k != "name"} for row in read(package, "services.csv")]
    write(package, "services.csv", rows)

    assert refused(package) == ["services.csv, line 1, name: missing column"]


def test_text_that_is_not_utf8_is_refused(tmp_path, directory):
    package = export(tmp_path / "package")
    path = package / "organizations.csv"
    path.write_bytes(path.read_bytes() + "Caf\xe9,".encode("latin-1"))

    errors = refused(package)

    assert len(errors) == 1 and errors[0].startswith("organizations.csv, line")
    assert "not UTF-8 text" in errors[0]


def test_a_zip_with_paths_outside_its_folder_is_refused(tmp_path, directory):
    package = export(tmp_path / "package")
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in package.iterdir():
            out.write(file, file.name)
        out.writestr("../outside.csv", "id\n")
    before = snapshot()

    with pytest.raises(PackageError, match=r"\.\./outside\.csv points outside the package"):
        import_package(archive)
    assert snapshot() == before


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path, directory, settings):
    lines = tmp_path / "services.ndjson"
    call_command("export_hsds", str(lines))
    settings.HSDS_IMPORT_MAX_BYTES = lines.stat().st_size - 1

    with pytest.raises(CommandError, match="the most an import reads is"):
        call_command("import_hsds", str(lines))


def test_an_organization_named_as_another_is_refused(tmp_path, directory):
    package = export(tmp_path / "package")
    other = Organization.objects.exclude(name=directory[0].organization.name).first()
    rows = read(package, "organizations.csv")
    rows[0]["id"] = "55555555-5555-4555-8555-555555555555"
    rows[0]["name"] = other.name.upper()
    write(package, "organizations.csv", rows)

    errors = refused(package)

    assert (
        f"organizations.csv, line 2, name: {other.name.upper()!r} is already the name of "
        f"organization {other.pk}: use its id, or another name"
    ) in errors


def test_a_dry_run_counts_and_writes_nothing(tmp_path, directory, capsys):
    package = export(tmp_path / "package")
    wipe_directory()

    call_command("import_hsds", str(package), "--dry-run")

    out = capsys.readouterr().out
    assert "services.csv: 2 new" in out and "Dry run: nothing was written." in out
    assert not Service.objects.exists()


# Import in the admin: upload, dry run, apply


IMPORT = "/admin/resources/service/import/"


@pytest.fixture
def uploads(settings, tmp_path):
    settings.HSDS_IMPORT_DIR = tmp_path / "uploads"
    return settings.HSDS_IMPORT_DIR


def zipped(tmp_path, directory):
    package = export(tmp_path / "package.zip")
    wipe_directory()
    return package


def test_a_reviewer_sees_the_dry_run_then_applies_it(tmp_path, directory, uploads):
    from tests.test_curation import curator

    package = zipped(tmp_path, directory)
    client = Client()
    client.force_login(curator("reviewer"))
    assert "Import HSDS package" in client.get("/admin/resources/service/").content.decode()

    with open(package, "rb") as handle:
        page = client.post(IMPORT, {"package": handle})

    text = page.content.decode()
    assert page.status_code == 200
    assert "What importing package.zip would do" in text
    assert "It would add organizations (2), locations (2), addresses (1), services (2)" in text
    assert '<span class="help">services.csv</span></th><td>2</td>' in text
    assert not Service.objects.exists()  # a dry run
    staged = page.context["staged"]

    done = client.post(IMPORT, {"staged": staged, "source": "package.zip", "apply": "yes"})

    assert done.status_code == 302
    assert Service.objects.count() == 2
    assert set(Service.objects.values_list("publication_state", flat=True)) == {"draft"}
    assert not list(uploads.iterdir())  # the upload is gone once applied


def test_a_package_with_bad_rows_shows_them_and_offers_no_apply(tmp_path, directory, uploads):
    from tests.test_curation import curator

    folder = export(tmp_path / "package")
    rows = read(folder, "services.csv")
    rows[0]["status"] = "open"
    write(folder, "services.csv", rows)
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in folder.iterdir():
            out.write(file, file.name)
    client = Client()
    client.force_login(curator("reviewer"))

    with open(archive, "rb") as handle:
        text = client.post(IMPORT, {"package": handle}).content.decode()

    assert "bad.zip cannot be imported" in text
    assert "services.csv, line 2, status: &#x27;open&#x27; is not one of" in text
    rejected = '<span class="help">services.csv</span></th><td>0</td><td>0</td><td>1</td>'
    assert rejected + "<td>0</td><td>1</td>" in text
    assert "Apply this import" not in text


def test_an_editor_may_not_import_nor_apply_anothers_upload(tmp_path, directory, uploads):
    from tests.test_curation import curator

    package = zipped(tmp_path, directory)
    reviewer, editor = Client(), Client()
    reviewer.force_login(curator("reviewer"))
    editor.force_login(curator("editor"))
    assert editor.get(IMPORT).status_code == 403
    with open(package, "rb") as handle:
        staged = reviewer.post(IMPORT, {"package": handle}).context["staged"]
    other = User.objects.create_user("other", is_staff=True)
    other.groups.add(Group.objects.get(name="Reviewers"))
    intruder = Client()
    intruder.force_login(other)

    response = intruder.post(IMPORT, {"staged": staged, "apply": "yes"})

    assert response.status_code == 302 and not Service.objects.exists()


def test_only_the_import_page_takes_a_file(client):
    response = Client().post("/admin/login/", {"file": io.BytesIO(b"x")})
    assert response.status_code == 415


def test_imported_services_are_found_by_words_and_filters(tmp_path, directory, client):
    service = directory[0]
    need = service.needs.get()
    package = export(tmp_path / "package")
    wipe_directory()

    import_package(package, publish=True)

    found = client.get("/api/v1/services/", {"q": service.name, "need": need.slug}).json()
    assert [s["id"] for s in found["results"]] == [str(service.pk)]


def test_published_imports_reach_the_change_feed_and_drafts_do_not(tmp_path, directory):
    package = export(tmp_path / "package")
    wipe_directory()
    ServiceChange.objects.all().delete()

    import_package(package)
    assert not ServiceChange.objects.exists()  # drafts are not public

    import_package(package, publish=True)
    published = {line.service_id for line in ServiceChange.objects.filter(published=True)}
    assert published == {s.pk for s in directory}


def test_a_tag_the_package_no_longer_gives_is_taken_off(tmp_path, directory):
    service = directory[0]
    extra = make_need(slug="housing", name="Housing")
    service.needs.add(extra)
    package = export(tmp_path / "package")
    attributes = read(package, "attributes.csv")
    write(
        package, "attributes.csv", [a for a in attributes if a["taxonomy_term_id"] != str(extra.pk)]
    )

    report = import_package(package)

    assert report.applied and report.counts["service"]["changed"] == 1
    assert extra not in service.needs.all() and service.needs.exists()


def test_a_change_to_a_services_own_fields_is_recorded_and_can_be_undone(tmp_path, directory):
    service = directory[0]
    original = service.name
    package = export(tmp_path / "package")
    services = read(package, "services.csv")
    for row in services:
        if row["id"] == str(service.pk):
            row["name"] = "Renamed by the package"
    write(package, "services.csv", services)

    import_package(package)

    newest, before = list(Version.objects.get_for_object(service))[:2]
    assert newest.revision.comment == "Imported from package."
    assert newest.field_dict["name"] == "Renamed by the package"
    history.restore(before, user=None)
    service.refresh_from_db()
    assert service.name == original


def test_a_package_too_slow_for_the_web_is_left_to_the_command(
    tmp_path, directory, uploads, settings, monkeypatch
):
    from django.db import connection

    from resources.hsds import imports
    from tests.test_curation import curator

    package = zipped(tmp_path, directory)
    comparing = imports.Import._compare

    def slow_compare(run, entity):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.2)")  # a statement past the web's budget
        comparing(run, entity)

    monkeypatch.setattr(imports.Import, "_compare", slow_compare)
    settings.HSDS_IMPORT_TIMEOUT = 0.05
    client = Client()
    client.force_login(curator("reviewer"))

    with open(package, "rb") as handle:
        page = client.post(IMPORT, {"package": handle})

    assert page.status_code == 200
    assert "takes more than the 0.05 seconds an import may take here" in page.content.decode()
    assert "manage.py import_hsds" in page.content.decode()
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"id": 1}\n{"broken": \n', "services.ndjson, line 2: not JSON: Expecting value"),
        ("[1, 2]\n", "services.ndjson, line 1: not an HSDS service (a JSON object of one)"),
        ('{"phones": 7}\n', "services.ndjson, line 1: not an HSDS service (a JSON object of one)"),
        (
            '{"phones": ["x"]}\n',
            "services.ndjson, line 1: not an HSDS service (a JSON object of one)",
        ),
    ],
)
def test_ndjson_that_is_not_services_is_refused_by_line(tmp_path, text, expected):
    path = tmp_path / "services.ndjson"
    path.write_text(text)

    report = import_package(path)

    assert not report.applied
    assert expected in [str(error) for error in report.errors]


# What an import must never lose (found in review)


def test_a_changed_phone_changes_its_service_and_is_recorded(tmp_path, directory):
    service = directory[0]
    before = datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    Service.objects.filter(pk=service.pk).update(modified=before)  # as the package says
    package = export(tmp_path / "package")
    phones = read(package, "phones.csv")
    for row in phones:
        if row["service_id"] == str(service.pk):
            row["number"] = "(312) 555-0142"
    write(package, "phones.csv", phones)

    report = import_package(package)

    assert report.counts["service"]["changed"] == 1
    newest = Version.objects.get_for_object(service).first()
    assert newest.revision.comment == "Imported from package."
    service.refresh_from_db()
    assert service.modified > before  # partners see it changed now, not backdated


def test_a_phone_the_package_no_longer_lists_goes_with_its_languages(tmp_path, directory):
    service = directory[0]
    spoken = next(p for p in service.phones.all() if p.languages.exists())
    package = export(tmp_path / "package")
    write(
        package, "phones.csv", [p for p in read(package, "phones.csv") if p["id"] != str(spoken.pk)]
    )
    write(
        package,
        "languages.csv",
        [row for row in read(package, "languages.csv") if row["phone_id"] != str(spoken.pk)],
    )

    report = import_package(package)  # its references are checked before it ends

    assert report.applied, report.errors
    assert report.counts["phone"]["removed"] == 1
    assert not Phone.objects.filter(pk=spoken.pk).exists()


def test_what_a_package_leaves_out_is_left_as_it_is(tmp_path, directory):
    service = directory[0]
    organization_phone = make_phone(organization=service.organization, number="(312) 555-0177")
    verified = service.last_verified = datetime.date(2026, 11, 2)
    service.save()
    package = export(tmp_path / "package")
    for name in ("phones.csv", "attributes.csv", "languages.csv"):
        (package / name).unlink()
    services = read(package, "services.csv")
    for row in services:
        row["assured_date"] = ""
    write(package, "services.csv", services)
    needs, phones = set(service.needs.all()), set(service.phones.all())

    report = import_package(package)

    assert report.applied and not any(c["removed"] for c in report.counts.values())
    assert set(service.needs.all()) == needs and set(service.phones.all()) == phones
    assert Phone.objects.filter(pk=organization_phone.pk).exists()
    service.refresh_from_db()
    assert service.last_verified == verified


def test_nested_services_never_take_away_an_organizations_phones(tmp_path, directory):
    phone = make_phone(organization=directory[0].organization, number="(312) 555-0177")
    lines = tmp_path / "services.ndjson"
    call_command("export_hsds", str(lines))

    report = import_package(lines)

    assert report.applied
    assert Phone.objects.filter(pk=phone.pk).exists()


def test_a_row_not_kept_leaves_the_stored_row_with_its_id(tmp_path, directory):
    package = export(tmp_path / "package")
    addresses = read(package, "addresses.csv")
    addresses[0]["state_province"] = "Illinois"
    write(package, "addresses.csv", addresses)

    report = import_package(package)

    assert report.applied
    assert Address.objects.get(pk=addresses[0]["id"]).state_province == "IL"


def test_a_package_that_leaves_a_shelter_unreachable_is_refused(tmp_path, directory):
    shelter = Location.objects.get(confidential=True)
    package = export(tmp_path / "package")
    phones = read(package, "phones.csv")
    write(package, "phones.csv", [p for p in phones if p["location_id"] != str(shelter.pk)])

    errors = refused(package)

    assert any("A confidential location needs a way to reach" in e for e in errors)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"id": [1], "name": "x"}\n', "line 1: not an HSDS service (a JSON object of one)"),
        ('{"schedules": ["x"]}\n', "line 1: not an HSDS service (a JSON object of one)"),
        ('{"id": ' + "9" * 5000 + "}\n", "line 1: not JSON: Exceeds the limit"),
    ],
)
def test_odd_json_is_refused_not_a_crash(tmp_path, text, expected):
    path = tmp_path / "services.ndjson"
    path.write_text(text)

    errors = [str(error) for error in import_package(path).errors]

    assert any(expected in error for error in errors), errors


def test_a_csv_with_a_column_twice_or_a_nul_is_refused(tmp_path, directory):
    package = export(tmp_path / "package")
    rows = read(package, "organizations.csv")
    rows[0]["alternate_name"] = "Bad\x00name"
    write(package, "organizations.csv", rows)
    text = (package / "services.csv").read_text().replace(",description,", ",name,", 1)
    (package / "services.csv").write_text(text)

    errors = refused(package)

    assert "services.csv, line 1, name: the column is there twice" in errors
    assert "organizations.csv, line 2, alternate_name: contains a NUL character" in errors
