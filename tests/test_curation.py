"""Curation a coalition can trust: who may do what, the review workflow, history and undo,
verification, and the admin's shortcuts."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from resources import history, publishing
from resources.models import (
    Organization,
    Phone,
    PublicationState,
    Schedule,
    Service,
    ServiceAtLocation,
    Suggestion,
)
from tests.factories import make_location, make_need, make_organization, make_phone, make_service
from tests.test_admin import inline_management

pytestmark = pytest.mark.django_db

State = PublicationState
CHANGELIST = "/admin/resources/service/"


def curator(role):
    """A staff account as a coalition would set it up: in a group, not a superuser."""
    user = User.objects.create_user(role, password="a long enough passphrase", is_staff=True)
    if role == "view-only":
        user.user_permissions.set(Permission.objects.filter(codename="view_service"))
    elif role in ("editor", "reviewer"):
        user.groups.add(
            Group.objects.get(name={"editor": "Editors", "reviewer": "Reviewers"}[role])
        )
    return user


def sign_in(client, role):
    if role != "anonymous":
        client.force_login(curator(role))
    return client


def change_url(obj):
    return reverse(f"admin:resources_{obj._meta.model_name}_change", args=[obj.pk])


def service_in(state, **fields):
    return make_service(publication_state=state, source_url="https://example.org/x", **fields)


def edit_form(service, **overrides):
    """The change form as a browser would send it back, with the version it was loaded at."""
    data = {
        "name": service.name,
        "slug": service.slug,
        "organization": str(service.organization_id),
        "status": service.status,
        "source_url": service.source_url,
        "source_document": service.source_document,
        "edited_version": service.modified.isoformat(),
        **inline_management("service_at_locations"),
        **inline_management("phones"),
        **inline_management("schedules"),
        **inline_management("service_areas"),
        **inline_management("suggestions"),
    }
    phones = list(service.phones.all())
    if phones:
        data.update(
            {"phones-TOTAL_FORMS": str(len(phones)), "phones-INITIAL_FORMS": str(len(phones))}
        )
        for i, phone in enumerate(phones):
            data.update(
                {
                    f"phones-{i}-id": str(phone.pk),
                    f"phones-{i}-service": str(service.pk),
                    f"phones-{i}-number": phone.number,
                    f"phones-{i}-type": phone.type,
                    f"phones-{i}-position": str(phone.position),
                }
            )
    data.update(overrides)
    return data


def bulk(action, *services):
    """A bulk action's POST; for publishing, as confirmed after reading each service."""
    data = {"action": action, "_selected_action": [s.pk for s in services]}
    if action == "publish":
        data["confirmed"] = "yes"
        data.update({f"seen-{s.pk}": s.modified.isoformat() for s in services})
    return data


# Roles


def test_the_two_groups_exist_with_their_permissions():
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    reviewers = set(
        Group.objects.get(name="Reviewers").permissions.values_list("codename", flat=True)
    )
    assert {"add_service", "change_service", "view_need"} <= editors
    assert "publish_service" not in editors
    assert reviewers == editors | {"publish_service"}
    assert not {"delete_service", "delete_organization", "delete_location"} & reviewers


