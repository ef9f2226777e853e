"""What search and the filters read, kept by PostgreSQL itself: the one place with SQL.

Each service row holds three derived columns:

- `search_vector`: its words, weighted (name A; organization, needs, populations,
  keywords B; description C), stemmed and accent-free (the english_unaccent
  configuration of migration 0003);
- `filter_vector`: one token per need, population and language it is tagged with, per
  state it answers for, `nationwide`, `open:24/7`, and one per hour of the week during
  all of which it or one of its locations is open (see the filters below);
- `place_bits`: the states of its place tokens as bits, kept in the listing index.

PublishedName holds the published services' names (the A part of the vector), and
SearchWord the words typo correction chooses from.

`resources_index_services(ids)` computes all of it for some services (all when NULL).
Triggers on every table it reads call it for the services a statement touched, so no
write path leaves it stale: a save, update(), bulk_create, a fixture, an import, SQL by
hand. (Only a session that turns triggers off, as seed_demo's bulk load does, must call
reindex() itself.) install() puts the function and the triggers in place after every
migrate and re-indexes every service when their definition has changed.
"""

import hashlib
import re
from contextlib import contextmanager

import psycopg
from django.contrib.postgres.search import SearchQueryField
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import BooleanField, F, Func, Value
from django.db.models.functions import Cast

from resources.models import Address, Location, PublicationState
from resources.places import METERS_PER_MILE

SEARCH_CONFIG = "english_unaccent"

# Filter tokens
#
# A filter is `filter_vector @@ 'a' | 'b'`: PostgreSQL intersects it with the other
# filters and the words in the GIN indexes of the services' one table, before reading a
# single service, where joins would build and hash each filter's set of services first.

NATIONWIDE = "nationwide"
OPEN_24_7 = "open:24/7"
SAFE_TOKEN = re.compile(r"[\w:/-]+")


def filter_token(kind, value):
    """The token of a need, population or language (kind "need", ...; value its primary
    key) or of a state (kind "state"; value its code, as stored)."""
    return f"{kind}:{value}"


def open_hour_token(weekday, hour):
    """The token of a service open from `hour`:00 until the next hour (0-23) on
    `weekday` (ISO, 1-7): "open:0" is Monday 00:00-01:00, "open:167" Sunday 23:00-24:00."""
    return f"open:{(weekday - 1) * 24 + hour}"


class HasAnyToken(Func):
    """Whether a service's filter_vector holds any of `tokens`. They are compared as they
    are (cast to tsquery, never parsed, stemmed or lower-cased)."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()

    def __init__(self, tokens):
        tokens = sorted(tokens)
        if not tokens or not all(SAFE_TOKEN.fullmatch(token) for token in tokens):
            raise ValueError(f"Not a list of filter tokens: {tokens!r}")
        query = " | ".join(f"'{token}'" for token in tokens)
        super().__init__(F("filter_vector"), Cast(Value(query), SearchQueryField()))


# Place bits
#
# A state's listing (services in or serving IL, by name) matches one service in a dozen,
# so PostgreSQL walks the listing index in name order and checks each service. Its
# place_bits are in that index, where its tokens are in its row.

# Every USPS code: the states, DC, the territories, the freely associated states and the
# armed forces' codes. Bit i of place_bits stands for PLACE_TOKENS[i]: 63 of 64 bits.
STATE_CODES = """
    AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH
    NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI FM MH
    PW AA AE AP
""".split()  # noqa: SIM905
PLACE_TOKENS = (NATIONWIDE, *(filter_token("state", code) for code in STATE_CODES))


def place_mask(state):
    """The bits of a state's services and of nationwide ones, or None for a code without
    a bit (any two letters are a valid state filter). `state` is upper-case, as stored."""
    token = filter_token("state", state)
    if token not in PLACE_TOKENS:
        return None
    return 1 << PLACE_TOKENS.index(NATIONWIDE) | 1 << PLACE_TOKENS.index(token)


class HasAnyBit(Func):
    """Whether a service's place_bits share any bit with `mask` (an int, written into the
    SQL as digits)."""

    template = "(%(expressions)s & %(mask)s <> 0)"
    output_field = BooleanField()

    def __init__(self, mask):
        super().__init__(F("place_bits"), mask=int(mask))


# The index function

SCHEDULES = """
    SELECT service_id, weekday, opens_at, closes_at, open_24_7
    FROM resources_schedule WHERE service_id IS NOT NULL
    UNION ALL
    SELECT sal.service_id, h.weekday, h.opens_at, h.closes_at, h.open_24_7
    FROM resources_schedule h
    JOIN resources_serviceatlocation sal ON sal.location_id = h.location_id
