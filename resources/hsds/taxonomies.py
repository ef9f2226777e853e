"""The directory's two taxonomies as HSDS sees them, and the ids of derived HSDS records.

HSDS gives every record a UUID. Needs, populations and their terms have their own; the
taxonomies themselves, and the records HSDS has but the directory stores as plain
many-to-many links (a service's languages, a term attached to a service), get UUIDs
derived from what they link, so that a partner sees the same id on every request.
"""

import uuid
from dataclasses import dataclass

from resources.models import Need, Population

# Never change: partners store the ids derived from it.
NAMESPACE = uuid.UUID("4e8536f3-59ec-4877-9ce1-08a56c75c554")


def derived_id(*parts):
    return uuid.uuid5(NAMESPACE, ":".join(str(part) for part in parts))


@dataclass(frozen=True)
class Taxonomy:
    id: uuid.UUID
    name: str
    description: str
    model: type
    # The ServiceFilter field that filters services by a term of this taxonomy.
    filter_name: str


NEEDS = Taxonomy(
    id=uuid.UUID("1b6a45ce-b288-4db9-8f0d-15ab982fe23a"),
    name="Needs",
    description="The kinds of help a survivor may need: counseling, legal aid, housing...",
    model=Need,
    filter_name="need",
)
POPULATIONS = Taxonomy(
    id=uuid.UUID("9606f57a-d642-4f1f-8a14-dbb6b4caab8f"),
    name="Populations",
    description="The groups of people a service is meant for: women, youth, foreign nationals...",
    model=Population,
    filter_name="population",
)
TAXONOMIES = (NEEDS, POPULATIONS)


def taxonomy_of(term):
    return NEEDS if isinstance(term, Need) else POPULATIONS


def find_taxonomy(taxonomy_id):
    """The taxonomy with this id (a uuid.UUID), or None."""
    return next((t for t in TAXONOMIES if t.id == taxonomy_id), None)
