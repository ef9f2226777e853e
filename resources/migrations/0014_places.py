import django.db.models.functions.text
from django.db import migrations, models

# The distance between two places: earthdistance's ll_to_earth() and earth_box(), on
# cube. The ZIP code table (the model is unmanaged: see ZipCode) with an index of its
# centroids, and one of the public locations' own coordinates, for "near" searches.
FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS cube",
    "CREATE EXTENSION IF NOT EXISTS earthdistance",
    """
    CREATE TABLE IF NOT EXISTS resources_zipcode (
        code varchar(5) PRIMARY KEY,
        city varchar(100) NOT NULL,
        state varchar(2) NOT NULL,
        county varchar(100) NOT NULL,
        latitude double precision NOT NULL,
        longitude double precision NOT NULL,
        active boolean NOT NULL
    )
    """,
    # A city with its state (the near and city filters).
    "CREATE INDEX IF NOT EXISTS zipcode_place_idx ON resources_zipcode (state, upper(city))",
    # The ZIP codes near a point.
    """
    CREATE INDEX IF NOT EXISTS zipcode_earth_idx
        ON resources_zipcode USING gist (ll_to_earth(latitude, longitude))
    """,
    # The public locations near a point, by their own coordinates.
    """
    CREATE INDEX IF NOT EXISTS location_earth_idx ON resources_location
        USING gist (ll_to_earth(latitude::float8, longitude::float8))
        WHERE latitude IS NOT NULL AND NOT confidential
    """,
]
BACKWARD = [
    "DROP INDEX IF EXISTS location_earth_idx",
    "DROP TABLE IF EXISTS resources_zipcode",
]


def load_zip_codes(apps, schema_editor):
    import zipcodes

    rows = [
        (
            row["zip_code"],
            row["city"][:100],
            row["state"],
            (row["county"] or "")[:100],
            float(row["lat"]),
            float(row["long"]),
            bool(row["active"]),
        )
        for row in zipcodes.list_all()
        if row["lat"] and row["long"]
    ]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("TRUNCATE resources_zipcode")
        with cursor.cursor.copy(
            "COPY resources_zipcode (code, city, state, county, latitude, longitude, active) "
            "FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)


class Migration(migrations.Migration):
    dependencies = [("resources", "0013_covered_by")]

    operations = [
        migrations.CreateModel(
            name="ZipCode",
            fields=[
                ("code", models.CharField(max_length=5, primary_key=True, serialize=False)),
                ("city", models.CharField(max_length=100)),
                ("state", models.CharField(max_length=2)),
                ("county", models.CharField(blank=True, max_length=100)),
                ("latitude", models.FloatField()),
                ("longitude", models.FloatField()),
                ("active", models.BooleanField(default=True)),
            ],
            options={"db_table": "resources_zipcode", "ordering": ["code"], "managed": False},
        ),
        migrations.AddIndex(
            model_name="address",
            index=models.Index(
                django.db.models.functions.text.Left("postal_code", 5), name="address_zip5_idx"
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(load_zip_codes, migrations.RunPython.noop),
    ]
