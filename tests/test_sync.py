"""What a partner mirroring the directory relies on: last_modified covers everything a
service shows, modified_after is on or after, a service that left answers 410 Gone, and
the change feed replays without missing or repeating a change."""

import datetime

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from resources import publishing
from resources.models import (
    Address,
    Language,
    Location,
    Need,
    Organization,
    Phone,
    PublicationState,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceChange,
)
from tests.factories import (
    make_language,
    make_location,
    make_need,
    make_phone,
    make_population,
    make_service,
)

CHANGES = "/api/v1/changes/"
LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


def shown_service():
    """A published service with a place, a phone, hours, an area and tags, last modified
    long ago."""
    need, population = make_need(name="Legal aid"), make_population(name="Youth")
    service = make_service(needs=[need], populations=[population], languages=[make_language()])
    place = make_location(organization=service.organization)
    ServiceAtLocation.objects.create(service=service, location=place)
    Address.objects.create(
        location=place,
        address_1="1 Main St",
        city="Springfield",
        state_province="IL",
        postal_code="62701",
    )
    make_phone(service=service)
    make_phone(location=place, number="(217) 555-0100")
    Schedule.objects.create(service=service, weekday=1, opens_at="09:00", closes_at="17:00")
    ServiceArea.objects.create(service=service, extent=ServiceArea.Extent.STATE, state="IL")
    Service.objects.filter(pk=service.pk).update(modified=LONG_AGO)
    return service


def places(service):
    return Location.objects.filter(service_at_locations__service=service)


