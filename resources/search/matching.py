"""Matching and ranking services for a parsed query, in PostgreSQL.

Every clause must match somewhere in a service (its name, organization, needs,
populations, keywords or description), against its stored, weighted search vector
(resources.search.index): stemmed, accents ignored. A word the directory has never
seen is widened to the nearest known words by trigram similarity ("leagal" finds
"legal").

In relevance order the services whose names hold every clause come first
(`name_match`), closest name first (the less else a name holds, the closer); then the
others by how much of the whole service matches. A broad word ("legal") can match a
quarter of a national directory, and its name matches alone may fill the first pages:
`search_names` finds them in the narrow table of published names, so that the rest are
ranked only when they are too few (resources.search.results).
"""

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorExact,
    SearchVectorField,
)
from django.db import connections
from django.db.models import BooleanField, Case, F, FloatField, Func, Q, Value, When
from django.db.models.functions import Coalesce

from resources.models import PublishedName, Service

from .index import SEARCH_CONFIG
from .query import ParsedQuery, words

TYPO_SIMILARITY = 0.4
# ts_rank's normalization for ranking name matches: 2 divides by the name's length.
NAME_RANK_NORMALIZATION = 2

# Relevance order: name matches first, then by rank.
RELEVANCE = ["-name_match", "-rank", "name", "pk"]
NAME_MATCHES = Q(name_match=True)
YES = Value(True, output_field=BooleanField())
UNRANKED = {
    "rank": Value(0.0, output_field=FloatField()),
    "name_match": Value(False, output_field=BooleanField()),
}


def search_services(queryset, parsed):
    """Filter `queryset` to services matching `parsed`; annotate each with its `rank` and
    whether its name holds every word (`name_match`), for ordering by RELEVANCE. A query
    of no clauses (stop words and punctuation only) filters nothing."""
    if not parsed:
        return queryset.annotate(**UNRANKED)
    combined, every_positive = tsqueries(parsed, queryset.db)
    if every_positive is None:  # only excluded words: nothing to rank by
        return queryset.filter(search_vector=combined).annotate(**UNRANKED)
    # Never NULL: a service without a vector matches no search. (Wrapping it in COALESCE
    # would hide it from its index.)
    names = NameVector("search_vector")
    in_name = SearchVectorExact(names, every_positive)
    rank = Case(
        When(in_name, then=name_rank(names, every_positive)),
        default=Coalesce(SearchRank(F("search_vector"), combined), Value(0.0)),
    )
    return queryset.filter(search_vector=combined).annotate(rank=rank, name_match=in_name)


def search_names(queryset, parsed):
    """The name matches of search_services(queryset, parsed), in the same order. Among
    every published service they are found in PublishedName alone (its pk is the
    service's), without reading the services' wide rows; among others, in the search."""
    if not parsed.has_words:
        return queryset.none()
    if not every_published(queryset):
        return search_services(queryset, parsed).filter(NAME_MATCHES)
    combined, every_positive = tsqueries(parsed, queryset.db)
    names = PublishedName.objects.using(queryset.db).filter(vector=every_positive)
    if any(clause.negated for clause in parsed.clauses):
        # An excluded word may be anywhere in a service, not only in its name.
        names = names.filter(service__search_vector=combined)
    return names.annotate(rank=name_rank(F("vector"), every_positive), name_match=YES)


def every_published(queryset):
    """Whether `queryset` is every published service (which PublishedName holds): filtered
    by that alone, neither sliced nor combined with another queryset."""
    query = queryset.query
    return (
        queryset.model is Service
        and not query.is_sliced
        and not query.combinator
        and query.where == Service.objects.published().query.where
    )


class NameVector(Func):
    """The name part (weight A) of a service's search vector: its name and alternate name."""

    function = "ts_filter"
    template = "%(function)s(%(expressions)s, '{a}'::\"char\"[])"
    output_field = SearchVectorField()


def name_rank(names, tsquery):
    """How closely names match: the less else a name holds, the closer."""
    return SearchRank(names, tsquery, normalization=NAME_RANK_NORMALIZATION)


def tsquery(text, *, phrase=False):
    return SearchQuery(text, search_type="phrase" if phrase else "plain", config=SEARCH_CONFIG)


def clause_tsquery(clause):
    query = tsquery(clause.text, phrase=clause.phrase)
    for alternative in clause.corrections:
        query |= tsquery(alternative)
    if clause.synonym is not None:
        need_names = [need.name for need in clause.synonym.needs.all()]
        # A term that is also a need's name is found by the need's words in any order:
        # looking for it as a phrase as well finds nothing more, and costs a recheck.
        # (Only for names of plain words: PostgreSQL reads "trauma-informed" as a word of
        # its own too, which text saying "trauma informed" does not hold.)
        named = {tuple(words(name)) for name in need_names if words(name) == name.lower().split()}
        for term in clause.synonym.term_list:
            if tuple(words(term)) not in named:
                query |= tsquery(term, phrase=True)
        for name in need_names:
            query |= tsquery(name)
    return ~query if clause.negated else query


def tsqueries(parsed, using):
    """The tsquery of the whole query, and that of its clauses to be found (None when
    every clause is excluded)."""
    correct_typos(parsed, using)
    combined = every_positive = None
    for clause in parsed.clauses:
        query = clause_tsquery(clause)
        combined = query if combined is None else combined & query
        if not clause.negated:
            every_positive = query if every_positive is None else every_positive & query
    return combined, every_positive


def correct_typos(parsed: ParsedQuery, using):
    """Offer, for each plain word the directory has never published, the most similar
    ones it has (resources.search.index keeps only published services' words)."""
    if parsed.corrected:
        return
    parsed.corrected = True
    unknown = [
        c for c in parsed.clauses if not (c.phrase or c.negated or c.synonym) and len(c.text) > 3
    ]
    if not unknown:
        return
    # The directory's words, and the one-word synonyms people type ("therapy").
    phrases = [phrase for phrase in parsed.synonyms if " " not in phrase]
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT typed.word, known.word
            FROM unnest(%(typed)s::text[]) AS typed(word)
            LEFT JOIN LATERAL (
                SELECT v.word FROM (
                    SELECT w.word FROM resources_searchword w WHERE w.word %% typed.word
                    UNION SELECT phrase FROM unnest(%(phrases)s::text[]) AS phrase
                    WHERE phrase %% typed.word
                ) v
                WHERE similarity(v.word, typed.word) >= %(similar)s
                ORDER BY similarity(v.word, typed.word) DESC, v.word
                LIMIT 3
            ) known ON true
            WHERE typed.word <> ALL(%(phrases)s::text[])
              AND NOT EXISTS (SELECT 1 FROM resources_searchword s WHERE s.word = typed.word)
            """,
            {
                "typed": [c.text for c in unknown],
                "phrases": phrases,
                "similar": TYPO_SIMILARITY,
            },
        )
        suggestions = {}
        for typed, known in cursor.fetchall():
            if known:
                suggestions.setdefault(typed, []).append(known)
    for clause in unknown:
        clause.corrections = suggestions.get(clause.text, [])
        if clause.corrections and clause.corrections[0] in parsed.synonyms:
            # "theraphy": what "therapy" means too.
            clause.synonym = parsed.synonyms[clause.corrections[0]]
