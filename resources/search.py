"""The one search function behind the search page, the REST API and the HSDS profile.

A query is split into clauses: words, "quoted phrases" and -excluded words. Every
clause must match somewhere in a service (its name, organization, needs, populations,
keywords or description). A clause that is a curated synonym ("lawyer", "a place to
stay") also matches the needs and terms the synonym maps to.

PostgreSQL matches clauses against a stored, weighted tsvector (stemmed, accents
ignored), ranks by relevance and corrects words it has never seen by trigram
similarity. SQLite keeps the same contract with substring matching and a simpler rank,
so the development server needs no database server.

In relevance order, on both, the services whose names hold every clause come first
(`name_match`), then the others by rank. On PostgreSQL the name matches are ranked by
how closely their names match (the shorter the name holding the words, the closer), the
others by how much of the whole service matches. A broad word ("legal") can match a
quarter of a national directory, and its name matches alone may fill the first pages:
the search page and the API then look for them on their own (`search_names`, in a
narrow table of the published services' names) and never rank the rest (see
ResultWindowPaginator's `split`).
"""

import re
import uuid
from dataclasses import dataclass, field

from django.contrib.postgres.search import (
    SearchQuery,
    SearchQueryField,
    SearchRank,
    SearchVectorExact,
    SearchVectorField,
)
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from .models import (
    Address,
    Location,
    Need,
    Population,
    PublishedName,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Synonym,
)

SEARCH_CONFIG = "english_unaccent"  # created by migration 0003 on PostgreSQL
MAX_CLAUSES = 12
MAX_QUERY_LENGTH = 500
TYPO_SIMILARITY = 0.4
# ts_rank's normalization for ranking name matches: 2 divides by the name's length.
NAME_RANK_NORMALIZATION = 2

