from django.core.paginator import EmptyPage
from django.core.paginator import Paginator as DjangoPaginator
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

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
        paginator = self.django_paginator_class(queryset, size)
        try:
            self.page = paginator.page(number)
        except EmptyPage:
            raise NotFound(
                f"Page {number} does not exist: the last page is {paginator.num_pages}."
            ) from None
        return list(self.page)

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
