import pytest
from django.core.cache import cache
from django.db import NotSupportedError, connection, transaction
from django.test.utils import CaptureQueriesContext

from resources.filters import ServiceFilter
from resources.models import Need, Population, PublishedName, Service, Synonym
from resources.search import synonyms as synonyms_module
from resources.search.facets import facet_counts
from resources.search.index import reindex
from resources.search.matching import RELEVANCE
from resources.search.matching import search_names as search_parsed_names
from resources.search.matching import search_services as search_parsed
from resources.search.query import parse_query as parse_with
from resources.search.results import ResultWindowPaginator
from resources.search.synonyms import VERSION_KEY as SYNONYMS_VERSION_KEY
from resources.search.synonyms import synonym_table
from tests.factories import make_need, make_organization, make_population, make_service

pytestmark = pytest.mark.django_db


def parse_query(query):
    return parse_with(query, synonym_table())


def search_services(queryset, query):
    return search_parsed(queryset, parse_query(query))


def search_names(queryset, query):
    return search_parsed_names(queryset, parse_query(query))


def search(query):
    return list(
        search_services(Service.objects.published(), query)
        .order_by(*RELEVANCE)
        .values_list("name", flat=True)
    )


@pytest.fixture
def services():
    legal = make_need(name="Legal aid", slug="legal-aid")
    immigration = make_need(name="Immigration legal help", slug="immigration", parent=legal)
    counseling = make_need(name="Counseling and mental health", slug="counseling")
    housing = make_need(name="Housing and shelter", slug="housing")
    women = make_population(name="Women", slug="women")
    make_service(
        name="Survivor Legal Clinic",
        description="Lawyers help with victim status and clearing criminal records.",
        organization=make_organization(name="Chicago Alliance"),
        needs=[legal],
        populations=[women],
    )
    make_service(
        name="Visa Help Desk",
        description="Applications for T visas and other immigration relief.",
        keywords="T visa, U visa",
        needs=[immigration],
    )
    make_service(
        name="Healing Circle",
        description="Trauma-informed counseling in small groups. A lawyer visits monthly.",
        needs=[counseling],
    )
    make_service(
        name="Safe Beds", description="Emergency shelter beds for survivors.", needs=[housing]
    )
    make_service(name="Café Esperanza", description="Drop-in centre with coffee and advice.")
    make_service(
        name="Hidden Draft Clinic", description="Lawyers", publication_state="draft", needs=[legal]
    )
    synonym = Synonym.objects.create(phrase="attorney", terms="lawyer")
    synonym.needs.set([legal])
    Synonym.objects.create(phrase="place to stay").needs.set([housing])
    Synonym.objects.create(phrase="therapy", terms="counseling, therapist")


def test_every_word_must_match_somewhere(services):
    assert search("legal women") == ["Survivor Legal Clinic"]
    assert search("legal nonexistentword") == []


def test_a_name_match_outranks_a_description_match(services):
    # "legal" is in the clinic's name, but only in the help desk's need.
    assert search("legal") == ["Survivor Legal Clinic", "Visa Help Desk"]
    assert set(search("lawyer")) == {"Survivor Legal Clinic", "Healing Circle"}


def test_services_whose_names_hold_every_word_come_first(services):
    # The drop-in says "legal clinic" ten times, but not in its name.
    make_service(name="Northside Drop-in", keywords=", ".join(["legal clinic"] * 10))
    make_service(name="Legal Clinic Annex")

    found = search("legal clinic")

    assert found.index("Legal Clinic Annex") < found.index("Northside Drop-in")


def test_a_name_match_counts_the_alternate_name_and_plurals(services):
    make_service(name="Northside Line", alternate_name="Walk-in Legal Clinics")
    name_match = dict(
        search_services(Service.objects.published(), "legal clinics").values_list(
            "name", "name_match"
        )
    )

    assert name_match["Northside Line"] is True
    assert name_match["Survivor Legal Clinic"] is True


def _sql_and_plan(queryset):
    sql, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small is read whole
        cursor.execute("EXPLAIN " + sql, params)
        return sql, "\n".join(row[0] for row in cursor.fetchall())


def test_name_matches_among_every_published_service_read_only_the_names_table(services):
    sql, plan = _sql_and_plan(search_names(Service.objects.published(), "legal clinic"))

    assert "resources_service" not in sql
    assert "published_name_vector_gin" in plan, plan


