from django.db import migrations

# PostgreSQL only, like 0003: an index of the name part (weight A) of each service's
# search vector, the expression resources.search.NameVector builds. It finds the
# services whose names match a search without reading every other match.
FORWARD = """
    CREATE INDEX IF NOT EXISTS service_name_vector_gin
        ON resources_service USING gin (ts_filter(search_vector, '{a}'::"char"[]))
"""
BACKWARD = "DROP INDEX IF EXISTS service_name_vector_gin"


def run(statement):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("resources", "0006_published_service_name_index")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