EDITS = {
    "organization renamed": lambda s: Organization.objects.filter(pk=s.organization_id).update(
        name="Renamed organization"
    ),
    "location renamed": lambda s: places(s).update(name="New name"),
    "address changed": lambda s: Address.objects.filter(location__in=places(s)).update(
        city="Chicago"
    ),
    "location phone changed": lambda s: Phone.objects.filter(location__in=places(s)).update(
        number="(217) 555-0199"
    ),
    "phone changed": lambda s: s.phones.update(description="After hours"),
    "phone added": lambda s: make_phone(service=s, number="(217) 555-0142"),
    "hours changed": lambda s: s.schedules.update(closes_at="18:00"),
    "hours removed": lambda s: s.schedules.all().delete(),
    "area changed": lambda s: s.service_areas.update(state="WI"),
    "place unlinked": lambda s: s.service_at_locations.all().delete(),
    "need added": lambda s: s.needs.add(make_need(name="Housing")),
    "need renamed": lambda s: Need.objects.filter(services=s).update(name="Legal help"),
    "population removed": lambda s: s.populations.clear(),
    "language renamed": lambda s: Language.objects.filter(services=s).update(name="Inglés"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("edit", list(EDITS))
def test_editing_anything_a_service_shows_moves_its_last_modified(edit):
    service = shown_service()
    EDITS[edit](service)
    assert Service.objects.get(pk=service.pk).modified > LONG_AGO, edit


@pytest.mark.django_db
def test_modified_after_is_on_or_after(client):
    service = make_service(name="Exactly then")
    at = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    Service.objects.filter(pk=service.pk).update(modified=at)
    for path in ("/", "/api/v1/services/", "/api/hsds/services"):
        assert (
            "Exactly then" in client.get(path, {"modified_after": at.isoformat()}).content.decode()
        )


# 410 Gone


@pytest.mark.django_db(transaction=True)
def test_a_service_that_left_answers_410_with_the_date_a_draft_stays_404(client):
    left = make_service(name="Closed program")
    publishing.archive([left])
    draft = make_service(name="Not yet", publication_state=PublicationState.DRAFT)
    for base, end in (("/api/v1/services/", "/"), ("/api/hsds/services/", "")):
        response = client.get(f"{base}{left.pk}{end}")
        assert response.status_code == 410, base
        assert response.json()["removed"].startswith(timezone.now().date().isoformat())
        assert "left the public directory on" in response.json()["detail"]
        assert client.get(f"{base}{draft.pk}{end}").status_code == 404
        assert client.get(f"{base}not-an-id{end}").status_code == 404


# The change feed


def feed(client, since=None):
    response = client.get(CHANGES, {} if since is None else {"since": since})
    assert response.status_code == 200, response.content
    return response.json()


def lines(page):
    return [(line["id"], line["change"]) for line in page["changes"]]


@pytest.mark.django_db(transaction=True)
def test_the_feed_lists_updates_and_removals_in_order_from_a_cursor(client):
    start = feed(client)
    assert start["changes"] == [] and start["more"] is False

    service = make_service(name="New program")
    draft = make_service(name="Draft", publication_state=PublicationState.DRAFT)
    make_phone(service=service, number="(312) 555-0100")
    make_phone(service=draft)  # a draft's changes are nobody's business
    publishing.archive([service])

    page = feed(client, start["next"])
    assert lines(page) == [
        (str(service.pk), "updated"),  # published
        (str(service.pk), "updated"),  # its phone
        (str(service.pk), "removed"),  # archived
    ]
    # Replaying from the end repeats nothing.
    assert feed(client, page["next"])["changes"] == []


@pytest.mark.django_db(transaction=True)
def test_the_feed_pages_with_more(client, monkeypatch):
    from resources.api.views import ChangeFeedView

    monkeypatch.setattr(ChangeFeedView, "PAGE_SIZE", 2)
    start = feed(client)["next"]
    services = [make_service() for _ in range(3)]
    first = feed(client, start)
    second = feed(client, first["next"])
    assert first["more"] is True and second["more"] is False
    assert [i for i, _ in lines(first) + lines(second)] == [str(s.pk) for s in services]


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_late_is_not_missed(client):
    """A transaction that began first but commits last: its change is held back until it
    ends, so a partner's cursor never passes it."""
    start = feed(client)["next"]
    early = make_service(name="Early")
    database = connection.settings_dict
    late_writer = psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"],
        host=database["HOST"],
        port=database["PORT"] or None,
    )
    try:
        with late_writer.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")  # its transaction id, first
            later = make_service(name="Later")  # committed now, by the test's connection
            cursor.execute(
                "UPDATE resources_service SET modified = clock_timestamp() WHERE id = %s",
                [early.pk],
            )
            while_open = feed(client, start)
            assert lines(while_open) == [(str(early.pk), "updated")]
        late_writer.commit()
    finally:
        late_writer.close()
    after = feed(client, while_open["next"])
    assert lines(after) == [(str(early.pk), "updated"), (str(later.pk), "updated")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("yesterday", "Not a cursor of this feed"),
        ("1.", "Not a cursor of this feed"),
        ("12.5; DROP TABLE x", "Not a cursor of this feed"),
        ("99999999999.1", "beyond the end of the feed"),
    ],
)
def test_a_cursor_the_feed_never_gave_is_a_400_naming_it(client, since, message):
    response = client.get(CHANGES, {"since": since})
    assert response.status_code == 400
    assert message in response.json()["since"][0]


@pytest.mark.django_db(transaction=True)
def test_a_cursor_older_than_the_feed_keeps_is_a_400_saying_so(client, settings):
    settings.CHANGE_FEED_DAYS = 90
    old_cursor = feed(client)["next"]
    first = make_service(name="Long ago")
    kept_cursor = feed(client, old_cursor)["next"]
    assert lines(feed(client, old_cursor)) == [(str(first.pk), "updated")]
    ServiceChange.objects.update(at=timezone.now() - datetime.timedelta(days=91))
    recent = make_service(name="Recent")

    call_command("prune_changes")

    too_old = client.get(CHANGES, {"since": old_cursor})
    assert too_old.status_code == 400
    assert "too old" in too_old.json()["since"][0]
    # A cursor at or after where the feed now starts goes on as before.
    assert lines(feed(client, kept_cursor)) == [(str(recent.pk), "updated")]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/services/{id}/", "/api/hsds/services/{id}"])
def test_asking_again_about_an_unchanged_service_costs_one_narrow_query(client, path):
    from django.test.utils import CaptureQueriesContext

    service = shown_service()
    url = path.format(id=service.pk)
    first = client.get(url)
    assert first.status_code == 200

    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    directory_queries = [q["sql"] for q in queries if "resources_" in q["sql"]]
    assert len(directory_queries) == 1, directory_queries

    # A phone changed: the service's modified moved, so its answer is new.
    Phone.objects.filter(service=service).update(description="After hours")
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert "After hours" in changed.content.decode()
