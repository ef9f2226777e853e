"""What a partner needs to mirror the directory faithfully.

HSDS says a service's `last_modified` covers "any related information". So when a record
a service shows changes (its organization, a location, an address, a phone, hours, an
area, a place, a tag, a tag's name), the database moves the service's `modified`; and
whenever a published service changes, is published, or leaves the public directory, the
database writes a line of the change feed (models.ServiceChange). Both are triggers, so
no writer (the admin, an import, a shell) can bypass them. They are put in place after
every migrate, as the search index's are.

The feed is read in the order of the writing transaction's id, then the line's: a line is
served only once every transaction that could still write one before it has ended, so a
partner replaying from a cursor never misses a line committed late, nor sees one twice.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from .models import ChangeFeedStart, ServiceChange
from .search.index import (
    AT_LOCATIONS,
    STATEMENT_TRIGGERS,
    TERM_SERVICES,
    fully_migrated,
    set_locally,
)

VIA_ORGANIZATION = (
    "SELECT s.id FROM resources_service s JOIN touched r ON s.organization_id = r.{column}"
)
OWN_OR_VIA_LOCATION = (
    "SELECT service_id FROM touched WHERE service_id IS NOT NULL UNION ALL "
    + AT_LOCATIONS.format(column="location_id")
)
# For each table a service shows, the services a statement's rows (`touched`) speak for.
SHOWN_BY = {
    "resources_organization": VIA_ORGANIZATION.format(column="id"),
    "resources_location": AT_LOCATIONS.format(column="id"),
    "resources_location_languages": AT_LOCATIONS.format(column="location_id"),
    "resources_address": AT_LOCATIONS.format(column="location_id"),
    "resources_phone": OWN_OR_VIA_LOCATION
    + " UNION ALL "
    + VIA_ORGANIZATION.format(column="organization_id"),
    "resources_phone_languages": (
        "SELECT p.service_id FROM resources_phone p JOIN touched r ON p.id = r.phone_id"
        " WHERE p.service_id IS NOT NULL"
    ),
    "resources_schedule": OWN_OR_VIA_LOCATION,
    "resources_servicearea": "SELECT service_id FROM touched",
    "resources_serviceatlocation": "SELECT service_id FROM touched",
    "resources_service_needs": "SELECT service_id FROM touched",
    "resources_service_populations": "SELECT service_id FROM touched",
    "resources_service_languages": "SELECT service_id FROM touched",
    "resources_service_covered_by": "SELECT from_service_id FROM touched",
    "resources_need": TERM_SERVICES.format(term="need"),
    "resources_population": TERM_SERVICES.format(term="population"),
    "resources_language": (
        "SELECT service_id FROM resources_service_languages"
        " WHERE language_id IN (SELECT code FROM touched)"
    ),
}

TOUCH_FUNCTION = """
CREATE OR REPLACE FUNCTION resources_touch_services(ids uuid[]) RETURNS void
LANGUAGE sql AS $function$
    -- Once a transaction: a service saved in it already carries a later time.
    UPDATE resources_service SET modified = now() WHERE id = ANY(ids) AND modified < now()
$function$
"""
SHOWN_FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_touch() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
    IF current_setting('resources.touching', true) = 'off' THEN
        RETURN NULL;  -- a bulk writer touches the services itself (touching_paused())
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM resources_touch_services(ARRAY(
            WITH RECURSIVE touched AS (SELECT * FROM new_rows) {services}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM resources_touch_services(ARRAY(
            WITH RECURSIVE touched AS (SELECT * FROM old_rows) {services}));
    ELSE
        PERFORM resources_touch_services(ARRAY(
            WITH RECURSIVE touched AS (SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)
            {services}));
    END IF;
    RETURN NULL;
END
$function$
"""
FEED_FUNCTION = """
CREATE OR REPLACE FUNCTION resources_service_feed() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO resources_servicechange (service_id, published, at, transaction)
        SELECT n.id, true, clock_timestamp(), pg_current_xact_id()::text::bigint
        FROM new_rows n WHERE n.publication_state = 'published';
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO resources_servicechange (service_id, published, at, transaction)
        SELECT o.id, false, clock_timestamp(), pg_current_xact_id()::text::bigint
        FROM old_rows o WHERE o.publication_state = 'published';
    ELSE
        -- Planned afresh for each statement's rows (EXECUTE): a plan kept from a small
        -- update would join a large one's rows one by one.
        EXECUTE $feed$
        INSERT INTO resources_servicechange (service_id, published, at, transaction)
        SELECT n.id, n.publication_state = 'published', clock_timestamp(),
               pg_current_xact_id()::text::bigint
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE 'published' IN (n.publication_state, o.publication_state)
          AND (n.modified, n.publication_state) IS DISTINCT FROM (o.modified, o.publication_state)
        $feed$;
    END IF;
    RETURN NULL;
END
$function$
"""


def triggers(table, function):
    return STATEMENT_TRIGGERS.format(name=f"{table}_sync", table=table, function=function)


