from django.db import migrations, models

# Fills the new place_bits of the services already stored from their filter tokens: bit i
# for the i-th of these, as the search index's PLACE_TOKENS was written with this field
# (a migration must not follow the code as it is today).
STATE_CODES = """
    AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH
    NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI FM MH
    PW AA AE AP
""".split()  # noqa: SIM905
PLACE_TOKENS = ["nationwide", *(f"state:{code}" for code in STATE_CODES)]
FILL = """
    UPDATE resources_service SET place_bits = COALESCE((
        SELECT bit_or(1::bigint << (array_position(%(places)s::text[], token) - 1))
        FROM unnest(tsvector_to_array(filter_vector)) AS token
        WHERE token = ANY(%(places)s::text[])
    ), 0)
"""


class Migration(migrations.Migration):
    dependencies = [("resources", "0008_filter_vector")]

    operations = [
        migrations.RemoveIndex(model_name="service", name="service_state_name_idx"),
        migrations.AddField(
            model_name="service",
            name="place_bits",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.RunSQL([(FILL, {"places": PLACE_TOKENS})], migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="service",
            index=models.Index(
                fields=["publication_state", "name"],
                include=("id", "place_bits"),
                name="service_listing_idx",
            ),
        ),
    ]
