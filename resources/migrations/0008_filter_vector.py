import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

# Fills the new filter_vector of the services already stored. A migration must not call
# the search index, which follows the models as they are today; this is its token query
# as it was written with this field.
SCHEDULES = """
    SELECT service_id, weekday, opens_at, closes_at, open_24_7
    FROM resources_schedule WHERE service_id IS NOT NULL
    UNION ALL
    SELECT sal.service_id, h.weekday, h.opens_at, h.closes_at, h.open_24_7
    FROM resources_schedule h
    JOIN resources_serviceatlocation sal ON sal.location_id = h.location_id
"""
FILL = f"""
    WITH tokens AS (
        SELECT x.service_id, array_to_tsvector(array_agg(DISTINCT x.token)) AS tokens
        FROM (
            SELECT service_id, 'need:' || need_id AS token FROM resources_service_needs
            UNION ALL
            SELECT service_id, 'population:' || population_id FROM resources_service_populations
            UNION ALL
            SELECT service_id, 'language:' || language_id FROM resources_service_languages
            UNION ALL
            SELECT service_id,
                   CASE WHEN extent = 'nationwide' THEN 'nationwide' ELSE 'state:' || state END
            FROM resources_servicearea
            WHERE extent = 'nationwide' OR state <> ''
            UNION ALL
            SELECT sal.service_id, 'state:' || a.state_province
            FROM resources_serviceatlocation sal
            JOIN resources_location l ON l.id = sal.location_id AND NOT l.confidential
            JOIN resources_address a ON a.location_id = l.id
            WHERE a.state_province <> ''
            UNION ALL
            SELECT s.service_id, 'open:24/7' FROM ({SCHEDULES}) s WHERE s.open_24_7
            UNION ALL
            SELECT s.service_id, 'open:' || ((s.weekday - 1) * 24 + hour)
            FROM ({SCHEDULES}) s, generate_series(0, 23) AS hour
            WHERE s.weekday IS NOT NULL
              AND s.opens_at <= make_time(hour, 0, 0)
              AND s.closes_at - time '00:00' >= make_interval(hours => hour + 1)
        ) x
        GROUP BY x.service_id
    )
    UPDATE resources_service s SET filter_vector = COALESCE(t.tokens, ''::tsvector)
    FROM resources_service s2 LEFT JOIN tokens t ON t.service_id = s2.id
    WHERE s2.id = s.id
"""


class Migration(migrations.Migration):
    dependencies = [("resources", "0007_name_vector_index")]

    operations = [
        migrations.AddField(
            model_name="service",
            name="filter_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="service",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["filter_vector"], name="service_filter_vector_gin"
            ),
        ),
        # For open now (resources.filters._open_now): the schedules that close
        # within the current hour.
        migrations.AddIndex(
            model_name="schedule",
            index=models.Index(fields=["weekday", "closes_at"], name="schedule_closing_idx"),
        ),
    ]
