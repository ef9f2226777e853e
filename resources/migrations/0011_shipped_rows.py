import django.utils.timezone
from django.db import migrations, models

# A service's names row goes with the service in the database itself: deleting a service
# re-indexes it on the way (its locations' links go first), which could write the row
# again just before the service is deleted.
NAMES_FOLLOW_SERVICES = """
    DO $$
    DECLARE found text;
    BEGIN
        SELECT conname INTO found FROM pg_constraint
        WHERE conrelid = 'resources_publishedname'::regclass AND contype = 'f';
        EXECUTE format('ALTER TABLE resources_publishedname DROP CONSTRAINT %I', found);
    END $$;
    ALTER TABLE resources_publishedname ADD CONSTRAINT publishedname_service_fk
        FOREIGN KEY (service_id) REFERENCES resources_service (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [("resources", "0010_published_names")]

    operations = [
        migrations.CreateModel(
            name="ShippedRow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("model", models.CharField(help_text="app_label.model_name", max_length=100)),
                ("object_pk", models.CharField(max_length=64)),
                (
                    "loaded",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("model", "object_pk"), name="shipped_row_once"
                    )
                ],
            },
        ),
        migrations.RunSQL(NAMES_FOLLOW_SERVICES, migrations.RunSQL.noop),
    ]
