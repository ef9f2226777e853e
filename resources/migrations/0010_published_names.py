import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

# The published services' names as the search index writes them (the name part, weight
# A, of each search vector), so the search vectors already stored need no rebuild. Their index replaces migration 0007's index of the
# same expression on the services' table, which searches no longer read.
FILL = """
    INSERT INTO resources_publishedname (service_id, name, vector)
    SELECT id, name, ts_filter(search_vector, '{a}'::"char"[])
    FROM resources_service
    WHERE publication_state = 'published' AND search_vector IS NOT NULL
"""
DROP_OLD_INDEX = "DROP INDEX IF EXISTS service_name_vector_gin"
CREATE_OLD_INDEX = """
    CREATE INDEX IF NOT EXISTS service_name_vector_gin
        ON resources_service USING gin (ts_filter(search_vector, '{a}'::"char"[]))
"""


class Migration(migrations.Migration):
    dependencies = [("resources", "0009_place_bits")]

    operations = [
        migrations.CreateModel(
            name="PublishedName",
            fields=[
                (
                    "service",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="resources.service",
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("vector", django.contrib.postgres.search.SearchVectorField()),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["vector"], name="published_name_vector_gin"
                    )
                ],
            },
        ),
        migrations.RunSQL([FILL, DROP_OLD_INDEX], [CREATE_OLD_INDEX]),
    ]