"""

# Each service's filter tokens (array_to_tsvector drops repeats). Hours are not secret, so
# confidential locations' count; their addresses never answer a place filter.
TOKENS = """
    SELECT x.service_id, array_to_tsvector(array_agg(x.token)) AS tokens
    FROM (
        SELECT service_id, 'need:' || need_id AS token FROM resources_service_needs
        UNION ALL
        SELECT service_id, 'population:' || population_id FROM resources_service_populations
        UNION ALL
        SELECT service_id, 'language:' || language_id FROM resources_service_languages
        UNION ALL
        SELECT service_id,
               CASE WHEN extent = 'nationwide' THEN 'nationwide' ELSE 'state:' || state END
        FROM resources_servicearea
        WHERE extent = 'nationwide' OR state <> ''
        UNION ALL
        SELECT sal.service_id, 'state:' || a.state_province
        FROM resources_serviceatlocation sal
        JOIN ({public_addresses}) a ON a.location_id = sal.location_id
        WHERE a.state_province <> ''
        UNION ALL
        SELECT s.service_id, 'open:24/7' FROM ({schedules}) s WHERE s.open_24_7
        UNION ALL
        -- Each hour the schedule covers from its first moment to its last: from the first
        -- whole hour at or after it opens to the last that ends by its closing (so none
        -- for 23:00-24:00, which no closing time reaches).
        SELECT s.service_id, 'open:' || ((s.weekday - 1) * 24 + hour)
        FROM ({schedules}) s,
             generate_series(ceil(extract(epoch FROM s.opens_at) / 3600)::int,
                             floor(extract(epoch FROM s.closes_at) / 3600)::int - 1) AS hour
        WHERE s.weekday IS NOT NULL
    ) x
    {only_x}
    GROUP BY x.service_id
"""

# A term's name, with its parent's and grandparent's: "legal" finds immigration help.
TERM_NAMES = """
    SELECT x.service_id,
           string_agg(concat_ws(' ', t.name, p.name, g.name), ' ' ORDER BY t.name) AS names
    FROM resources_service_{terms} x
    JOIN resources_{term} t ON t.id = x.{term}_id
    LEFT JOIN resources_{term} p ON p.id = t.parent_id
    LEFT JOIN resources_{term} g ON g.id = p.parent_id
    {only_x}
    GROUP BY x.service_id
"""

# The languages a service is offered in, by name: "Spanish" finds them.
LANGUAGE_NAMES = """
    SELECT x.service_id, string_agg(l.name, ' ' ORDER BY l.name) AS names
    FROM resources_service_languages x
    JOIN resources_language l ON l.code = x.language_id
    {only_x}
    GROUP BY x.service_id
