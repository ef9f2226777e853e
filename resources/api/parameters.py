"""Which query parameters each endpoint takes: those its OpenAPI description lists.

The description is the partners' contract (their generated clients are built from it), so
a parameter it does not list for an endpoint, a misspelt `neeed=legal-aid` say, is refused
with a 400 naming it, rather than silently ignored.
"""

import functools
import re

from drf_spectacular.generators import SchemaGenerator

ALWAYS = {"format"}  # DRF's format override, on every endpoint


@functools.cache
def documented():
    """(path pattern, the query parameters its GET takes), for every path described;
    built once a process, from the same generator as /api/schema/."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    table = []
    for path, operations in schema["paths"].items():
        parts = re.split(r"\{[^}]+\}", path)
        pattern = re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")
        names = {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"}
        table.append((path, pattern, names | ALWAYS))
    # A fixed path (/services/facets/) before a pattern it also matches (/services/{id}/).
    table.sort(key=lambda row: "{" in row[0])
    return [(pattern, names) for _, pattern, names in table]


def unknown(path, names):
    """The names among `names` the endpoint at `path` does not take, sorted."""
    for pattern, taken in documented():
        if pattern.match(path):
            return sorted(set(names) - taken)
    return []
