"""The search filters answer from the directory as it is now: every edit to a service's
needs, populations, languages, places or hours reaches the next search. (On PostgreSQL
the filters read each service's stored filter and hours tokens, which these edits must
refresh.)"""

import datetime
from unittest import mock

import pytest
from django.core import serializers
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.utils import timezone
from django.utils.http import urlencode

from resources import filters
from resources.filters import ServiceFilter
from resources.models import (
    Address,
    Language,
    Location,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Weekday,
)
from resources.search.index import PLACE_TOKENS, HasAnyToken, filter_token, place_mask
from tests.factories import (
    make_language,
    make_location,
    make_need,
    make_population,
    make_service,
)

pytestmark = pytest.mark.django_db


def matches(**params):
    filterset = ServiceFilter(QueryDict(urlencode(params)), queryset=Service.objects.published())
    assert filterset.is_valid(), filterset.errors
    return sorted(filterset.qs.values_list("name", flat=True))


def office_in(state, service=None, **location_fields):
    location = make_location(**location_fields)
    Address.objects.create(
        location=location, address_1="1 Main St", city="Anytown", state_province=state
    )
    if service is not None:
        ServiceAtLocation.objects.create(service=service, location=location)
    return location


def test_the_state_filter_follows_addresses_locations_and_their_links():
    clinic = make_service(name="Clinic")
    office = office_in("IL", clinic)
    assert matches(state="IL") == ["Clinic"]

    address = office.addresses.get()
    address.state_province = "WI"
    address.save()
    assert matches(state="IL") == []
    assert matches(state="WI") == ["Clinic"]

    address.delete()
    assert matches(state="WI") == []

    Address.objects.create(location=office, address_1="2 Main St", state_province="IN")
    assert matches(state="IN") == ["Clinic"]

    ServiceAtLocation.objects.get(service=clinic).delete()
    assert matches(state="IN") == []

    ServiceAtLocation.objects.create(service=clinic, location=office)
    assert matches(state="IN") == ["Clinic"]

    office.delete()
    assert matches(state="IN") == []


def test_a_confidential_location_never_answers_the_state_filter():
    shelter_program = make_service(name="Shelter program")
    shelter = office_in("IL", shelter_program, confidential=True)
    assert matches(state="IL") == []

    shelter.confidential = False
    shelter.save()
    assert matches(state="IL") == ["Shelter program"]

    shelter.confidential = True
    shelter.save()
    assert matches(state="IL") == []


def test_the_state_and_nationwide_filters_follow_service_areas():
    hotline = make_service(name="Hotline")
    make_service(name="Elsewhere")
    area = ServiceArea.objects.create(service=hotline, extent="state", state="IL")
    assert matches(state="IL") == ["Hotline"]
    assert matches(nationwide="true") == []
    assert matches(nationwide="false") == ["Elsewhere", "Hotline"]

    area.extent, area.state = "nationwide", ""
    area.save()
    assert matches(state="TX") == ["Hotline"]
    assert matches(nationwide="true") == ["Hotline"]
    assert matches(nationwide="false") == ["Elsewhere"]

    area.delete()
    assert matches(state="TX") == []
    assert matches(nationwide="true") == []


def test_a_row_moved_to_another_service_or_location_moves_its_place():
    first, second = make_service(name="First"), make_service(name="Second")
    area = ServiceArea.objects.create(service=first, extent="state", state="IL")
    area.service = second
    area.save()
    assert matches(state="IL") == ["Second"]

    office = office_in("WI", first)
    elsewhere = make_location()
    ServiceAtLocation.objects.create(service=second, location=elsewhere)
    address = office.addresses.get()
    address.location = elsewhere
    address.save()
    assert matches(state="WI") == ["Second"]

    link = ServiceAtLocation.objects.get(location=elsewhere)
    link.service = first
    link.save()
    assert matches(state="WI") == ["First"]