"""

REFRESH = """
    {clear_words}
    WITH needs AS ({need_names}), populations AS ({population_names}),
    languages AS ({language_names}),
    documents AS (
        SELECT s.id,
               concat_ws(' ', s.name, s.alternate_name) AS names,
               concat_ws(' ', o.name, s.keywords, n.names, p.names, l.names) AS terms,
               concat_ws(' ', s.description, s.eligibility_description) AS prose,
               s.publication_state = '{published}' AS published
        FROM resources_service s
        LEFT JOIN resources_organization o ON o.id = s.organization_id
        LEFT JOIN needs n ON n.service_id = s.id
        LEFT JOIN populations p ON p.service_id = s.id
        LEFT JOIN languages l ON l.service_id = s.id
        {only_s}
    ),
    tokens AS ({tokens}),
    refreshed AS (
        UPDATE resources_service s SET
            search_vector =
                setweight(to_tsvector('{config}', d.names), 'A')
                || setweight(to_tsvector('{config}', d.terms), 'B')
                || setweight(to_tsvector('{config}', d.prose), 'C'),
            filter_vector = COALESCE(t.tokens, ''::tsvector),
            place_bits = COALESCE((
                SELECT bit_or(1::bigint << (array_position({places}, token) - 1))
                FROM unnest(tsvector_to_array(t.tokens)) AS token
                WHERE token = ANY({places})
            ), 0)
        FROM documents d LEFT JOIN tokens t ON t.service_id = d.id
        WHERE d.id = s.id
    )
    -- The words typo correction chooses from: published services' names, keywords and
    -- taxonomy terms (descriptions would add noise, not help; a draft's words must never
    -- be offered as "did you mean").
    INSERT INTO resources_searchword (word)
    SELECT DISTINCT word
    FROM documents d,
         regexp_split_to_table(lower(unaccent(d.names || ' ' || d.terms)), '[^a-z0-9]+') AS word
    WHERE d.published AND length(word) > 2 AND word !~ '^[0-9]+$'
    ON CONFLICT (word) DO NOTHING;

    DELETE FROM resources_publishedname {only_service};
    INSERT INTO resources_publishedname (service_id, name, vector)
    SELECT id, name, ts_filter(search_vector, '{{a}}'::"char"[])
    FROM resources_service
    WHERE publication_state = '{published}' AND search_vector IS NOT NULL {and_only_id};
"""

INDEX_FUNCTION = """
CREATE OR REPLACE FUNCTION resources_index_services(ids uuid[]) RETURNS void
-- Compiling its plan costs more than JIT saves, even for every service.
LANGUAGE plpgsql SET jit = off AS $function$
BEGIN
    -- Its own writes to the services' rows are not a reason to index them again.
    PERFORM set_config('resources.indexing', 'on', true);
    -- Two copies of the statements, so that each is planned for what it does: some
    -- services by their ids, or every one.
    IF ids IS NULL THEN
        {refresh_all}
    ELSIF cardinality(ids) > 0 THEN
        {refresh_some}
    END IF;
    PERFORM set_config('resources.indexing', 'off', true);
END
$function$
"""


def refresh_statements(connection, *, some):
    only = "WHERE {} = ANY(ids)" if some else ""
    public = Address.objects.public().order_by().values("location_id", "state_province").query
    public_addresses = connection.ops.compose_sql(*public.sql_with_params())
    places = "ARRAY[{}]::text[]".format(", ".join(f"'{token}'" for token in PLACE_TOKENS))
    tokens = TOKENS.format(
        public_addresses=public_addresses, schedules=SCHEDULES, only_x=only.format("x.service_id")
    )
    term_names = {
        f"{term}_names": TERM_NAMES.format(
            terms=f"{term}s", term=term, only_x=only.format("x.service_id")
        )
        for term in ("need", "population")
    }
    return REFRESH.format(
        # A full rebuild starts the vocabulary afresh: words of services since unpublished
        # or deleted go.
        clear_words="" if some else "DELETE FROM resources_searchword;",
        **term_names,
        language_names=LANGUAGE_NAMES.format(only_x=only.format("x.service_id")),
        tokens=tokens,
        only_s=only.format("s.id"),
        only_service=only.format("service_id"),
        and_only_id="AND id = ANY(ids)" if some else "",
        config=SEARCH_CONFIG,
        places=places,
        published=PublicationState.PUBLISHED,
    )


# The triggers: for each table, the services a statement's rows (`touched`) speak for.
# Where a column list is given, an update counts only when one of them changed.
TERM_SERVICES = """
    , below AS (
        SELECT id FROM touched
        UNION SELECT t.id FROM resources_{term} t JOIN below ON t.parent_id = below.id
    )
    SELECT service_id FROM resources_service_{term}s WHERE {term}_id IN (SELECT id FROM below)
"""
AT_LOCATIONS = """
    SELECT sal.service_id FROM touched r
    JOIN resources_serviceatlocation sal ON sal.location_id = r.{column}