# Words too common to narrow a search. Dropping them here (rather than leaving it to
# PostgreSQL) keeps SQLite and PostgreSQL agreeing that "the" alone is no filter.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me more most my myself no nor not of off on once only
    or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with you
    your yours yourself yourselves
    """.split()  # noqa: SIM905 (a word list reads better as prose)
)
TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
WORD_CHARS = re.compile(r"[^\w']+")


@dataclass
class Clause:
    text: str
    phrase: bool = False
    negated: bool = False
    synonym: Synonym | None = None
    corrections: list[str] = field(default_factory=list)


@dataclass
class ParsedQuery:
    clauses: list[Clause]
    truncated: bool = False
    corrected: bool = False  # whether typo corrections have been looked for (PostgreSQL)

    def __bool__(self):
        return bool(self.clauses)

    @property
    def has_words(self):
        """Whether any clause must be found (not only excluded)."""
        return any(not clause.negated for clause in self.clauses)


def _words(text):
    """Lower-case words with punctuation (and tsquery operators) removed."""
    return [w.strip("'_") for w in WORD_CHARS.split(text.lower()) if w.strip("'_")]


# Each process keeps its own copy of the synonyms, under the version the shared cache
# holds: a search reads that short string, not the table (unpickling the table and its
# needs cost more than the rest of parsing a query). Curators' edits delete the version
# at once (resources.signals), so every process loads the table again; its timeout is
# only a safety net.
SYNONYMS_VERSION_KEY = "search:synonyms:version"
SYNONYMS_CACHE_SECONDS = 600
_synonyms = {}  # {version: table}, in this process


def synonym_table():
    """Every curated synonym by its phrase, with its needs loaded: once loaded in this
    process, one cache read."""
    version = cache.get(SYNONYMS_VERSION_KEY)
    if version is None:
        # Two processes may get here at once: the first to add the version wins.
        cache.add(SYNONYMS_VERSION_KEY, uuid.uuid4().hex, SYNONYMS_CACHE_SECONDS)
        version = cache.get(SYNONYMS_VERSION_KEY)
    table = _synonyms.get(version)
    if table is None:
        table = {s.phrase: s for s in Synonym.objects.prefetch_related("needs")}
        _synonyms.clear()
        # Without a version (no shared cache, or an edit deleted it just now), nothing
        # would tell this copy is out of date: it serves this search only.
        if version is not None:
            _synonyms[version] = table
    return table


def forget_synonyms():
    # Now, and again once the edit is committed: a search running in between could
    # otherwise load what the edit is replacing under the version that follows.
    cache.delete(SYNONYMS_VERSION_KEY)
    transaction.on_commit(lambda: cache.delete(SYNONYMS_VERSION_KEY))


def parse_query(query, synonyms=None):
    """Split what a person typed into clauses; never fails, whatever the input."""
    query = (query or "")[:MAX_QUERY_LENGTH]
    if synonyms is None:
        synonyms = synonym_table()
    longest_synonym = max((len(p.split()) for p in synonyms), default=1)

    clauses = []
    run = []  # consecutive plain words, where multi-word synonyms are looked for

    def flush():
        i = 0
        while i < len(run):
            for size in range(min(longest_synonym, len(run) - i), 0, -1):
                phrase = " ".join(run[i : i + size])
                if phrase in synonyms:
                    clauses.append(Clause(phrase, phrase=size > 1, synonym=synonyms[phrase]))
                    i += size
                    break
            else:
                if run[i] not in STOP_WORDS:
                    clauses.append(Clause(run[i]))
                i += 1
        run.clear()

    for quoted_neg, quoted, word_neg, word in TOKEN.findall(query):
        if word:
            words = _words(word)
            if word_neg and words:
                flush()
                clauses.extend(Clause(w, negated=True) for w in words if w not in STOP_WORDS)
            else:
                run.extend(words)
        else:
            flush()
            words = _words(quoted)
            if len(words) == 1 and words[0] in synonyms and not quoted_neg:
                clauses.append(Clause(words[0], synonym=synonyms[words[0]]))
            elif words:
                clauses.append(Clause(" ".join(words), phrase=True, negated=bool(quoted_neg)))
    flush()
    truncated = len(clauses) > MAX_CLAUSES or len(query or "") >= MAX_QUERY_LENGTH
    return ParsedQuery(clauses[:MAX_CLAUSES], truncated=truncated)


# Relevance order: name matches first (services whose names hold every clause), then
# by rank (for name matches on PostgreSQL, their names'). NAME_MATCHES picks out the
# services that lead it.
RELEVANCE = ["-name_match", "-rank", "name", "pk"]
NAME_MATCHES = Q(name_match=True)
NO = Value(False, output_field=BooleanField())
YES = Value(True, output_field=BooleanField())
UNRANKED = {"rank": Value(0.0, output_field=FloatField()), "name_match": NO}


def search_services(queryset, query):
    """Filter `queryset` to services matching `query`; annotate each with its `rank` and
    whether its name holds every word (`name_match`), for ordering by RELEVANCE.

    An empty query (or one of stop words and punctuation only) filters nothing.
    """
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
    if not parsed:
        return queryset.annotate(**UNRANKED)
    if connection.vendor == "postgresql":
        return _search_postgres(queryset, parsed)
    return _search_substring(queryset, parsed)


def search_names(queryset, query):
    """The name matches of search_services(queryset, query), in the same order: the
    services whose names hold every clause, that match no excluded one. They lead the
    relevance order. Of every published service, on PostgreSQL, they are found in
    PublishedName alone (its pk is the service's), without reading the services' wide
    rows, which for a broad word is most of the work; else among the search's results.
    """
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
    if not parsed.has_words:
        return queryset.none()
    if connection.vendor != "postgresql" or not _every_published(queryset):
        return search_services(queryset, parsed).filter(NAME_MATCHES)
    combined, every_positive = _tsqueries(parsed)
    names = PublishedName.objects.using(queryset.db).filter(vector=every_positive)
    if any(clause.negated for clause in parsed.clauses):
        # An excluded word may be anywhere in a service, not only in its name.
        names = names.filter(service__search_vector=combined)
    return names.annotate(rank=_name_rank(F("vector"), every_positive), name_match=YES)


def _every_published(queryset):
    """Whether `queryset` is every published service (which PublishedName holds): filtered
    by that alone, neither sliced nor combined with another queryset."""
    query = queryset.query
    return (
        queryset.model is Service
        and not query.is_sliced
        and not query.combinator
        and query.where == Service.objects.published().query.where
    )


# PostgreSQL


class NameVector(Func):
    """The name part (weight A) of a service's search vector: its name and alternate
    name, as PublishedName holds them for the published services."""

    function = "ts_filter"
    template = "%(function)s(%(expressions)s, '{a}'::\"char\"[])"
    output_field = SearchVectorField()


def _tsquery(text, *, phrase=False):
    return SearchQuery(text, search_type="phrase" if phrase else "plain", config=SEARCH_CONFIG)


def _clause_tsquery(clause):
    query = _tsquery(clause.text, phrase=clause.phrase)
    for alternative in clause.corrections:
        query |= _tsquery(alternative)
    if clause.synonym is not None:
        need_names = [need.name for need in clause.synonym.needs.all()]
        # A term that is also a need's name is found by the need's words in any order:
        # looking for it as a phrase as well finds nothing more, and costs a recheck.
        # (Only for names of plain words: PostgreSQL reads "trauma-informed" as a word of
        # its own too, which text saying "trauma informed" does not hold.)
        named = {tuple(_words(name)) for name in need_names if _words(name) == name.lower().split()}
        for term in clause.synonym.term_list:
            if tuple(_words(term)) not in named:
                query |= _tsquery(term, phrase=True)
        for name in need_names:
            query |= _tsquery(name)
    return ~query if clause.negated else query


def _correct_typos(parsed):
    """Offer, for each plain word the directory has never seen, the most similar ones."""
    if parsed.corrected:
        return
    parsed.corrected = True
    unknown = [
        c for c in parsed.clauses if not (c.phrase or c.negated or c.synonym) and len(c.text) > 3
    ]
    if not unknown:
        return
    words = [c.text for c in unknown]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT typed.word, known.word
            FROM unnest(%s::text[]) AS typed(word)
            LEFT JOIN LATERAL (
                SELECT w.word FROM resources_searchword w
                WHERE w.word %% typed.word AND similarity(w.word, typed.word) >= %s
                ORDER BY similarity(w.word, typed.word) DESC, w.word
                LIMIT 3
            ) known ON true
            WHERE NOT EXISTS (SELECT 1 FROM resources_searchword s WHERE s.word = typed.word)
            """,
            [words, TYPO_SIMILARITY],
        )
        suggestions = {}
        for typed, known in cursor.fetchall():
            if known:
                suggestions.setdefault(typed, []).append(known)
    for clause in unknown:
        clause.corrections = suggestions.get(clause.text, [])


