"""A search's results as pages, pages and the API read them: `find()`.

Past the first 1,000 results, a search engine's exact total is a number nobody acts on:
a caseworker narrows the search instead of reading page 60, and partners who copy the
whole directory page through the HSDS profile, whose totals are exact.
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property

from resources.filters import ServiceFilter
from resources.models import Service

from .facets import facet_counts

RESULT_WINDOW = 1000


@dataclass
class Results:
    filterset: ServiceFilter
    paginator: "ResultWindowPaginator | None"  # None when a filter was refused

    @property
    def errors(self):
        return self.filterset.errors if self.paginator is None else {}

    def page(self, number):
        """A page of services, each with its `distance` in miles from a place searched
        near (None for those found by their service area, or without such a search)."""
        page = self.paginator.page(number)
        distances = self.filterset.distances or {}
        for service in page:
            service.distance = distances.get(str(service.pk))
        return page

    def facets(self):
        """Counts of each need and population among the results, while every match is in
        the window; past it, the count of a need among "more than 1,000" would not help
        anyone narrow down (None)."""
        if self.paginator is None or not self.paginator.count_exact:
            return None
        return facet_counts(self.paginator.ids)


def find(params, *, rows, per_page):
    """The published services that the search page's parameters (also the API's) ask for,
    in pages of `per_page`, each loaded from `rows` (a queryset holding what a page
    shows: its select_related and prefetches, no filters)."""
    filterset = ServiceFilter(params, queryset=Service.objects.published())
    if not filterset.is_valid():
        return Results(filterset, None)
    paginator = ResultWindowPaginator(
        filterset.qs, per_page, rows=rows, split=filterset.split, ranked=filterset.ranked
    )
    return Results(filterset, paginator)


class ResultWindowPaginator(Paginator):
    """Pages through the first `window` results of a search, in the search's order.

    A search in relevance order (`ranked`) ranks every match, so the ids of up to
    `window` + 1 of them are found once, in order, and the count (exact up to the window)
    and every page come from that list: the filters and the ranking run once per request.
    `split`, when given, is the same results as querysets one after the other in the
    order (a search's name matches, then the rest; a place's services there, then by
    area, then nationwide). A part is looked for only when those before it are too few to
    fill the window: a word matching a quarter of the directory is then never ranked
    beyond its name matches.

    A listing in the order of a column (by name, say) is counted first, up to the window
    and in no order: PostgreSQL counts the services its filters' GIN indexes find without
    sorting them. When more services match than the window holds, each page then asks for
    its own ids alone, in the listing's order: page 1 of a listing by name stops at its
    twentieth match in the name index. When no more than the window match, their ids are
    found in order as for a search, and the count is theirs.
    """

    window = RESULT_WINDOW

    def __init__(self, object_list, per_page, *, rows, ranked, split=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = rows
        self.split = split
        self.ranked = ranked

    @cached_property
    def ids(self):
        limit = self.window + 1
        if self.split is None:
            return list(self.object_list.values_list("pk", flat=True)[:limit])
        found, seen = [], set()
        for part in self.split:
            if len(found) == limit:
                break
            # The parts' queries see the directory a moment apart: a service renamed in
            # between must not be listed twice.
            for pk in part.values_list("pk", flat=True)[: limit - len(found)]:
                if pk not in seen:
                    seen.add(pk)
                    found.append(pk)
        return found

    @cached_property
    def matches(self):
        """How many services match, counted up to one more than the window holds."""
        if self.ranked:
            return len(self.ids)
        # Only the ids: a search's rank, computed for nothing, would cost a recheck a row.
        counted = self.object_list.order_by().values("pk")[: self.window + 1].count()
        # Up to the window, the pages come from the ids: the count must be theirs too,
        # should a service be published or archived between the two queries.
        return counted if counted > self.window else len(self.ids)

    @cached_property
    def count(self):
        return min(self.matches, self.window)

    @property
    def count_exact(self):
        """False when more services match than the window holds (`count` is its size)."""
        return self.matches <= self.window

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if self.ranked or self.count_exact:
            page_ids = self.ids[bottom:top]
        else:
            page_ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        by_id = self.rows.in_bulk(page_ids)
        # A service unpublished since its id was found is simply left out.
        return Page([by_id[pk] for pk in page_ids if pk in by_id], number, self)