def test_updates_in_bulk_refresh_the_services_they_touch():
    shelter_program = make_service(name="Shelter program")
    shelter = office_in("IL", shelter_program)
    hotline = make_service(name="Hotline")
    ServiceArea.objects.create(service=hotline, extent="state", state="TX")
    assert matches(state="IL") == ["Shelter program"]

    Location.objects.filter(pk=shelter.pk).update(confidential=True)
    ServiceArea.objects.filter(service=hotline).update(state="WI")

    assert matches(state="IL") == []
    assert matches(state="TX") == []
    assert matches(state="WI") == ["Hotline"]


def test_an_update_in_bulk_is_indexed_by_the_database_in_the_same_statement(
    django_assert_num_queries,
):
    offices = [office_in("IL", make_service(name=f"Clinic {n}")) for n in range(6)]

    with django_assert_num_queries(1):
        Location.objects.filter(pk__in=[o.pk for o in offices]).update(confidential=True)

    assert matches(state="IL") == []


def test_writes_made_without_django_are_indexed_too():
    clinic = make_service(name="Clinic")
    ServiceArea.objects.create(service=clinic, extent="state", state="TX")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE resources_servicearea SET state = 'WI'")
        cursor.execute(
            "INSERT INTO resources_service_languages (service_id, language_id) VALUES (%s, %s)",
            [clinic.pk, make_language("es", "Spanish").pk],
        )

    assert matches(state="TX") == []
    assert matches(state="WI") == ["Clinic"]
    assert matches(language="es") == ["Clinic"]


def test_saving_a_copy_made_before_its_index_does_not_unindex_the_service():
    legal = make_need(slug="legal-aid")
    clinic = make_service(name="Clinic", needs=[legal])  # its copy holds no vectors
    clinic.url = "https://clinic.example/"
    clinic.save()  # writes that copy's empty vectors back

    assert matches(need="legal-aid") == ["Clinic"]
    assert matches(q="clinic") == ["Clinic"]


def test_loading_a_fixture_over_indexed_services_leaves_them_indexed():
    legal = make_need(slug="legal-aid")
    clinic = make_service(name="Clinic", needs=[legal])
    for row in serializers.deserialize("json", serializers.serialize("json", [clinic])):
        row.save()  # as loaddata does: raw, with the fixture's (empty) vectors

    assert matches(need="legal-aid") == ["Clinic"]


def test_renaming_a_need_reindexes_the_services_of_the_needs_below_it():
    legal = make_need(name="Legal aid", slug="legal-aid")
    visas = make_need(name="Visas", slug="visas", parent=legal)
    make_service(name="Desk", needs=[visas])

    legal.name = "Lawyers"
    legal.save()

    assert matches(q="lawyers") == ["Desk"]


def test_a_fixture_moving_an_address_refreshes_both_sides():
    first, second = make_service(name="First"), make_service(name="Second")
    office = office_in("WI", first)
    elsewhere = make_location()
    ServiceAtLocation.objects.create(service=second, location=elsewhere)
    moved = serializers.serialize("json", office.addresses.all())
    moved = moved.replace(str(office.pk), str(elsewhere.pk))

    for row in serializers.deserialize("json", moved):
        row.save()  # as loaddata saves: raw, as if the row were new

    assert matches(state="WI") == ["Second"]


def test_a_schedule_of_both_a_service_and_a_location_counts_for_both():
    own = make_service(name="Own")
    placed = make_service(name="Placed")
    office = office_in("IL", placed)
    Schedule.objects.create(service=own, location=office, open_24_7=True)

    assert matches(is_24_7="true") == ["Own", "Placed"]


def test_the_index_command_rebuilds_what_bulk_writes_left_out():
    call_command("seed_demo", "--services", "40", "--seed", "3", verbosity=0)
    expected = matches(language="es"), matches(state="IL"), matches(is_24_7="true")
    assert all(expected)  # the sample holds each
    Service.objects.update(filter_vector=None)  # as rows written without Django would be

    call_command("index_services")

    assert (matches(language="es"), matches(state="IL"), matches(is_24_7="true")) == expected


