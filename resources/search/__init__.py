"""The one search behind the search page, the REST API and the HSDS profile.

    query.py      what a person typed, as clauses
    synonyms.py   the curated synonyms, kept by each process until they change
    matching.py   matching and ranking in PostgreSQL, typo tolerance
    index.py      the stored vectors and tokens they read, kept by triggers (all the SQL)
    facets.py     counts of needs and populations among the results
    results.py    find(): a page of results, their count and their facets

The filters themselves are resources.filters.ServiceFilter, which calls matching for
its `q`. docs/search.md explains how it all fits together.
"""
