from django.db import migrations

# An index of the name part (weight A) of each service's search vector. It finds the
# services whose names match a search without reading every other match. (Migration
# 0010 replaced it with the names table.)
FORWARD = """
    CREATE INDEX IF NOT EXISTS service_name_vector_gin
        ON resources_service USING gin (ts_filter(search_vector, '{a}'::"char"[]))
"""
BACKWARD = "DROP INDEX IF EXISTS service_name_vector_gin"


class Migration(migrations.Migration):
    dependencies = [("resources", "0006_published_service_name_index")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
