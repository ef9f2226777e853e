from rest_framework.response import Response

from resources.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PagePagination


class HsdsPagination(PagePagination):
    """The v1 API's pages (same limits, same 400s and 404s) in HSDS's Page envelope."""

    page_size_query_param = "per_page"
    page_size_query_description = (
        f"Results per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}). "
        "A larger value answers 400."
    )

    def get_paginated_response(self, data):
        page = self.page
        return Response(
            {
                "total_items": page.paginator.count,
                "total_pages": page.paginator.num_pages,
                "page_number": page.number,
                "size": len(data),
                "first_page": not page.has_previous(),
                "last_page": not page.has_next(),
                "empty": page.paginator.count == 0,
                "contents": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": [
                "total_items",
                "total_pages",
                "page_number",
                "size",
                "first_page",
                "last_page",
                "empty",
                "contents",
            ],
            "properties": {
                "total_items": {"type": "integer", "description": "Results on all pages."},
                "total_pages": {"type": "integer"},
                "page_number": {"type": "integer"},
                "size": {"type": "integer", "description": "Results on this page."},
                "first_page": {"type": "boolean"},
                "last_page": {"type": "boolean"},
                "empty": {"type": "boolean", "description": "True when nothing matched."},
                "contents": schema,
            },
        }