@pytest.mark.parametrize(
    "queryset",
    [
        Service.objects.published().filter(name__startswith="S"),
        Service.objects.all(),  # drafts are not in the names table
    ],
    ids=["narrower", "unpublished too"],
)
def test_name_matches_among_other_services_are_looked_for_among_the_services_themselves(
    services, queryset
):
    names = search_names(queryset, "legal")

    assert names.model is Service
    assert '"resources_service"."search_vector" @@' in str(names.values("pk").query)


@pytest.mark.parametrize(
    "queryset, error",
    [
        (Service.objects.published()[:2], TypeError),
        (Service.objects.published().difference(Service.objects.none()), NotSupportedError),
    ],
    ids=["sliced", "combined"],
)
def test_name_matches_among_sliced_or_combined_services_are_refused_as_a_search_is(
    services, queryset, error
):
    with pytest.raises(error):
        search_services(queryset, "legal")
    with pytest.raises(error):
        search_names(queryset, "legal")


def test_name_matches_among_some_services_are_the_search_s_name_matches_among_them(services):
    make_service(name="Legal Aid Annex", publication_state="draft")
    queryset = Service.objects.filter(name__contains="Legal")
    results = search_services(queryset, "legal").order_by(*RELEVANCE)
    expected = [service.pk for service in results if service.name_match]

    names = search_names(queryset, "legal").order_by(*RELEVANCE)

    assert list(names.values_list("pk", flat=True)) == expected


def test_the_names_table_follows_every_change_to_whether_and_how_a_service_is_listed():
    def names(query):
        found = search_names(Service.objects.published(), query).order_by(*RELEVANCE)
        return list(found.values_list("name", flat=True))

    draft = make_service(name="Harbor Shelter", publication_state="draft")
    assert names("shelter") == []

    draft.publication_state = "published"
    draft.save()
    assert names("shelter") == ["Harbor Shelter"]

    Service.objects.filter(pk=draft.pk).update(name="Harbor Refuge")
    assert names("shelter") == []
    assert names("refuge") == ["Harbor Refuge"]

    Service.objects.filter(pk=draft.pk).update(publication_state="archived")
    assert names("refuge") == []

    Service.objects.filter(pk=draft.pk).update(publication_state="published")
    assert names("refuge") == ["Harbor Refuge"]

    draft.refresh_from_db()
    draft.alternate_name = "Shelter by the Lake"
    draft.save()
    assert names("shelter") == ["Harbor Refuge"]

    draft.publication_state = "archived"
    draft.save()
    assert names("refuge") == []

    draft.publication_state = "published"
    draft.save()
    Service.objects.filter(pk=draft.pk).delete()
    assert names("refuge") == []


def test_an_edit_rolled_back_leaves_the_names_table_as_it_was():
    make_service(name="Harbor Shelter")
    with pytest.raises(RuntimeError), transaction.atomic():
        Service.objects.filter(name="Harbor Shelter").update(publication_state="archived")
        raise RuntimeError("the curator's request failed")

    assert [n.name for n in PublishedName.objects.all()] == ["Harbor Shelter"]


def test_rebuilding_every_index_rewrites_the_names_table(services):
    PublishedName.objects.all().delete()
    draft = Service.objects.get(name="Hidden Draft Clinic")
    PublishedName.objects.create(service=draft, name=draft.name, vector="")

    reindex()

    published = Service.objects.published().values_list("name", flat=True)
    assert sorted(PublishedName.objects.values_list("name", flat=True)) == sorted(published)


def test_name_matches_come_closest_name_first_however_much_else_mentions_the_words():
    make_service(
        name="Northside Women's Legal Aid Project",
        description="Legal aid: free legal aid for survivors, legal aid clinics.",
    )
    make_service(name="Legal Aid", description="Walk-in hours.")
    make_service(name="Eastside Legal Aid", description="By appointment.")

    assert search("legal aid") == [
        "Legal Aid",
        "Eastside Legal Aid",
        "Northside Women's Legal Aid Project",
    ]


def broad_search(query, **filters):
    filterset = ServiceFilter({"q": query, **filters}, queryset=Service.objects.published())
    assert filterset.is_valid(), filterset.errors
    return filterset.qs, filterset