TRANSITION_FROM = {
    "submit": State.DRAFT,
    "publish": State.IN_REVIEW,
    "send_back": State.IN_REVIEW,
    "archive": State.PUBLISHED,
    "unarchive": State.ARCHIVED,
}
ALLOWED = {
    "anonymous": set(),
    "view-only": set(),
    "editor": {"submit"},
    "reviewer": {"submit", "publish", "send_back", "archive", "unarchive", "verify"},
}
ROLES = list(ALLOWED)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(TRANSITION_FROM))
def test_each_workflow_step_as_a_bulk_action_needs_its_role(client, role, name):
    service = service_in(TRANSITION_FROM[name])
    sign_in(client, role).post(CHANGELIST, bulk(name, service))
    moved = Service.objects.get(pk=service.pk).publication_state != TRANSITION_FROM[name]
    assert moved == (name in ALLOWED[role])
    assert LogEntry.objects.exists() == (name in ALLOWED[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(TRANSITION_FROM))
def test_each_workflow_step_by_a_crafted_post_needs_its_role(client, role, name):
    service = service_in(TRANSITION_FROM[name])
    url = reverse("admin:resources_service_transition", args=[service.pk, name])
    response = sign_in(client, role).post(url, {"edited_version": service.modified.isoformat()})
    moved = Service.objects.get(pk=service.pk).publication_state != TRANSITION_FROM[name]
    assert moved == (name in ALLOWED[role])
    if role == "anonymous":
        assert response.status_code == 302 and "/login/" in response["Location"]
    elif name not in ALLOWED[role]:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_marking_verified_needs_a_reviewer(client, role):
    service = service_in(State.PUBLISHED)
    sign_in(client, role).post(
        CHANGELIST, {"action": "mark_verified_today", "_selected_action": [service.pk]}
    )
    service.refresh_from_db()
    assert (service.last_verified is not None) == ("verify" in ALLOWED[role])
    if "verify" in ALLOWED[role]:
        assert service.last_verified_by.username == role


EDITABLE = {
    "anonymous": set(),
    "view-only": set(),
    "editor": {State.DRAFT, State.IN_REVIEW},
    "reviewer": {State.DRAFT, State.IN_REVIEW, State.PUBLISHED},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", list(State))
def test_who_may_change_a_service_in_each_state(client, role, state):
    service = service_in(state, name="Clinic")
    client = sign_in(client, role)

    page = client.get(change_url(service))
    response = client.post(change_url(service), edit_form(service, name="Renamed clinic"))

    renamed = Service.objects.get(pk=service.pk).name == "Renamed clinic"
    assert renamed == (state in EDITABLE[role])
    if role == "anonymous":
        assert page.status_code == 302
    else:
        assert page.status_code == 200
        assert ('name="_save"' in page.content.decode()) == (state in EDITABLE[role])
        if state not in EDITABLE[role]:
            assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_nobody_deletes_a_service_organization_or_location(client, role):
    service = service_in(State.DRAFT)
    location = make_location(organization=service.organization)
    client = sign_in(client, role)
    for obj in (service, service.organization, location):
        url = reverse(f"admin:resources_{obj._meta.model_name}_delete", args=[obj.pk])
        client.post(url, {"post": "yes"})
        assert type(obj).objects.filter(pk=obj.pk).exists()


def test_an_editor_cannot_publish_through_the_state_field(client):
    service = service_in(State.DRAFT)
    sign_in(client, "editor").post(
        change_url(service), edit_form(service, publication_state="published")
    )
    assert Service.objects.get(pk=service.pk).publication_state == State.DRAFT


# Review


def test_publishing_is_only_from_review():
    reviewer = curator("reviewer")
    draft = service_in(State.DRAFT)
    outcome = publishing.apply(publishing.TRANSITIONS["publish"], [draft], reviewer)
    assert draft in outcome.refused and "only a service in review" in outcome.refused[draft]
    assert Service.objects.get(pk=draft.pk).publication_state == State.DRAFT


def test_a_reviewer_sees_what_changed_since_the_published_version(client):
    reviewer = curator("reviewer")
    service = service_in(State.PUBLISHED, name="Legal help", description="Free advice.")
    publishing.apply(publishing.TRANSITIONS["archive"], [service], reviewer)
    publishing.apply(publishing.TRANSITIONS["unarchive"], [service], reviewer)
    service.refresh_from_db()
    service.description = "Free advice and court accompaniment."
    service.save()
    make_phone(service=service, number="(312) 555-0199")
    publishing.apply(publishing.TRANSITIONS["submit"], [service], reviewer)

    client.force_login(reviewer)
    html = client.get(change_url(service)).content.decode()
    assert "Changes since it was published" in html
    assert "Free advice and court accompaniment." in html
    assert "Phone added" in html and "(312) 555-0199" in html

    # The bulk action shows the same before publishing anything.
    page = client.post(CHANGELIST, {"action": "publish", "_selected_action": [service.pk]})
    assert "Free advice and court accompaniment." in page.content.decode()
    assert Service.objects.get(pk=service.pk).publication_state == State.IN_REVIEW


def test_staff_preview_a_draft_as_the_public_page_shows_it(client):
    draft = service_in(State.DRAFT, name="Upcoming clinic")
    preview = reverse("resources:service_preview", args=[draft.slug])

    assert client.get(preview).status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404

    sign_in(client, "editor")
    response = client.get(preview)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Upcoming clinic" in html and "Preview" in html and "not on the public site" in html
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    page = client.get(change_url(draft)).content.decode()
    assert preview in page  # "View on site" leads to the preview


# History and undo


def test_every_change_is_recorded_with_who_and_old_and_new_values(client):
    service = service_in(State.DRAFT, name="Clinic", description="Old words.")
    phone = make_phone(service=service, number="(312) 555-0100")
    sign_in(client, "editor")

    data = edit_form(service, description="New words.")
    data["phones-0-number"] = "(312) 555-0111"
    response = client.post(change_url(service), data)
    assert response.status_code == 302

    versions = list(history.versions(service))
    assert len(versions) == 2  # as it was before, then the editor's change
    assert versions[0].revision.user.username == "editor"
    changes = history.changes(
        history.Snapshot.of_version(versions[1]), history.Snapshot.of_version(versions[0])
    )
    assert ("Description", "Old words.", "New words.") in [
        (c.what.capitalize(), c.old, c.new) for c in changes
    ]
    assert any(c.old == "(312) 555-0100" and c.new == "(312) 555-0111" for c in changes)

    page = client.get(reverse("admin:resources_service_history", args=[service.pk]))
    html = page.content.decode()
    assert "Old words." in html and "New words." in html
    assert "Restore this version" not in html  # a reviewer's
    assert Phone.objects.get(pk=phone.pk).number == "(312) 555-0111"


def test_restoring_a_version_brings_back_the_service_and_its_rows_in_one_step(client):
    need = make_need(name="Legal aid")
    service = service_in(State.DRAFT, name="Clinic", description="Before.", needs=[need])
    make_phone(service=service, number="(312) 555-0100")
    reviewer = curator("reviewer")
    history.ensure_baseline(service)
    original = history.versions(service).first()

    service.description = "After."
    service.save()
    service.needs.clear()
    service.phones.all().delete()
    Schedule.objects.create(service=service, notes="By appointment")
    publishing.apply(publishing.TRANSITIONS["submit"], [service], reviewer)

    client.force_login(reviewer)
    url = reverse("admin:resources_service_restore", args=[service.pk, original.pk])
    response = client.post(url)
    assert response.status_code == 302

    service = Service.objects.get(pk=service.pk)
    assert service.description == "Before."
    assert list(service.needs.all()) == [need]
    assert [p.number for p in service.phones.all()] == ["(312) 555-0100"]
    assert not service.schedules.exists()
    # The workflow's state is not undone with the content.
    assert service.publication_state == State.IN_REVIEW
    latest = history.versions(service).first()
    assert latest.revision.comment.startswith("Restored the version of")
    assert latest.revision.user == reviewer


def test_a_version_whose_organization_is_gone_is_not_restored_half_way(client):
    old_organization = make_organization(name="Closed coalition")
    service = service_in(State.DRAFT, description="Before.", organization=old_organization)
    history.ensure_baseline(service)
    original = history.versions(service).first()
    service.organization = make_organization(name="New home")
    service.description = "After."
    service.save()
    make_phone(service=service)
    old_organization.delete()

    client.force_login(curator("reviewer"))
    url = reverse("admin:resources_service_restore", args=[service.pk, original.pk])
    response = client.post(url, follow=True)

    assert "cannot be restored, because its organization has since been deleted" in (
        response.content.decode()
    )
    service = Service.objects.get(pk=service.pk)
    assert service.description == "After." and service.organization.name == "New home"
    assert service.phones.count() == 1


def test_the_workflow_and_verification_are_recorded_too():
    reviewer = curator("reviewer")
    service = service_in(State.IN_REVIEW)
    publishing.apply(publishing.TRANSITIONS["publish"], [service], reviewer)
    publishing.mark_verified([service], reviewer)
    comments = [v.revision.comment for v in history.versions(service)]
    assert comments[:2] == [
        f"Verified its details on {timezone.localdate():%d %b %Y}.",
        "Published.",
    ]


def test_two_curators_saving_at_once_the_second_is_told_and_nothing_is_lost(client):
    service = service_in(State.DRAFT, name="Clinic", description="Original.")
    first, second = edit_form(service), edit_form(service)  # both opened the same page

    sign_in(client, "editor")
    first["description"] = "First curator's words."
    assert client.post(change_url(service), first).status_code == 302

    second["description"] = "Second curator's words."
    response = client.post(change_url(service), second)
    assert response.status_code == 200
    html = response.content.decode()
    assert "while you were editing it" in html and "Second curator&#x27;s words." in html
    assert Service.objects.get(pk=service.pk).description == "First curator's words."

    # Saving again, having been told, is deliberate; the first's words stay in history.
    second["edited_version"] = response.context["adminform"].form["edited_version"].value()
    assert client.post(change_url(service), second).status_code == 302
    assert Service.objects.get(pk=service.pk).description == "Second curator's words."
    recorded = [v.field_dict["description"] for v in history.versions(service)]
    assert "First curator's words." in recorded


# Verification


def test_the_needs_verification_list_is_oldest_first(client, settings):
    settings.VERIFY_AFTER_DAYS = 180
    today = timezone.localdate()
    fresh = service_in(State.PUBLISHED, name="Fresh", last_verified=today)
    old = service_in(State.PUBLISHED, name="Old", last_verified=today - datetime.timedelta(400))
    older = service_in(State.PUBLISHED, name="Older", last_verified=today - datetime.timedelta(800))
    never = service_in(State.PUBLISHED, name="Never")

    sign_in(client, "reviewer")
    response = client.get(CHANGELIST, {"verification": "due"})
    shown = [s.name for s in response.context["cl"].result_list]
    assert shown == ["Never", "Older", "Old"]
    assert fresh.name not in shown

    client.post(
        CHANGELIST,
        {"action": "mark_verified_today", "_selected_action": [old.pk, older.pk, never.pk]},
    )
    response = client.get(CHANGELIST, {"verification": "due"})
    assert list(response.context["cl"].result_list) == []
    assert Service.objects.get(pk=never.pk).last_verified_by.username == "reviewer"


def test_the_admin_index_counts_the_work_waiting(client):
    service_in(State.IN_REVIEW)
    waiting = service_in(State.PUBLISHED)
    Suggestion.objects.create(service=waiting, message="The phone number has changed.")
    sign_in(client, "editor")
    html = client.get("/admin/").content.decode()
    assert "1</strong> waiting for review" in html
    assert "2</strong> published, not verified for 180 days" not in html  # one is in review
    assert "1</strong> published, not verified for 180 days" in html
    assert "1</strong> open suggestions from the public" in html


# Less typing


def test_one_schedule_entry_covers_several_weekdays(client):
    service = service_in(State.DRAFT)
    sign_in(client, "editor")
    data = edit_form(
        service,
        **{
            "schedules-TOTAL_FORMS": "1",
            "schedules-0-weekday": ["1", "2", "3", "4", "5"],
            "schedules-0-opens_at": "09:00",
            "schedules-0-closes_at": "17:00",
        },
    )
    assert client.post(change_url(service), data).status_code == 302
    rows = Schedule.objects.filter(service=service).order_by("weekday")
    assert [(r.weekday, f"{r.opens_at:%H:%M}", f"{r.closes_at:%H:%M}") for r in rows] == [
        (day, "09:00", "17:00") for day in range(1, 6)
    ]


def test_the_hours_have_plain_time_inputs_without_the_time_zone_note(client):
    service = service_in(State.DRAFT)
    Schedule.objects.create(service=service, weekday=1, opens_at="09:00", closes_at="17:00")
    sign_in(client, "editor")
    html = client.get(change_url(service)).content.decode()
    assert 'type="time"' in html
    assert "vTimeField" not in html


def test_adding_a_service_creates_its_organization_and_place_in_the_same_form(client):
    sign_in(client, "editor")
    data = {
        "name": "Walk-in legal clinic",
        "slug": "walk-in-legal-clinic",
        "status": "active",
        "new_organization": "Lakeside Legal Collective",
        "place_name": "Lakeside office",
        "place_address": "100 Main St",
        "place_city": "Springfield",
        "place_state": "il",
        "place_zip": "62701",
        **inline_management("service_at_locations"),
        **inline_management("phones"),
        **inline_management("schedules"),
        **inline_management("service_areas"),
        **inline_management("suggestions"),
    }
    response = client.post(reverse("admin:resources_service_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    service = Service.objects.get(slug="walk-in-legal-clinic")
    assert service.organization.name == "Lakeside Legal Collective"
    assert service.publication_state == State.DRAFT
    link = ServiceAtLocation.objects.get(service=service)
    assert link.location.organization == service.organization
    address = link.location.addresses.get()
    assert (address.address_1, address.city, address.state_province) == (
        "100 Main St",
        "Springfield",
        "IL",
    )


def test_a_close_name_is_pointed_out_before_saving(client):
    existing = make_organization(name="Heartland Alliance")
    sign_in(client, "editor")
    data = {
        "name": "Heartland Aliance",
        "slug": "heartland-aliance",
        **inline_management("phones"),
        **inline_management("locations"),
    }
    response = client.post(reverse("admin:resources_organization_add"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Already here under a close name" in html and change_url(existing) in html
    assert Organization.objects.count() == 1

    data["not_a_duplicate"] = "1"
    assert client.post(reverse("admin:resources_organization_add"), data).status_code == 302
    assert Organization.objects.count() == 2


def test_the_same_organization_name_twice_is_refused():
    make_organization(name="Safe Harbor")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="already here"):
        Organization(name="safe harbor", slug="safe-harbor-2").full_clean()


def test_the_service_list_shows_state_verification_and_open_suggestions(client):
    service = service_in(State.PUBLISHED, name="Clinic", last_verified=datetime.date(2026, 6, 1))
    Suggestion.objects.create(service=service, message="Closed on Fridays now.")
    sign_in(client, "editor")
    response = client.get(CHANGELIST)
    html = response.content.decode()
    for header in ("State", "Verified", "Suggestions"):
        assert header in html
    row = next(r for r in response.context["cl"].result_list if r.pk == service.pk)
    assert row.open_suggestion_count == 1


def test_history_keeps_versions_of_organizations_and_locations(client):
    organization = make_organization(name="Old name")
    sign_in(client, "editor")
    data = {
        "name": "Brand new name",
        "slug": organization.slug,
        "edited_version": organization.modified.isoformat(),
        "not_a_duplicate": "1",
        **inline_management("phones"),
        **inline_management("locations"),
    }
    assert client.post(change_url(organization), data).status_code == 302
    versions = Version.objects.get_for_object(organization)
    assert [v.field_dict["name"] for v in versions] == ["Brand new name", "Old name"]


def test_a_row_changed_on_its_own_page_is_recorded_in_its_service_history(client):
    draft = service_in(State.DRAFT)
    phone = make_phone(service=draft, number="(312) 555-0100")
    sign_in(client, "editor")
    data = {
        "number": "(312) 555-0123",
        "type": "voice",
        "position": "0",
        "service": str(draft.pk),
    }
    assert client.post(change_url(phone), data).status_code == 302
    newest, before = history.versions(draft)[:2]
    changes = history.changes(
        history.Snapshot.of_version(before), history.Snapshot.of_version(newest)
    )
    assert [(c.old, c.new) for c in changes] == [("(312) 555-0100", "(312) 555-0123")]
    assert newest.revision.user.username == "editor"


def test_an_editor_cannot_change_or_delete_a_published_service_row_on_its_own_page(client):
    published = service_in(State.PUBLISHED)
    phone = make_phone(service=published, number="(312) 555-0100")
    sign_in(client, "editor")
    data = {"number": "(312) 555-0199", "type": "voice", "position": "0", "service": published.pk}
    assert client.post(change_url(phone), data).status_code == 403
    delete = reverse("admin:resources_phone_delete", args=[phone.pk])
    client.post(delete, {"post": "yes"})
    assert Phone.objects.get(pk=phone.pk).number == "(312) 555-0100"


def test_an_editor_cannot_add_a_row_to_a_published_service_on_its_own_page(client):
    published = service_in(State.PUBLISHED)
    sign_in(client, "editor")
    data = {"number": "(312) 555-0199", "type": "voice", "position": "0", "service": published.pk}
    assert client.post(reverse("admin:resources_phone_add"), data).status_code == 403
    assert not published.phones.exists()


def test_what_a_published_service_shows_is_a_reviewers_to_change(client):
    published = service_in(State.PUBLISHED)
    shelter = make_location(organization=published.organization, name="Shelter")
    ServiceAtLocation.objects.create(service=published, location=shelter)
    draft_only = make_location(name="Future office")
    sign_in(client, "editor")
    for obj, editable in [
        (shelter, False),
        (published.organization, False),
        (draft_only, True),
    ]:
        page = client.get(change_url(obj)).content.decode()
        assert ('name="_save"' in page) == editable, obj


def test_only_a_reviewer_restores_a_version(client):
    draft = service_in(State.DRAFT, description="Before.")
    history.ensure_baseline(draft)
    original = history.versions(draft).first()
    Service.objects.filter(pk=draft.pk).update(description="After.")
    url = reverse("admin:resources_service_restore", args=[draft.pk, original.pk])
    assert sign_in(client, "editor").post(url).status_code == 403
    assert Service.objects.get(pk=draft.pk).description == "After."


def test_a_version_that_clashes_with_a_newer_entry_is_refused_in_words(client):
    draft = service_in(State.DRAFT, slug="clinic")
    history.ensure_baseline(draft)
    original = history.versions(draft).first()
    Service.objects.filter(pk=draft.pk).update(slug="clinic-old")
    service_in(State.DRAFT, slug="clinic")  # the old slug, taken since

    client.force_login(curator("reviewer"))
    url = reverse("admin:resources_service_restore", args=[draft.pk, original.pk])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "clashes with what the directory holds now" in response.content.decode()
    assert Service.objects.get(pk=draft.pk).slug == "clinic-old"


def test_bulk_publishing_leaves_what_changed_after_the_review(client):
    service = service_in(State.IN_REVIEW, description="Reviewed words.")
    reviewed = service.modified.isoformat()
    service.description = "Words nobody reviewed."
    service.save()
    sign_in(client, "reviewer")
    response = client.post(
        CHANGELIST,
        {
            "action": "publish",
            "confirmed": "yes",
            "_selected_action": [service.pk],
            f"seen-{service.pk}": reviewed,
        },
        follow=True,
    )
    assert "changed after you reviewed it" in response.content.decode()
    assert Service.objects.get(pk=service.pk).publication_state == State.IN_REVIEW


def test_a_day_ticked_twice_or_already_there_is_not_written_twice(client):
    service = service_in(State.DRAFT)
    Schedule.objects.create(service=service, weekday=2, opens_at="09:00", closes_at="17:00")
    sign_in(client, "editor")
    data = edit_form(
        service,
        **{
            "schedules-TOTAL_FORMS": "1",
            "schedules-0-weekday": ["1", "1", "2"],
            "schedules-0-opens_at": "09:00",
            "schedules-0-closes_at": "17:00",
        },
    )
    assert client.post(change_url(service), data).status_code == 302
    assert sorted(service.schedules.values_list("weekday", flat=True)) == [1, 2]


def test_a_row_changed_elsewhere_makes_an_open_service_form_out_of_date(client):
    draft = service_in(State.DRAFT)
    phone = make_phone(service=draft, number="(312) 555-0100")
    opened = edit_form(draft)  # a curator has the service open
    sign_in(client, "editor")
    data = {"number": "(312) 555-0123", "type": "voice", "position": "0", "service": draft.pk}
    assert client.post(change_url(phone), data).status_code == 302

    response = client.post(change_url(draft), opened)
    assert "while you were editing it" in response.content.decode()
    assert Phone.objects.get(pk=phone.pk).number == "(312) 555-0123"


def test_a_service_history_shows_changes_to_its_organization_and_places_too(client):
    service = service_in(State.DRAFT)
    place = make_location(name="Old office", organization=service.organization)
    ServiceAtLocation.objects.create(service=service, location=place)
    history.ensure_baseline(place)
    place.name = "New office"
    place.save()
    history.record(place, curator("reviewer"), "Renamed.")

    client.force_login(User.objects.get(username="reviewer"))
    html = client.get(reverse("admin:resources_service_history", args=[service.pk])).content
    html = html.decode()
    assert "its location “" in html and "Old office" in html and "New office" in html
    assert reverse("admin:resources_location_history", args=[place.pk]) in html
