"""Loading the shipped directory (`make run`'s step) never undoes a curator's work."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from resources.models import (
    Need,
    Organization,
    Phone,
    PublicationState,
    Service,
    ShippedRow,
    ZipCode,
)
from resources.shipped import load_shipped

pytestmark = pytest.mark.django_db


def load_directory():
    """What `make run` runs before serving."""
    out = io.StringIO()
    call_command("load_directory", stdout=out)
    return out.getvalue()


def test_it_loads_the_whole_directory_into_an_empty_database():
    output = load_directory()

    assert Service.objects.filter(slug="national-human-trafficking-hotline").exists()
    assert Need.objects.filter(slug="legal-aid").exists()
    assert "Added" in output and "services" in output
    assert ShippedRow.objects.count() > 50


def test_loading_again_keeps_every_curators_edit():
    load_directory()
    edited = Service.objects.get(slug="national-human-trafficking-hotline")
    edited.application_process = "Call first; an advocate answers."
    edited.save()
    waiting = Service.objects.filter(publication_state=PublicationState.IN_REVIEW).first()
    waiting.organization = Organization.objects.first()
    waiting.publication_state = PublicationState.PUBLISHED
    waiting.save()

    output = load_directory()

    edited.refresh_from_db()
    waiting.refresh_from_db()
    assert edited.application_process == "Call first; an advocate answers."
    assert waiting.publication_state == PublicationState.PUBLISHED
    assert waiting.organization == Organization.objects.first()
    assert output.strip() == "Nothing new to add."


def test_loading_again_does_not_bring_back_what_a_curator_deleted():
    load_directory()
    Phone.objects.filter(number="233733").delete()
    Service.objects.get(slug="caase-legal-services").delete()

    load_directory()

    assert not Phone.objects.filter(number="233733").exists()
    assert not Service.objects.filter(slug="caase-legal-services").exists()


def ship(tmp_path, settings, added=(), changed=None, dropped=()):
    """A newer release's directory.json: today's, with rows `added`, the fields of some
    changed ({slug: {field: value}}) and the services of the slugs `dropped` left out."""
    rows = json.loads((settings.BASE_DIR / "fixtures" / "directory.json").read_text())
    rows = [row for row in rows if row["fields"].get("slug") not in dropped]
    for row in rows:
        row["fields"].update((changed or {}).get(row["fields"].get("slug"), {}))
    (tmp_path / "directory.json").write_text(json.dumps([*rows, *added]))
    settings.FIXTURE_DIRS = [tmp_path, *settings.FIXTURE_DIRS]


def test_loading_adds_what_a_newer_directory_ships(tmp_path, settings):
    load_directory()
    Need.objects.get(slug="job-placement").delete()  # a curator's choice
    ship(
        tmp_path,
        settings,
        added=[
            {
                "model": "resources.service",
                "pk": "6f1c0d39-5f0b-4b8a-9d59-3d1f3a1c2b7e",
                "fields": {
                    "slug": "a-new-program",
                    "name": "A new program",
                    "organization": str(Organization.objects.first().pk),
                    "publication_state": "published",
                    "source_url": "https://example.org/new",
                    "created": "2026-12-01T00:00:00Z",
                    "modified": "2026-12-01T00:00:00Z",
                    "needs": [
                        str(Need.objects.get(slug="legal-aid").pk),
                        "98ccbf0e-c3bb-5151-a3b5-85c9c0162ccc",  # job-placement, deleted
                    ],
                },
            }
        ],
    )

    report = load_shipped(["directory"])

    added = Service.objects.get(slug="a-new-program")
    assert [need.slug for need in added.needs.all()] == ["legal-aid"]
    assert report.added == {"services": 1}
    assert not Need.objects.filter(slug="job-placement").exists()


def test_a_new_row_whose_service_a_curator_deleted_is_skipped_and_said_so(tmp_path, settings):
    load_directory()
    caase = Service.objects.get(slug="caase-legal-services")
    caase_pk = str(caase.pk)
    caase.delete()
    phone = {"service": caase_pk, "number": "(312) 555-0100"}
    ship(tmp_path, settings, added=[{"model": "resources.phone", "pk": caase_pk, "fields": phone}])

    report = load_shipped(["directory"])

    assert not Phone.objects.filter(number="(312) 555-0100").exists()
    assert report.skipped == ["phone “(312) 555-0100”: its service was deleted here"]


def test_a_newer_release_corrects_the_rows_no_one_has_changed_and_only_those(tmp_path, settings):
    load_directory()
    edited = Service.objects.get(slug="dial-211")
    edited.description = "Our coalition's own words about 211."
    edited.save()
    ship(
        tmp_path,
        settings,
        changed={
            "careeronestop": {"fees_description": "Free, and a corrected word."},
            "dial-211": {"fees_description": "Free, and a corrected word."},
        },
    )

    report = load_shipped(["directory"])

    assert report.updated == {"services": 1}
    assert Service.objects.get(slug="careeronestop").fees_description == (
        "Free, and a corrected word."
    )
    curators = Service.objects.get(slug="dial-211")
    assert curators.description == "Our coalition's own words about 211."
    assert curators.fees_description != "Free, and a corrected word."
    assert load_shipped(["directory"]).updated == {}  # and only once


def test_a_service_a_newer_release_drops_is_archived_unless_someone_changed_it(tmp_path, settings):
    load_directory()
    Service.objects.filter(slug="crisis-text-line-volunteer").update(url="https://x.example/")
    ship(tmp_path, settings, dropped={"cdc-gettested", "crisis-text-line-volunteer"})

    report = load_shipped(["directory"])

    dropped = Service.objects.get(slug="cdc-gettested")
    assert dropped.publication_state == PublicationState.ARCHIVED  # kept, not deleted
    touched = Service.objects.get(slug="crisis-text-line-volunteer")
    assert touched.publication_state == PublicationState.PUBLISHED
    assert report.archived == [f"“{dropped.name}”"]


def test_a_database_filled_before_loads_was_recorded_is_left_as_it_is():
    call_command("loaddata", "taxonomy", "directory", verbosity=0)
    Service.objects.filter(slug="caase-legal-services").update(name="CAASE legal help (edited)")
    assert not ShippedRow.objects.exists()

    report = load_shipped()

    assert Service.objects.get(slug="caase-legal-services").name == "CAASE legal help (edited)"
    assert "services" in report.kept
    assert "services" not in report.added


def test_resetting_says_what_it_destroys_and_asks_first(monkeypatch):
    load_directory()
    Service.objects.filter(slug="caase-legal-services").update(name="Edited")
    services = Service.objects.count()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    out = io.StringIO()

    with pytest.raises(CommandError, match="Nothing was deleted"):
        call_command("reset_directory", stdout=out)

    assert f"{services} services" in out.getvalue()
    assert Service.objects.get(slug="caase-legal-services").name == "Edited"


def test_resetting_keeps_the_zip_codes_it_did_not_ship():
    load_directory()
    zip_codes = ZipCode.objects.count()
    assert zip_codes > 40_000

    call_command("reset_directory", "--no-input", stdout=io.StringIO())

    assert ZipCode.objects.count() == zip_codes


def test_resetting_puts_the_shipped_directory_back():
    load_directory()
    Service.objects.filter(slug="caase-legal-services").update(name="Edited")
    Service.objects.get(slug="national-human-trafficking-hotline").phones.all().delete()

    call_command("reset_directory", "--no-input", stdout=io.StringIO())

    assert Service.objects.get(slug="caase-legal-services").name != "Edited"
    assert Service.objects.get(slug="national-human-trafficking-hotline").phones.exists()