def definitions():
    statements = [TOUCH_FUNCTION, FEED_FUNCTION]
    statements.append(triggers("resources_service", "resources_service_feed"))
    for table, services in SHOWN_BY.items():
        statements.append(SHOWN_FUNCTION.format(table=table, services=services))
        statements.append(triggers(table, f"{table}_touch"))
    return statements


def touching_paused(*, using="default"):
    """Inside a transaction, for a bulk write that knows which services it changed (an
    import): the tables' triggers leave the services' `modified` alone, and the writer
    moves it once for each of them at the end, rather than once per table it wrote.
    The change feed's trigger goes on as ever."""
    return set_locally("resources.touching", "off", "on", using=using)


def install(using):
    """Put the triggers in place (again, when they have changed), on a database with every
    migration applied; on an older schema, take them away."""
    connection = connections[using]
    if not fully_migrated(connection):
        uninstall(connection)
        return
    statements = definitions()
    version = hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(to_regprocedure('resources_touch_services(uuid[])'), 'pg_proc')"
        )
        if cursor.fetchone()[0] == version:
            return
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"COMMENT ON FUNCTION resources_touch_services(uuid[]) IS '{version}'")


def uninstall(connection):
    with connection.cursor() as cursor:  # the triggers go with their functions
        cursor.execute("DROP FUNCTION IF EXISTS resources_service_feed() CASCADE")
        for table in SHOWN_BY:
            cursor.execute(f"DROP FUNCTION IF EXISTS {table}_touch() CASCADE")
        cursor.execute("DROP FUNCTION IF EXISTS resources_touch_services(uuid[])")


# Reading the feed


class CursorError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Cursor:
    """A place in the feed: after the line `line` of transaction `transaction`."""

    transaction: int
    line: int

    PATTERN = re.compile(r"^(\d{1,19})\.(\d{1,19})$")

    @classmethod
    def parse(cls, text):
        match = cls.PATTERN.match(text or "")
        if not match:
            raise CursorError(
                "Not a cursor of this feed: use the `next` of an earlier answer, "
                "or leave `since` out to get the current position."
            )
        return cls(int(match[1]), int(match[2]))

    def __str__(self):
        return f"{self.transaction}.{self.line}"


def settled_before(using="default"):
    """The oldest transaction id still running: every line written by a transaction
    below it is committed (or never will be), and any line still to come is above it."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cursor.fetchone()[0]


def head():
    """The feed's current end: a mirror copied after asking for it replays from it."""
    horizon = settled_before()
    last = ServiceChange.objects.filter(transaction__lt=horizon).order_by("-transaction", "-id")
    last = last.values_list("transaction", "id").first()
    return Cursor(*last) if last else Cursor(horizon - 1, 0)


def changes_since(cursor, limit):
    """The feed's lines after cursor, at most limit of them, and the cursor after them.
    Refused (CursorError) for a cursor this feed never gave (beyond its end)."""
    horizon = settled_before()
    if cursor.transaction >= horizon:
        raise CursorError("This cursor is beyond the end of the feed: it is not one it gave.")
    start = ChangeFeedStart.objects.first()
    if start is not None and cursor < Cursor(start.transaction, start.line):
        raise CursorError(
            f"This cursor is too old: the feed keeps changes for {settings.CHANGE_FEED_DAYS} "
            "days. Copy the services again, from a new cursor (leave `since` out)."
        )
    after = Q(transaction__gt=cursor.transaction) | Q(
        transaction=cursor.transaction, id__gt=cursor.line
    )
    lines = list(
        ServiceChange.objects.filter(after, transaction__lt=horizon).order_by("transaction", "id")[
            : limit + 1
        ]
    )
    more = len(lines) > limit
    lines = lines[:limit]
    end = Cursor(lines[-1].transaction, lines[-1].id) if lines else cursor
    return lines, end, more


def removed_at(service_id):
    """When the service left the public directory, if it was public and is no longer;
    else None (it is public, or never was)."""
    try:
        service_id = uuid.UUID(str(service_id))
    except ValueError:
        return None
    latest = ServiceChange.objects.filter(service_id=service_id).order_by("-id").first()
    return latest.at if latest is not None and not latest.published else None


def prune(days):
    """Forget the feed's lines older than `days`, and remember where it now starts.
    Returns how many lines went."""
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        old = ServiceChange.objects.filter(at__lt=cutoff)
        last = old.order_by("-transaction", "-id").values_list("transaction", "id").first()
        if last is None:
            return 0
        # Everything up to the last old line goes, so the feed starts cleanly after it.
        up_to = Q(transaction__lt=last[0]) | Q(transaction=last[0], id__lte=last[1])
        count, _ = ServiceChange.objects.filter(up_to).delete()
        ChangeFeedStart.objects.all().delete()
        ChangeFeedStart.objects.create(transaction=last[0], line=last[1], pruned=timezone.now())
    return count