def _tsqueries(parsed):
    """The tsquery of the whole query, and that of its clauses to be found (None when
    every clause is excluded)."""
    _correct_typos(parsed)
    combined = every_positive = None
    for clause in parsed.clauses:
        tsquery = _clause_tsquery(clause)
        combined = tsquery if combined is None else combined & tsquery
        if not clause.negated:
            every_positive = tsquery if every_positive is None else every_positive & tsquery
    return combined, every_positive


def _name_rank(names, tsquery):
    """How closely names match: the less else a name (and alternate name) holds, the
    closer."""
    return SearchRank(names, tsquery, normalization=NAME_RANK_NORMALIZATION)


def _search_postgres(queryset, parsed):
    combined, every_positive = _tsqueries(parsed)
    if every_positive is None:  # only excluded words: nothing to rank by
        return queryset.filter(search_vector=combined).annotate(**UNRANKED)
    # Never NULL: a service without a vector matches no search. (Wrapping it in COALESCE
    # would hide it from its index.)
    names = NameVector("search_vector")
    in_name = SearchVectorExact(names, every_positive)
    # Name matches by how closely their names match (as search_names ranks them), the
    # others by how much of the whole service matches.
    rank = Case(
        When(in_name, then=_name_rank(names, every_positive)),
        default=Coalesce(SearchRank(F("search_vector"), combined), Value(0.0)),
    )
    return queryset.filter(search_vector=combined).annotate(rank=rank, name_match=in_name)


# SQLite (and any other database): substring matching, same contract


def _term_exists(model, text):
    return Exists(model.objects.filter(services=OuterRef("pk"), name__icontains=text))