def test_tag_filters_follow_tagging_from_either_side():
    legal = make_need(slug="legal-aid")
    youth = make_population(slug="youth")
    spanish = make_language("es", "Spanish")
    clinic = make_service(name="Clinic")

    clinic.needs.add(legal)
    youth.services.add(clinic)
    spanish.services.add(clinic)
    assert matches(need="legal-aid", population="youth", language="es") == ["Clinic"]

    clinic.languages.remove(spanish)
    assert matches(language="es") == []

    legal.services.clear()
    assert matches(need="legal-aid") == []
    assert matches(population="youth") == ["Clinic"]


def test_a_deleted_and_recreated_language_does_not_come_back_to_its_old_services():
    make_service(name="Clinic", languages=[make_language("es", "Spanish")])
    assert matches(language="es") == ["Clinic"]

    Language.objects.get(code="es").delete()
    make_language("es", "Spanish")

    assert matches(language="es") == []


MONDAY = Weekday.MONDAY


def at(hour, minute, second=0, microsecond=0, weekday=MONDAY):
    """Pretend it is that time on `weekday` (in the week of 2026-11-23, a Monday)."""
    when = datetime.datetime(2026, 11, 22 + weekday, hour, minute, second, microsecond)
    return mock.patch.object(filters.timezone, "localtime", return_value=timezone.make_aware(when))


def open_from(service, opens, closes, weekday=MONDAY, **owner):
    return Schedule.objects.create(
        service=None if owner else service,
        weekday=weekday,
        opens_at=datetime.time(*opens),
        closes_at=datetime.time(*closes),
        **owner,
    )


def test_open_now_is_exact_to_the_minute_at_any_time_within_the_hour():
    open_from(make_service(name="All day"), (9, 0), (17, 0))
    open_from(make_service(name="Opened at half past"), (9, 30), (17, 0))
    open_from(make_service(name="Closes at ten to"), (8, 0), (9, 50))
    open_from(make_service(name="Closed at a quarter to"), (8, 0), (9, 45))
    open_from(make_service(name="Opens at a quarter to"), (9, 45), (12, 0))
    open_from(make_service(name="Not yet"), (9, 46), (12, 0))
    open_from(make_service(name="Tuesdays"), (9, 0), (17, 0), weekday=Weekday.TUESDAY)
    Schedule.objects.create(service=make_service(name="Always"), open_24_7=True)
    at_office = make_service(name="At its office")
    office = office_in("IL", at_office)
    open_from(None, (9, 0), (10, 0), location=office)

    with at(9, 45):
        assert matches(open_now="true") == [
            "All day",
            "Always",
            "At its office",
            "Closes at ten to",
            "Opened at half past",
            "Opens at a quarter to",
        ]
        assert matches(open_now="false") == ["Closed at a quarter to", "Not yet", "Tuesdays"]
    with at(9, 44, 59, 999_999):
        assert "Closed at a quarter to" in matches(open_now="true")
        assert "Opens at a quarter to" not in matches(open_now="true")
    with at(10, 0):
        assert "At its office" not in matches(open_now="true")


def test_open_now_late_at_night():
    open_from(make_service(name="Evenings"), (18, 0), (23, 59, 59))
    with at(23, 30):
        assert matches(open_now="true") == ["Evenings"]


def test_hours_filters_follow_schedules_of_the_service_and_its_locations():
    clinic = make_service(name="Clinic")
    with at(10, 15):
        assert matches(open_now="true") == []

        own = open_from(clinic, (9, 0), (12, 0))
        assert matches(open_now="true") == ["Clinic"]

        own.closes_at = datetime.time(10, 0)
        own.save()
        assert matches(open_now="true") == []

        office = office_in("IL", clinic)
        Schedule.objects.create(location=office, open_24_7=True)
        assert matches(open_now="true") == ["Clinic"]
        assert matches(is_24_7="true") == ["Clinic"]

        office.schedules.all().delete()
        assert matches(open_now="true") == []
        assert matches(is_24_7="true") == []


