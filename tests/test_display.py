"""How hours, contacts and distances read on cards, pages and the printed list."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from resources import display
from resources.models import Phone, Schedule, Service
from tests.factories import make_location, make_phone, make_service

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
# A Wednesday.
WEDNESDAY = datetime.date(2026, 12, 2)


def at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=CHICAGO)


def loaded(service):
    return Service.objects.for_results().get(pk=service.pk)


def hours(service, *spans):
    for weekday, opens, closes in spans:
        Schedule.objects.create(
            service=service,
            weekday=weekday,
            opens_at=datetime.time(*opens),
            closes_at=datetime.time(*closes),
        )


@pytest.fixture
def weekdays_nine_to_five():
    service = make_service()
    hours(service, *[(day, (9,), (17,)) for day in range(1, 6)])
    return loaded(service)


@pytest.mark.parametrize(
    "moment, text, is_open",
    [
        (at(WEDNESDAY, 10), "Open now, closes 5 p.m.", True),
        (at(WEDNESDAY, 8, 30), "Opens today 9 a.m.", False),
        (at(WEDNESDAY, 17), "Opens tomorrow 9 a.m.", False),
        (at(WEDNESDAY + datetime.timedelta(days=2), 18), "Opens Monday 9 a.m.", False),
    ],
)
def test_it_says_whether_a_service_is_open_and_until_when(
    weekdays_nine_to_five, moment, text, is_open
):
    status = display.open_status(weekdays_nine_to_five, now=moment)
    assert (status.text, status.is_open) == (text, is_open)


def test_back_to_back_hours_keep_it_open_until_the_last_closes():
    service = make_service()
    hours(service, (3, (9,), (12,)), (3, (12,), (17, 30)))
    assert display.open_status(loaded(service), now=at(WEDNESDAY, 11)).text == (
        "Open now, closes 5:30 p.m."
    )


def test_hours_at_a_location_count_and_24_7_wins():
    service = make_service()
    office = make_location()
    Schedule.objects.create(location=office, weekday=3, opens_at="13:00", closes_at="15:00")
    service.service_at_locations.create(location=office)
    assert display.open_status(loaded(service), now=at(WEDNESDAY, 14)).text == (
        "Open now, closes 3 p.m."
    )
    Schedule.objects.create(service=service, open_24_7=True)
    assert display.open_status(loaded(service), now=at(WEDNESDAY, 2)).text == "Open 24/7"


def test_a_service_without_weekly_hours_has_no_status():
    service = make_service()
    Schedule.objects.create(service=service, notes="By appointment")
    assert display.open_status(loaded(service), now=at(WEDNESDAY, 10)) is None


def test_the_week_reads_in_a_few_lines(weekdays_nine_to_five):
    service = make_service()
    hours(
        service,
        *[(day, (9,), (17,)) for day in range(1, 6)],
        (6, (10,), (14,)),
        (7, (10,), (14,)),
    )
    Schedule.objects.create(service=service, notes="Closed on federal holidays")

    assert display.weekly_hours(list(service.schedules.all())) == [
        "Mon–Fri 9 a.m.–5 p.m.",
        "Sat, Sun 10 a.m.–2 p.m.",
        "Closed on federal holidays",
    ]


def test_a_day_apart_and_split_days_are_said_as_they_are():
    service = make_service()
    hours(service, (1, (9,), (12,)), (1, (13,), (17,)), (3, (9,), (12,)), (3, (13,), (17,)))
    Schedule.objects.create(service=service, open_24_7=True)
    assert display.weekly_hours(list(service.schedules.all())) == [
        "Open 24/7",
        "Mon 9 a.m.–noon, 1 p.m.–5 p.m.",
        "Wed 9 a.m.–noon, 1 p.m.–5 p.m.",
    ]


def test_a_card_offers_every_way_to_reach_the_service_but_fax():
    service = make_service(url="https://www.help.example/", chat_url="https://chat.example/")
    make_phone(service=service, number="1-800-799-7233")
    make_phone(service=service, number="88788", type=Phone.Type.TEXT, description="Text START")
    make_phone(service=service, number="(312) 555-0101", type=Phone.Type.FAX)

    actions = display.contact_actions(loaded(service))

    assert [(a.verb, a.label, a.href) for a in actions] == [
        ("Call", "1-800-799-7233", "tel:18007997233"),
        ("Text", "88788", "sms:88788"),
        ("Chat", "online", "https://chat.example/"),
        ("Website", "help.example", "https://www.help.example/"),
    ]


@pytest.mark.parametrize(
    "distance, text",
    [(0.04, "under 0.1 miles"), (1.0, "1.0 mile"), (3.25, "3.2 miles"), (12.4, "12 miles")],
)
def test_distances_read_as_people_say_them(distance, text):
    assert display.miles(distance) == text