def _variants(text):
    if len(text) > 4 and text.endswith("s"):
        return {text, text[:-1]}  # a crude plural: "lawyers" finds "lawyer"
    return {text}


def _in_name(text):
    q = Q()
    for variant in _variants(text):
        q |= Q(name__icontains=variant) | Q(alternate_name__icontains=variant)
    return q


def _text_matches(text):
    q = _in_name(text)
    for variant in _variants(text):
        q |= (
            Q(organization__name__icontains=variant)
            | Q(keywords__icontains=variant)
            | Q(description__icontains=variant)
            | _term_exists(Need, variant)
            | _term_exists(Population, variant)
        )
    return q


def _clause_q(clause):
    q = _text_matches(clause.text)
    if clause.synonym is not None:
        for term in clause.synonym.term_list:
            q |= _text_matches(term)
        need_ids = Need.objects.descendant_ids(clause.synonym.needs.all())
        if need_ids:
            q |= Exists(
                Service.needs.through.objects.filter(service=OuterRef("pk"), need__in=need_ids)
            )
    return ~q if clause.negated else q


def _search_substring(queryset, parsed):
    score = Value(0.0)
    in_name = Q()
    for clause in parsed.clauses:
        if not clause.negated:
            in_name &= _in_name(clause.text)
            score += Case(
                When(name__icontains=clause.text, then=Value(1.0)),
                When(organization__name__icontains=clause.text, then=Value(0.4)),
                When(keywords__icontains=clause.text, then=Value(0.4)),
                default=Value(0.1),
                output_field=FloatField(),
            )
    for clause in parsed.clauses:
        queryset = queryset.filter(_clause_q(clause))
    name_match = ExpressionWrapper(in_name, output_field=BooleanField()) if in_name else NO
    return queryset.annotate(rank=score, name_match=name_match)


# Facets


def facet_counts(services):
    """How many `services` there are, and how many of them each need and population has,
    in one query: {"count": n, "needs": {need pk: n}, "populations": {population pk: n}}.

    `services` is a list of ids (a search's window: services that match), sent once; or a
    queryset of services, each at most once (a search's filters), which each count runs
    in turn on PostgreSQL, since copying a large set of matches costs more than finding
    it again.
    """
    counts = {"count": 0, "needs": {}, "populations": {}}
    window = not isinstance(services, QuerySet)
    if window and not services:
        return counts
    database = connections[Service.objects.db if window else services.db]
    if window and database.vendor == "postgresql":
        # One array parameter, rather than one parameter per id (for the 1,000 ids of a
        # window, that cost more than the counting), and no service row read again.
        matches = f"SELECT DISTINCT unnest(%s::{Service._meta.pk.db_type(database)}[])"
        params = [list(services)]
    else:
        if window:
            services = Service.objects.filter(pk__in=list(services))
        # Its own ordering (by relevance) would rank every match for nothing.
        query = services.order_by().values("pk").query
        try:
            matches, params = query.get_compiler(services.db).as_sql()
        except EmptyResultSet:  # none()
            return counts
    # SQLite before 3.35 knows no such hint; SQLite then chooses for itself.
    hint = ""
    if database.vendor == "postgresql":
        hint = "MATERIALIZED" if window else "NOT MATERIALIZED"
    quote = database.ops.quote_name
    branches = ["SELECT 'count', NULL, COUNT(*) FROM matches"]
    to_pk = {}  # how each taxonomy's ids are read back
    for kind in ("needs", "populations"):
        field = Service._meta.get_field(kind)
        to_pk[kind] = field.related_model._meta.pk.to_python
        table, service, term = map(
            quote, (field.m2m_db_table(), field.m2m_column_name(), field.m2m_reverse_name())
        )
        branches.append(
            f"SELECT '{kind}', t.{term}, COUNT(*) FROM {table} t"
            f" WHERE t.{service} IN (SELECT id FROM matches) GROUP BY t.{term}"
        )
    sql = f"WITH matches (id) AS {hint} ({matches}) " + " UNION ALL ".join(branches)
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, pk, count in cursor.fetchall():
            if kind == "count":
                counts["count"] = count
            else:
                counts[kind][to_pk[kind](pk)] = count
    return counts


