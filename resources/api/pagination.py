from django.core.paginator import EmptyPage
from django.core.paginator import Paginator as DjangoPaginator
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from resources.search.results import RESULT_WINDOW, find

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PagePagination(PageNumberPagination):
    """Numbered pages whose parameters are checked, not guessed.

    A malformed page or page size (page=0, page=abc, page_size=100000) answers 400 naming
    the parameter: a partner asking for 100000 rows and silently getting 100 would think it
    had everything. A well-formed page beyond the last one answers 404.
    """

    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_query_param = "page"
    page_size_query_param = "page_size"
    page_query_description = "Page number, from 1. A page beyond the last one answers 404."
    page_size_query_description = (
        f"Results per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}). "
        "A larger value answers 400."
    )
    django_paginator_class = DjangoPaginator

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        number = self._read_positive_int(request, self.page_query_param) or 1
        size = self.get_page_size(request)
        paginator = self.make_paginator(queryset, size, view)
        try:
            self.page = paginator.page(number)
        except EmptyPage:
            raise self.page_not_found(number, paginator) from None
        return list(self.page)

    def make_paginator(self, queryset, size, view):
        return self.django_paginator_class(queryset, size)

    def page_not_found(self, number, paginator):
        return NotFound(f"Page {number} does not exist: the last page is {paginator.num_pages}.")

    def get_page_size(self, request):
        return (
            self._read_positive_int(request, self.page_size_query_param, self.max_page_size)
            or self.page_size
        )

    @staticmethod
    def _read_positive_int(request, name, maximum=None):
        raw = request.query_params.get(name, "")
        if raw == "":
            return None
        field = serializers.IntegerField(min_value=1, max_value=maximum)
        try:
            return field.run_validation(raw)
        except ValidationError as error:
            raise ValidationError({name: error.detail}) from None

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "total_pages": self.page.paginator.num_pages,
                "page": self.page.number,
                "page_size": self.page.paginator.per_page,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": [
                "count",
                "total_pages",
                "page",
                "page_size",
                "next",
                "previous",
                "results",
            ],
            "properties": {
                "count": {"type": "integer", "description": "Results on all pages."},
                "total_pages": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "in": "query",
                "required": False,
                "description": self.page_query_description,
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": self.page_size_query_description,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class SearchPagination(PagePagination):
    """Pages through the first results of a search (resources.search.results).

    `count` is exact up to the window (1,000); `count_exact` is false when more services
    match, and then only the first 1,000 can be paged through.
    """

    def paginate_search(self, request, rows):
        """The requested page of the services the request's filters find, each loaded
        from `rows`; a refused filter answers 400 naming it."""
        self.request = request
        number = self._read_positive_int(request, self.page_query_param) or 1
        results = find(request.query_params, rows=rows, per_page=self.get_page_size(request))
        if results.errors:
            raise ValidationError(results.errors)
        try:
            self.page = results.page(number)
        except EmptyPage:
            raise self.page_not_found(number, results.paginator) from None
        return list(self.page)

    def page_not_found(self, number, paginator):
        if paginator.count_exact:
            return super().page_not_found(number, paginator)
        return NotFound(
            f"Page {number} is past the first {paginator.window:,} results, the most a "
            f"search pages through (page {paginator.num_pages} is the last). Narrow the "
            "search with a need, a population or a place."
        )

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_exact"] = self.page.paginator.count_exact
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["required"].insert(1, "count_exact")
        schema["properties"]["count"]["description"] = (
            f"Results on all pages, exact up to {RESULT_WINDOW:,}: when more services "
            f"match, this is {RESULT_WINDOW:,} and count_exact is false."
        )
        schema["properties"]["count_exact"] = {
            "type": "boolean",
            "description": f"False when more than {RESULT_WINDOW:,} services match; only "
            f"the first {RESULT_WINDOW:,} can be paged through.",
        }
        return schema
