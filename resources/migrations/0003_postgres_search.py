from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

# What full-text search needs beyond Django's own schema.
FORWARD = [
    # Search ignores accents: "therapie" and "thérapie" are the same word.
    """
    DO $$ BEGIN
        CREATE TEXT SEARCH CONFIGURATION english_unaccent (COPY = english);
    EXCEPTION WHEN unique_violation THEN NULL; END $$
    """,
    """
    ALTER TEXT SEARCH CONFIGURATION english_unaccent
        ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem
    """,
    # Typo correction: the known words nearest to a mistyped one.
    """
    CREATE INDEX IF NOT EXISTS searchword_word_trgm
        ON resources_searchword USING gin (word gin_trgm_ops)
    """,
]
BACKWARD = [
    "DROP INDEX IF EXISTS searchword_word_trgm",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS english_unaccent",
]


class Migration(migrations.Migration):
    dependencies = [("resources", "0002_search")]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