# Filter tokens (PostgreSQL)
#
# A service's filter_vector holds a token for each need, population and language it is
# tagged with, for each state it answers for (its areas' states and its public
# addresses' states, or "nationwide"), and for its opening hours: "open:24/7", and one
# per hour of the week during all of which it (or one of its locations) is open. A
# filter is then `filter_vector @@ 'a' | 'b'`: PostgreSQL intersects it with the other
# filters and the words in the GIN indexes of this one table, before reading a single
# service, where joins would build and hash each filter's set of services first. SQLite
# filters through the joins (resources.filters).

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


# Place bits (PostgreSQL)
#
# A state's listing (services in or serving IL, by name) matches one service in a dozen,
# so PostgreSQL walks the listing index in name order and checks each service. Reading
# each one's filter tokens meant reading its row; its place_bits, a bit for each state
# it answers for (and one for nationwide), are in the index itself. A code without a bit
# (any two letters validate) is looked up by its token.

# The states, the District of Columbia, the territories, the freely associated states and
# the armed forces' codes: every USPS code.
STATE_CODES = """
    AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH
    NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI FM MH
    PW AA AE AP
""".split()  # noqa: SIM905
# Bit i of place_bits stands for PLACE_TOKENS[i]: 63 bits, of a bigint's 64.
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


# Keeping the stored vectors fresh (PostgreSQL)


def _tokens_sql(only):
    """Each service's filter tokens (of the services `only` keeps), as the filters look
    them up (see HasAnyToken)."""
    m2m = [
        (Service.needs, "need"),
        (Service.populations, "population"),
        (Service.languages, "language"),
    ]
    tagged = [
        f"SELECT service_id, '{kind}:' || {manager.field.m2m_reverse_name()} AS token "
        f"FROM {manager.through._meta.db_table}"
        for manager, kind in m2m
    ]
    # The service's own schedules and its locations' (confidential or not: hours are
    # not secret), as the hours filters have always read them.
    schedule = Schedule._meta.db_table
    schedules = f"""
        SELECT service_id, weekday, opens_at, closes_at, open_24_7
        FROM {schedule} WHERE service_id IS NOT NULL
        UNION ALL
        SELECT sal.service_id, h.weekday, h.opens_at, h.closes_at, h.open_24_7
        FROM {schedule} h
        JOIN {ServiceAtLocation._meta.db_table} sal ON sal.location_id = h.location_id
    """
    return f"""
        SELECT x.service_id, array_to_tsvector(array_agg(DISTINCT x.token)) AS tokens
        FROM (
            {" UNION ALL ".join(tagged)}
            UNION ALL
            SELECT service_id,
                   CASE WHEN extent = '{ServiceArea.Extent.NATIONWIDE}' THEN '{NATIONWIDE}'
                        ELSE 'state:' || state END
            FROM {ServiceArea._meta.db_table}
            WHERE extent = '{ServiceArea.Extent.NATIONWIDE}' OR state <> ''
            UNION ALL
            -- A confidential location never answers a place filter.
            SELECT sal.service_id, 'state:' || a.state_province
            FROM {ServiceAtLocation._meta.db_table} sal
            JOIN {Location._meta.db_table} l ON l.id = sal.location_id AND NOT l.confidential
            JOIN {Address._meta.db_table} a ON a.location_id = l.id
            WHERE a.state_province <> ''
            UNION ALL
            SELECT s.service_id, '{OPEN_24_7}' FROM ({schedules}) s WHERE s.open_24_7
            UNION ALL
            -- Each hour the schedule covers from its first moment to its last (so none
            -- for 23:00-24:00, which no closing time reaches).
            SELECT s.service_id, 'open:' || ((s.weekday - 1) * 24 + hour)
            FROM ({schedules}) s, generate_series(0, 23) AS hour
            WHERE s.weekday IS NOT NULL
              AND s.opens_at <= make_time(hour, 0, 0)
              AND s.closes_at - time '00:00' >= make_interval(hours => hour + 1)
        ) x
        {only}
        GROUP BY x.service_id
    """