def test_a_sub_need_answers_the_filter_of_the_need_above_it():
    legal = make_need(slug="legal-aid")
    immigration = make_need(slug="immigration", parent=legal)
    make_service(name="Visa help", needs=[immigration])

    assert matches(need="legal-aid") == ["Visa help"]
    assert matches(need="immigration") == ["Visa help"]


def test_filters_answer_for_services_written_in_bulk():
    """seed_demo writes with COPY and the triggers off, and indexes what it wrote itself:
    its services answer the filters as ones saved one by one would."""
    call_command("seed_demo", "--services", "60", "--seed", "7", verbosity=0)
    services = Service.objects.published().prefetch_related(
        "service_areas", "languages", "service_at_locations__location__addresses"
    )

    def answers_for_illinois(service):
        areas = service.service_areas.all()
        addresses = [
            address
            for link in service.service_at_locations.all()
            if not link.location.confidential
            for address in link.location.addresses.all()
        ]
        return any(a.extent == "nationwide" or a.state == "IL" for a in areas) or any(
            a.state_province == "IL" for a in addresses
        )

    expected_illinois = sorted(s.name for s in services if answers_for_illinois(s))
    expected_spanish = sorted(
        s.name for s in services if any(lang.code == "es" for lang in s.languages.all())
    )
    assert expected_illinois and expected_spanish  # the sample holds both
    assert matches(state="IL") == expected_illinois
    assert matches(language="es") == expected_spanish
    # A state alone reads the place bits; with another filter, the tokens.
    assert matches(state="IL", language="es") == sorted(
        set(expected_illinois) & set(expected_spanish)
    )


def test_tag_and_place_filters_read_the_filter_tokens_through_their_index():
    make_service(name="Clinic", needs=[make_need(slug="legal-aid")])
    filterset = ServiceFilter(
        QueryDict("need=legal-aid&state=IL"), queryset=Service.objects.published()
    )
    assert filterset.is_valid()

    def plan(queryset):
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small is read whole
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())

    filtered = plan(filterset.qs)
    assert "filter_vector @@" in filtered, filtered
    assert "resources_service_needs" not in filtered and "resources_address" not in filtered
    # The filters' expression is one the GIN index answers.
    by_tokens = plan(Service.objects.filter(HasAnyToken([filter_token("state", "IL")])))
    assert "service_filter_vector_gin" in by_tokens, by_tokens


def test_a_state_code_outside_the_usps_list_still_finds_its_services():
    service = make_service(name="Clinic")
    ServiceArea.objects.create(service=service, extent="state", state="ZZ")
    office_in("AP", service)  # the last of the place bits
    office_in("AL", service)  # the first state's
    assert matches(state="zz") == ["Clinic"]
    assert matches(state="AP") == ["Clinic"]
    assert matches(state="AL") == ["Clinic"]
    assert matches(state="AK") == []
    assert matches(state="zz", nationwide="false") == ["Clinic"]  # through the tokens


def test_place_bits_fit_in_a_bigint():
    assert len(PLACE_TOKENS) <= 63 and len(set(PLACE_TOKENS)) == len(PLACE_TOKENS)
    assert place_mask("ZZ") is None


def test_a_states_listing_reads_only_the_listing_index():
    office_in("IL", make_service(name="Clinic"))
    filterset = ServiceFilter(QueryDict("state=IL"), queryset=Service.objects.published())
    assert filterset.is_valid()
    sql, params = filterset.qs.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # Only an index-only scan is left (on a table this small, the planner would rather
        # read the whole table, or pick another index for the one row it expects).
        cursor.execute("ANALYZE resources_service")
        for plan_type in ("seqscan", "bitmapscan", "indexscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{plan_type} = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Only Scan using service_listing_idx" in plan, plan
    assert "filter_vector" not in plan, plan


def test_an_address_where_no_service_is_offered_answers_no_filter():
    office_in("IL")
    assert matches(state="IL") == []