"""
WATCHED = {
    "resources_service": (
        "SELECT id FROM touched",
        ["name", "alternate_name", "organization_id", "keywords", "description"]
        + ["eligibility_description", "publication_state"]
        # A save() from a copy loaded before the last index (or made with none) writes
        # its stale copy of these back: index it again.
        + ["search_vector", "filter_vector", "place_bits"],
    ),
    "resources_organization": (
        "SELECT s.id FROM resources_service s JOIN touched r ON s.organization_id = r.id",
        ["name"],
    ),
    "resources_need": (TERM_SERVICES.format(term="need"), ["name", "parent_id"]),
    "resources_population": (TERM_SERVICES.format(term="population"), ["name", "parent_id"]),
    "resources_language": (
        "SELECT service_id FROM resources_service_languages"
        " WHERE language_id IN (SELECT code FROM touched)",
        ["name"],
    ),
    "resources_service_needs": ("SELECT service_id FROM touched", None),
    "resources_service_populations": ("SELECT service_id FROM touched", None),
    "resources_service_languages": ("SELECT service_id FROM touched", None),
    "resources_servicearea": ("SELECT service_id FROM touched", None),
    "resources_serviceatlocation": ("SELECT service_id FROM touched", None),
    "resources_location": (AT_LOCATIONS.format(column="id"), ["confidential"]),
    "resources_address": (AT_LOCATIONS.format(column="location_id"), None),
    "resources_schedule": (
        "SELECT service_id FROM touched WHERE service_id IS NOT NULL UNION ALL "
        + AT_LOCATIONS.format(column="location_id"),
        None,
    ),
}

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_reindex() RETURNS trigger
LANGUAGE plpgsql AS $function$
BEGIN
    IF current_setting('resources.indexing', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM resources_index_services(ARRAY(
            WITH RECURSIVE touched AS (SELECT * FROM new_rows) {services}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM resources_index_services(ARRAY(
            WITH RECURSIVE touched AS (SELECT * FROM old_rows) {services}));
    ELSE
        PERFORM resources_index_services(ARRAY(
            WITH RECURSIVE touched AS ({changed}) {services}));
    END IF;
    RETURN NULL;
END
$function$
"""
# One statement-level trigger per kind of write on `table`, each handing `function` the
# rows the statement wrote (also resources.sync's, under another `name`).
STATEMENT_TRIGGERS = """
CREATE OR REPLACE TRIGGER {name}_inserted AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE OR REPLACE TRIGGER {name}_updated AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE OR REPLACE TRIGGER {name}_deleted AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


# The services with a public location within `meters` of a point, and how far: by the
# location's own coordinates, or else its public address's ZIP code's centroid. A
# confidential location is never a place (resources.places.services_near). The boxes
# come from the GiST indexes; distances from `<@>`, a plain great-circle formula far
# cheaper than cube's, with the mean Earth radius where earth_box() takes the equatorial
# one (0.11% larger): the boxes are widened by 0.2% to hold every point within reach.
SERVICES_NEAR = """
CREATE OR REPLACE FUNCTION resources_services_near(lat float8, lon float8, meters float8)
RETURNS TABLE (service_id uuid, meters float8)
LANGUAGE sql STABLE AS $function$
    WITH box AS (SELECT earth_box(ll_to_earth(lat, lon), meters * 1.002) AS cube),
    points AS (
        SELECT l.id AS location_id, point(l.longitude::float8, l.latitude::float8) AS point
        FROM ({public_locations}) l, box
        WHERE l.latitude IS NOT NULL
          AND box.cube @> ll_to_earth(l.latitude::float8, l.longitude::float8)
        UNION ALL
        SELECT a.location_id, point(z.longitude, z.latitude)
        FROM ({public_addresses}) a
        JOIN resources_location l ON l.id = a.location_id AND l.latitude IS NULL
        JOIN resources_zipcode z ON z.code = left(a.postal_code, 5), box
        WHERE box.cube @> ll_to_earth(z.latitude, z.longitude)
    ),
    distances AS (
        SELECT p.location_id, (p.point <@> point(lon, lat)) * {meters_per_mile} AS meters
        FROM points p
    )
    SELECT sal.service_id, min(d.meters)
    FROM distances d
    JOIN resources_serviceatlocation sal ON sal.location_id = d.location_id
    WHERE d.meters <= resources_services_near.meters
    GROUP BY sal.service_id