@pytest.mark.parametrize("name_matches, queries", [(6, 1), (2, 2)])
def test_a_broad_word_ranks_the_other_matches_only_if_its_name_matches_are_too_few(
    monkeypatch, django_assert_num_queries, name_matches, queries
):
    monkeypatch.setattr(ResultWindowPaginator, "window", 4)
    for n in range(name_matches):
        make_service(name=f"Shelter {n}")
    for n in range(4):
        make_service(name=f"Safe House {n}", description="An emergency shelter.")
    results, filterset = broad_search("shelter")
    in_order = list(results.values_list("pk", flat=True)[:5])
    paginator = ResultWindowPaginator(
        results, 2, rows=Service.objects.all(), split=filterset.split, ranked=filterset.ranked
    )

    with django_assert_num_queries(queries):
        assert paginator.ids == in_order


def test_a_listing_by_name_past_the_window_reads_only_its_page_in_name_order(monkeypatch):
    monkeypatch.setattr(ResultWindowPaginator, "window", 3)
    for n in (4, 2, 0, 3, 1):
        make_service(name=f"Service {n}")
    filterset = ServiceFilter({}, queryset=Service.objects.published())
    assert filterset.is_valid()
    paginator = ResultWindowPaginator(
        filterset.qs, 2, rows=Service.objects.all(), ranked=filterset.ranked
    )

    with CaptureQueriesContext(connection) as queries:
        page = paginator.page(2)

    assert [service.name for service in page] == ["Service 2"]  # the window ends at 3
    assert (paginator.count, paginator.count_exact) == (3, False)
    # Counted in no order; then only the page's one row is read in name order, not the
    # window's four.
    ordered = [q["sql"] for q in queries if "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]]
    assert len(ordered) == 1
    assert "LIMIT 1 OFFSET 2" in ordered[0]


def test_a_short_listing_counts_the_services_its_pages_show(monkeypatch):
    monkeypatch.setattr(ResultWindowPaginator, "window", 5)
    for n in range(3):
        make_service(name=f"Service {n}")
    filterset = ServiceFilter({}, queryset=Service.objects.published())
    assert filterset.is_valid()
    paginator = ResultWindowPaginator(
        filterset.qs, 2, rows=Service.objects.all(), ranked=filterset.ranked
    )
    assert len(paginator.ids) == 3

    make_service(name="Service 3")  # published between the two queries

    assert (paginator.count, paginator.count_exact, paginator.num_pages) == (3, True, 2)
    assert [service.name for service in paginator.page(2)] == ["Service 2"]


def test_services_that_only_lack_excluded_words_are_listed_as_a_listing_by_name():
    make_service(name="Legal Aid")
    make_service(name="Food Bank")
    _, filterset = broad_search("-legal")

    assert filterset.ranked is False
    assert broad_search("legal")[1].ranked is True
    assert broad_search("legal", ordering="name")[1].ranked is False


def test_a_search_by_relevance_finds_its_window_once_for_count_and_page(monkeypatch):
    monkeypatch.setattr(ResultWindowPaginator, "window", 3)
    for n in range(5):
        make_service(name=f"Shelter {n}")
    results, filterset = broad_search("shelter")
    paginator = ResultWindowPaginator(
        results, 2, rows=Service.objects.all(), split=filterset.split, ranked=filterset.ranked
    )

    with CaptureQueriesContext(connection) as queries:
        page = paginator.page(2)

    assert len(page) == 1
    assert (paginator.count, paginator.count_exact) == (3, False)
    assert len(queries) == 2  # the window's ids, then the page's rows by id


def test_name_matches_are_looked_for_first_only_for_words_alone(services):
    assert broad_search("legal")[1].split is not None
    assert broad_search("legal", state="IL")[1].split is None
    assert broad_search("legal", need=["legal-aid"])[1].split is None
    assert broad_search("legal", ordering="name")[1].split is None
    assert broad_search("legal", nationwide="false")[1].split is None
    assert broad_search("-legal")[1].split is None  # nothing to match names against
    assert broad_search("")[1].split is None


@pytest.mark.parametrize(
    "query",
    [
        "clinic",
        "legal clinic",
        '"legal clinic"',
        "legal -annex",
        "attorney clinic",
        "clinics",
        "leagal clinic",  # a typo, corrected
    ],
)
def test_name_matches_found_on_their_own_are_those_the_whole_search_puts_first(services, query):
    make_service(name="Legal Clinic Annex", description="Walk-in hours.")
    make_service(name="Northside Drop-in", keywords="legal clinic")
    make_service(name="Attorney Clinic", needs=[Need.objects.get(slug="legal-aid")])
    results, filterset = broad_search(query)
    expected = [service.pk for service in results if service.name_match]

    name_matches, rest = filterset.split

    assert expected, "the query should have name matches"
    assert list(name_matches.values_list("pk", flat=True)) == expected
    assert list(rest.values_list("pk", flat=True)) == [
        service.pk for service in results if not service.name_match
    ]


def test_services_renamed_or_archived_in_bulk_are_searched_as_they_now_are(services):
    Service.objects.filter(name="Safe Beds").update(name="Harbor Refuge")
    Service.objects.filter(name="Survivor Legal Clinic").update(publication_state="archived")

    assert search("refuge") == ["Harbor Refuge"]
    assert search("safe") == []
    assert "Survivor Legal Clinic" not in search("legal")


def test_only_published_services_are_searched(services):
    assert "Hidden Draft Clinic" not in search("lawyers")


def test_it_matches_organization_needs_and_populations(services):
    assert search("chicago") == ["Survivor Legal Clinic"]
    assert search("shelter") == ["Safe Beds"]
    assert "Survivor Legal Clinic" in search("women")


def test_a_synonym_finds_services_filed_under_its_need_and_sub_needs(services):
    assert set(search("attorney")) >= {"Survivor Legal Clinic", "Visa Help Desk"}
    assert search("a place to stay") == ["Safe Beds"]
    assert search("therapy") == ["Healing Circle"]


def test_a_synonym_s_term_that_is_its_need_s_name_is_not_also_looked_for_as_a_phrase(services):
    health = make_need(name="Health care")
    Synonym.objects.create(phrase="clinic", terms="health care, first aid").needs.set([health])

    sql = str(search_services(Service.objects.published(), "clinic").query)

    assert "phraseto_tsquery(english_unaccent::regconfig, first aid)" in sql
    assert "phraseto_tsquery(english_unaccent::regconfig, health care)" not in sql


def test_a_synonym_s_term_is_looked_for_as_a_phrase_when_its_need_s_name_is_not_plain_words(
    services,
):
    # PostgreSQL reads "trauma-informed" as a word of its own too: the need's name finds
    # only texts that hyphenate it.
    trauma = make_need(name="Trauma-informed care")
    make_service(name="Lakeside Circle", description="Trauma informed care for survivors.")
    synonym = Synonym.objects.create(phrase="gentle care", terms="trauma informed care")
    synonym.needs.set([trauma])

    assert "Lakeside Circle" in search("gentle care")


def test_a_curators_synonym_edits_reach_the_next_search(services):
    assert search("rehab") == []  # and the synonym table is now cached

    rehab = Synonym.objects.create(phrase="rehab")
    rehab.needs.set(Need.objects.filter(slug="housing"))
    assert search("rehab") == ["Safe Beds"]

    rehab.needs.set(Need.objects.filter(slug="counseling"))
    assert search("rehab") == ["Healing Circle"]

    rehab.delete()
    assert search("rehab") == []


def test_searches_read_the_synonyms_from_the_cache(services, settings, django_assert_num_queries):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    search("attorney")

    with django_assert_num_queries(0):
        parse_query("attorney")


def test_a_process_keeps_its_synonyms_until_the_shared_version_changes(
    services, settings, django_assert_num_queries
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    parse_query("attorney")
    # Another process's edit: the row changes there (no signal here) ...
    Synonym.objects.filter(phrase="attorney").update(terms="advocate")
    with django_assert_num_queries(0):
        assert parse_query("attorney").clauses[0].synonym.term_list == ["lawyer"]

    # ... and its signal deletes the shared version.
    cache.delete(SYNONYMS_VERSION_KEY)
    assert parse_query("attorney").clauses[0].synonym.term_list == ["advocate"]


def test_a_new_process_loads_the_synonyms_from_the_database(services, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    parse_query("attorney")
    Synonym.objects.filter(phrase="attorney").update(terms="advocate")
    synonyms_module._tables.clear()  # a process started after the edit, same version
    assert parse_query("attorney").clauses[0].synonym.term_list == ["advocate"]


def test_without_a_shared_cache_every_search_reads_the_synonyms_afresh(services, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert parse_query("attorney").clauses[0].synonym.term_list == ["lawyer"]
    Synonym.objects.filter(phrase="attorney").update(terms="advocate")
    assert parse_query("attorney").clauses[0].synonym.term_list == ["advocate"]


def test_a_quoted_phrase_must_match_as_a_phrase(services):
    assert search('"criminal records"') == ["Survivor Legal Clinic"]
    assert search('"records criminal"') == []


def test_a_minus_word_excludes(services):
    assert "Healing Circle" not in search("lawyer -counseling")
    assert "Survivor Legal Clinic" in search("lawyer -counseling")


def test_keywords_are_searched(services):
    assert search("T-visa") == ["Visa Help Desk"]


def test_it_stems_words(services):
    assert "Survivor Legal Clinic" in search("lawyering")
    assert "Healing Circle" in search("counselling")


def test_it_ignores_accents(services):
    assert search("cafe") == ["Café Esperanza"]
    assert search("Ésperanza") == ["Café Esperanza"]


def test_it_tolerates_typos_in_words_it_has_never_seen(services):
    assert "Survivor Legal Clinic" in search("leagal")
    assert "Healing Circle" in search("counceling")


@pytest.mark.parametrize(
    "query",
    [
        "the and of",
        "!!! ??? ...",
        "-",
        '"unbalanced quote',
        'legal "',
        "legal & women | ! :* <-> (",
        "' OR 1=1; DROP TABLE resources_service; --",
        "<script>alert(1)</script>",
        "word " * 1000,
        "x" * 10_000,
        "-the",
        '""',
        "\x00 null byte",
    ],
)
def test_odd_queries_give_a_result_or_nothing_never_an_error(services, query):
    results = search(query)
    assert isinstance(results, list)
    assert Service.objects.count() == 6  # nothing touched


def test_stop_words_and_punctuation_alone_filter_nothing(services):
    assert len(search("the and of")) == 5
    assert len(search("!!! ???")) == 5


def test_operators_typed_by_a_user_are_words_not_syntax(services):
    assert search("legal & women") == ["Survivor Legal Clinic"]


def test_a_very_long_query_is_shortened_and_said_so():
    parsed = parse_query(" ".join(f"word{i}" for i in range(1000)))
    assert parsed.truncated
    assert len(parsed.clauses) == 12


def test_parse_query_recognises_multi_word_synonyms_and_negation():
    synonym = Synonym(phrase="t visa")
    parsed = parse_with('need a T-visa -fee "safe house"', {"t visa": synonym})
    assert [(c.text, c.negated, c.synonym is not None) for c in parsed.clauses] == [
        ("need", False, False),
        ("t visa", False, True),
        ("fee", True, False),
        ("safe house", False, False),
    ]


@pytest.mark.parametrize("as_ids", [False, True], ids=["queryset", "list of ids"])
def test_facet_counts_count_the_current_results_in_one_query(
    services, as_ids, django_assert_num_queries
):
    queryset = search_services(Service.objects.published(), "lawyer").order_by(*RELEVANCE)
    service_ids = list(queryset.values_list("pk", flat=True)) if as_ids else queryset
    need_pks = {need.slug: need.pk for need in Need.objects.all()}
    with django_assert_num_queries(1):
        facets = facet_counts(service_ids)
    assert facets["count"] == 2
    assert facets["needs"] == {need_pks["legal-aid"]: 1, need_pks["counseling"]: 1}
    assert facets["populations"] == {Population.objects.get(slug="women").pk: 1}


def test_facet_counts_of_nothing_are_empty(services):
    facets = facet_counts(Service.objects.none())
    assert facets == {"count": 0, "needs": {}, "populations": {}, "languages": {}}
    assert facet_counts([]) == facets


def test_facet_counts_send_a_windows_ids_once_as_one_array(services):
    service_ids = list(Service.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        facet_counts(service_ids)
    (query,) = queries.captured_queries
    assert query["sql"].count("unnest(") == 1, query["sql"]
    assert all(query["sql"].count(pk.hex) == 1 for pk in service_ids), query["sql"]
