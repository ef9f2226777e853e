"""How many services each need, population and language has, among a search's results."""

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from resources.models import Service


def facet_counts(services, kinds=("needs", "populations", "languages")):
    """How many `services` there are, and how many of them each need, population and
    language has, in one query: {"count": n, "needs": {need pk: n}, ...}.

    `services` is a list of ids (a search's window: services that match), sent as one
    array rather than a parameter each; or a queryset of services, each at most once (a
    search's filters).
    """
    counts = {"count": 0, **{kind: {} for kind in kinds}}
    window = not isinstance(services, QuerySet)
    if window and not services:
        return counts
    connection = connections[Service.objects.db if window else services.db]
    if window:
        matches = f"SELECT DISTINCT unnest(%s::{Service._meta.pk.db_type(connection)}[])"
        params = [list(services)]
    else:
        # Its own ordering (by relevance) would rank every match for nothing.
        try:
            matches, params = services.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # none()
            return counts
    branches = ["SELECT 'count', NULL, COUNT(*) FROM matches"]
    to_pk = {}  # how each taxonomy's ids (as text: needs' are UUIDs, languages' codes) are read
    for kind in kinds:
        field = Service._meta.get_field(kind)
        to_pk[kind] = field.related_model._meta.pk.to_python
        table, service, term = (
            field.m2m_db_table(),
            field.m2m_column_name(),
            field.m2m_reverse_name(),
        )
        branches.append(
            f"SELECT '{kind}', t.{term}::text, COUNT(*) FROM {table} t"
            f" WHERE t.{service} IN (SELECT id FROM matches) GROUP BY t.{term}"
        )
    sql = f"WITH matches (id) AS ({matches}) " + " UNION ALL ".join(branches)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, pk, count in cursor.fetchall():
            if kind == "count":
                counts["count"] = count
            else:
                counts[kind][to_pk[kind](pk)] = count
    return counts