$function$
"""


def changed_rows(columns, key):
    """An update's rows, before and after (a row moved to another service speaks for
    both), or only those whose `columns` changed (rows matched by their `key`)."""
    if columns is None:
        return "SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows"
    old = ", ".join(f"o.{column}" for column in columns)
    new = ", ".join(f"n.{column}" for column in columns)
    pair = f"FROM new_rows n JOIN old_rows o ON o.{key} = n.{key}"
    changed = f"({old}) IS DISTINCT FROM ({new})"
    return f"SELECT n.* {pair} WHERE {changed} UNION ALL SELECT o.* {pair} WHERE {changed}"


def definitions(connection):
    def sql_of(queryset):
        return connection.ops.compose_sql(*queryset.query.sql_with_params())

    statements = [
        INDEX_FUNCTION.format(
            refresh_all=refresh_statements(connection, some=False),
            refresh_some=refresh_statements(connection, some=True),
        ),
        SERVICES_NEAR.format(
            meters_per_mile=METERS_PER_MILE,
            public_locations=sql_of(
                Location.objects.public().order_by().values("id", "latitude", "longitude")
            ),
            public_addresses=sql_of(
                Address.objects.public().order_by().values("location_id", "postal_code")
            ),
        ),
    ]
    for table, (services, columns) in WATCHED.items():
        key = "code" if table == "resources_language" else "id"
        changed = changed_rows(columns, key)
        statements.append(TRIGGER_FUNCTION.format(table=table, services=services, changed=changed))
        statements.append(
            STATEMENT_TRIGGERS.format(name=table, table=table, function=f"{table}_reindex")
        )
    return statements


def install(using):
    """Put the index function and its triggers in place, and re-index every service if
    they have changed since they were last put there. A database migrated back to an
    older schema gets none of them: they read today's tables."""
    connection = connections[using]
    if not fully_migrated(connection):
        uninstall(connection)
        return
    statements = definitions(connection)
    version = hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(to_regprocedure('resources_index_services(uuid[])'), 'pg_proc')"
        )
        if cursor.fetchone()[0] == version:
            return
        with transaction.atomic(using=using):
            for statement in statements:
                cursor.execute(statement)
            cursor.execute("SELECT resources_index_services(NULL)")
            cursor.execute(f"COMMENT ON FUNCTION resources_index_services(uuid[]) IS '{version}'")


def uninstall(connection):
    with connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION IF EXISTS resources_index_services(uuid[])")
        cursor.execute("DROP FUNCTION IF EXISTS resources_services_near(float8, float8, float8)")
        for table in WATCHED:
            cursor.execute(f"DROP FUNCTION IF EXISTS {table}_reindex() CASCADE")


def fully_migrated(connection):
    """Whether every migration of the app is applied (the SQL reads today's tables)."""
    leaves = MigrationLoader(connection, ignore_no_migrations=True).graph.leaf_nodes("resources")
    return set(leaves) <= set(MigrationRecorder(connection).applied_migrations())


def reindex(service_ids=None, *, using="default"):
    """Re-index some services (all when None): for writes made with triggers off."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT resources_index_services(%s::uuid[])",
            [None if service_ids is None else list(service_ids)],
        )


@contextmanager
def set_locally(name, value, restored, *, using="default"):
    """A setting of the triggers' (`resources.indexing`, ...) for the rest of the block,
    within the caller's transaction."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        try:
            yield
        finally:
            # After an error the transaction is aborted, and its rollback (or the
            # savepoint's) undoes the setting: a statement now would hide the error.
            status = connection.connection.info.transaction_status
            if status != psycopg.pq.TransactionStatus.INERROR:
                cursor.execute("SELECT set_config(%s, %s, true)", [name, restored])


def indexing_paused(*, using="default"):
    """Inside a transaction, for a bulk write: the index's triggers skip each statement
    (as they do the index's own writes), and the caller reindex()es the services it wrote
    once at the end, rather than each of them once per table it touched."""
    return set_locally("resources.indexing", "on", "off", using=using)