def index_services(service_ids=None):
    """Recompute the search and filter vectors of the given services (all when None),
    and their rows in PublishedName.

    Four statements for any number of services: term names are gathered per service
    with GROUP BY and joined, which stays fast for a full rebuild of a national directory.
    """
    if connection.vendor != "postgresql":
        return
    params = {
        "config": SEARCH_CONFIG,
        "ids": list(service_ids or []),
        "places": list(PLACE_TOKENS),
    }
    only = "" if service_ids is None else "WHERE x.service_id = ANY(%(ids)s)"
    term_names = """
        SELECT x.service_id,
               string_agg(concat_ws(' ', t.name, p.name, g.name), ' ' ORDER BY t.name) AS names
        FROM {through} x
        JOIN {table} t ON t.id = x.{column}
        LEFT JOIN {table} p ON p.id = t.parent_id
        LEFT JOIN {table} g ON g.id = p.parent_id
        {only}
        GROUP BY x.service_id
    """
    documents = f"""
        WITH needs AS ({
        term_names.format(
            through=Service.needs.through._meta.db_table,
            table=Need._meta.db_table,
            column="need_id",
            only=only,
        )
    }),
        populations AS ({
        term_names.format(
            through=Service.populations.through._meta.db_table,
            table=Population._meta.db_table,
            column="population_id",
            only=only,
        )
    })
        SELECT s.id,
               concat_ws(' ', s.name, s.alternate_name) AS names,
               concat_ws(' ', o.name, s.keywords, n.names, p.names) AS terms,
               concat_ws(' ', s.description, s.eligibility_description) AS prose
        FROM resources_service s
        LEFT JOIN resources_organization o ON o.id = s.organization_id
        LEFT JOIN needs n ON n.service_id = s.id
        LEFT JOIN populations p ON p.service_id = s.id
        {"" if service_ids is None else "WHERE s.id = ANY(%(ids)s)"}
    """
    # In one transaction: a search sees all of it or none (a full rebuild would otherwise
    # leave the names table empty for a while).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH documents AS ({documents}), tokens AS ({_tokens_sql(only)})
            UPDATE resources_service s SET search_vector =
                setweight(to_tsvector(%(config)s::regconfig, d.names), 'A')
                || setweight(to_tsvector(%(config)s::regconfig, d.terms), 'B')
                || setweight(to_tsvector(%(config)s::regconfig, d.prose), 'C'),
                filter_vector = COALESCE(t.tokens, ''::tsvector),
                place_bits = COALESCE((
                    SELECT bit_or(1::bigint << (array_position(%(places)s::text[], token) - 1))
                    FROM unnest(tsvector_to_array(t.tokens)) AS token
                    WHERE token = ANY(%(places)s::text[])
                ), 0)
            FROM documents d LEFT JOIN tokens t ON t.service_id = d.id
            WHERE d.id = s.id
            """,
            params,
        )
        # The published ones' names, as NameVector reads them from the search vector.
        names = PublishedName._meta.db_table
        published = Service.objects.published().filter(search_vector__isnull=False)
        if service_ids is None:
            cursor.execute(f"DELETE FROM {names}")
        else:
            cursor.execute(f"DELETE FROM {names} WHERE service_id = ANY(%(ids)s)", params)
            published = published.filter(pk__in=params["ids"])
        rows = published.order_by().values_list("pk", "name", NameVector("search_vector"))
        select, select_params = rows.query.sql_with_params()
        cursor.execute(f"INSERT INTO {names} (service_id, name, vector) {select}", select_params)
        # The vocabulary typo correction chooses from: the words of names, keywords and
        # taxonomy terms (descriptions would add noise, not help).
        cursor.execute(
            f"""
            WITH documents AS ({documents})
            INSERT INTO resources_searchword (word)
            SELECT DISTINCT word
            FROM documents d,
                 regexp_split_to_table(lower(unaccent(d.names || ' ' || d.terms)), '[^a-z0-9]+')
                     AS word
            WHERE length(word) > 2
            ON CONFLICT (word) DO NOTHING
            """,
            params,
        )
