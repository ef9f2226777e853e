"""Generate a large, realistic, made-up directory for measuring search speed.

For benchmarks only (`make bench` loads it into a scratch database): every name,
address and phone number here is invented, so never run it against a real directory.
"""

import datetime
import random
import time
import uuid
from collections import Counter

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction

from resources.models import (
    Address,
    Language,
    Location,
    Need,
    Organization,
    Phone,
    Population,
    PublicationState,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
)
from resources.search.index import reindex

# (city, state, first three ZIP digits, latitude, longitude)
CITIES = [
    ("Chicago", "IL", "606", 41.88, -87.63),
    ("Springfield", "IL", "627", 39.78, -89.65),
    ("New York", "NY", "100", 40.71, -74.01),
    ("Buffalo", "NY", "142", 42.89, -78.88),
    ("Los Angeles", "CA", "900", 34.05, -118.24),
    ("San Diego", "CA", "921", 32.72, -117.16),
    ("Oakland", "CA", "946", 37.80, -122.27),
    ("Houston", "TX", "770", 29.76, -95.37),
    ("El Paso", "TX", "799", 31.76, -106.49),
    ("Dallas", "TX", "752", 32.78, -96.80),
    ("Miami", "FL", "331", 25.76, -80.19),
    ("Orlando", "FL", "328", 28.54, -81.38),
    ("Atlanta", "GA", "303", 33.75, -84.39),
    ("Seattle", "WA", "981", 47.61, -122.33),
    ("Portland", "OR", "972", 45.52, -122.68),
    ("Phoenix", "AZ", "850", 33.45, -112.07),
    ("Denver", "CO", "802", 39.74, -104.99),
    ("Minneapolis", "MN", "554", 44.98, -93.27),
    ("Detroit", "MI", "482", 42.33, -83.05),
    ("Columbus", "OH", "432", 39.96, -83.00),
    ("Philadelphia", "PA", "191", 39.95, -75.17),
    ("Boston", "MA", "021", 42.36, -71.06),
    ("Baltimore", "MD", "212", 39.29, -76.61),
    ("Charlotte", "NC", "282", 35.23, -80.84),
    ("Nashville", "TN", "372", 36.16, -86.78),
    ("New Orleans", "LA", "701", 29.95, -90.07),
    ("Las Vegas", "NV", "891", 36.17, -115.14),
    ("Albuquerque", "NM", "871", 35.08, -106.65),
    ("Kansas City", "MO", "641", 39.10, -94.58),
    ("Omaha", "NE", "681", 41.26, -95.93),
    ("Salt Lake City", "UT", "841", 40.76, -111.89),
    ("Anchorage", "AK", "995", 61.22, -149.90),
    ("Honolulu", "HI", "968", 21.31, -157.86),
    ("Newark", "NJ", "071", 40.74, -74.17),
    ("Richmond", "VA", "232", 37.54, -77.44),
    ("Louisville", "KY", "402", 38.25, -85.76),
    ("Milwaukee", "WI", "532", 43.04, -87.91),
    ("Boise", "ID", "837", 43.62, -116.20),
    ("Jackson", "MS", "392", 32.30, -90.18),
    ("Little Rock", "AR", "722", 34.75, -92.29),
]
ORG_WORDS = [
    ("Hope", "Harbor", "Bridge", "Haven", "Pathways", "Compass", "Lantern", "Rise", "Anchor"),
    ("Alliance", "Center", "Network", "Coalition", "Project", "Collective", "Services"),
]
STREETS = ["Main St", "Oak Ave", "Lake Shore Dr", "Elm St", "2nd Ave", "Market St", "Park Rd"]
SENTENCES = [
    "Trauma-informed staff meet survivors where they are.",
    "Services are confidential and survivor-led.",
    "Walk-ins are welcome during opening hours.",
    "Interpreters can join any appointment.",
    "We work with caseworkers to coordinate referrals.",
    "No documents are needed for a first visit.",
    "Peer mentors with lived experience support every client.",
]


class Command(BaseCommand):
    help = "Bulk-create N made-up published services for benchmarks (never for real data)."

    def add_arguments(self, parser):
        parser.add_argument("--services", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=20000)

    def handle(self, *args, services, seed, batch_size, **options):
        if services < 1:
            raise CommandError("--services must be at least 1.")
        if not Need.objects.exists():
            call_command("loaddata", "taxonomy", verbosity=0)
        started = time.monotonic()
        with transaction.atomic():
            with connection.cursor() as cursor:
                # As pg_restore --disable-triggers does: the rows are made consistent here,
                # so the foreign keys' checks (and the index's triggers) are skipped for the
                # load, which they would make several times slower; reindex() follows.
                cursor.execute("SET LOCAL session_replication_role = replica")
            counts = Generator(random.Random(seed), batch_size).run(services)
        index_started = time.monotonic()
        # Statistics of what was just written, as after a restore: without them the
        # planner takes the tables for empty and indexing is several times slower.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        reindex()
        finished = time.monotonic()
        summary = ", ".join(f"{n} {name}" for name, n in counts.items())
        self.stdout.write(
            f"Created {summary} in {index_started - started:.1f} s; "
            f"indexed in {finished - index_started:.1f} s."
        )


class Generator:
    """Builds rows as plain dicts (model instances cost more than the database writes)."""

    TABLES = (
        Service,
        Location,
        Address,
        ServiceAtLocation,
        Phone,
        Schedule,
        ServiceArea,
        Service.needs.through,
        Service.populations.through,
        Service.languages.through,
    )

    def __init__(self, rng, batch_size):
        self.rng = rng
        self.batch_size = batch_size
        self.needs = list(Need.objects.all())
        self.populations = list(Population.objects.all())
        self.languages = list(Language.objects.values_list("code", flat=True))
        self.now = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)

    def uuid(self):
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def save(self, model, rows):
        # COPY is several times faster than INSERT for a hundred thousand rows. Auto ids
        # (the m2m tables') are left to the database; other fields take their defaults.
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
        defaults = {
            f.attname: self.now if getattr(f, "auto_now", False) else f.get_default()
            for f in fields
        }
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row.get(f.attname, defaults[f.attname]) for f in fields])
        return len(rows)

    def run(self, total):
        rng = self.rng
        prefix = f"demo-{rng.randrange(16**6):06x}"
        organizations = []
        for i in range(max(1, total // 5)):
            organizations.append(
                {
                    "id": self.uuid(),
                    "slug": f"{prefix}-org-{i}",
                    "name": f"{rng.choice(ORG_WORDS[0])} {rng.choice(ORG_WORDS[1])} of "
                    f"{rng.choice(CITIES)[0]} {i}",
                    "description": " ".join(rng.sample(SENTENCES, 2)),
                    "website": f"https://example.org/{prefix}/{i}",
                }
            )
        counts = Counter({"organizations": self.save(Organization, organizations)})
        # A batch at a time, so that a million services never sit in memory at once.
        for start in range(0, total, self.batch_size):
            tables = {model: [] for model in self.TABLES}
            for i in range(start, min(start + self.batch_size, total)):
                self.add_service(i, prefix, rng.choice(organizations), tables)
            for model, rows in tables.items():
                counts[model._meta.verbose_name_plural] += self.save(model, rows)
        return counts

    def add_service(self, i, prefix, organization, tables):
        rng = self.rng
        needs = rng.sample(self.needs, rng.randint(1, 3))
        city, state, zip3, lat, lon = rng.choice(CITIES)
        service_id, location_id = self.uuid(), self.uuid()
        kind = rng.choice(["Program", "Clinic", "Project", "Center"])
        tables[Service].append(
            {
                "id": service_id,
                "slug": f"{prefix}-service-{i}",
                "organization_id": organization["id"],
                "name": f"{city} {needs[0].name} {kind} {i}",
                "description": f"{needs[0].description} " + " ".join(rng.sample(SENTENCES, 2)),
                "keywords": ", ".join(need.slug.replace("-", " ") for need in needs),
                "publication_state": PublicationState.PUBLISHED,
                "source_document": "seed_demo (made-up benchmark data)",
                "last_verified": datetime.date(2026, 1, 1) + datetime.timedelta(rng.randrange(320)),
                "fees_description": "Free",
                "created": self.now,
            }
        )
        tables[Service.needs.through] += [
            {"service_id": service_id, "need_id": need.id} for need in needs
        ]
        tables[Service.populations.through] += [
            {"service_id": service_id, "population_id": population.id}
            for population in rng.sample(self.populations, rng.randint(1, 3))
        ]
        spoken = {"en", *rng.sample(self.languages, rng.randint(0, 2))} & set(self.languages)
        tables[Service.languages.through] += [
            {"service_id": service_id, "language_id": code} for code in sorted(spoken)
        ]
        tables[Location].append(
            {
                "id": location_id,
                "organization_id": organization["id"],
                "name": f"{organization['name']} — {city}",
                "latitude": round(lat + rng.uniform(-0.2, 0.2), 6),
                "longitude": round(lon + rng.uniform(-0.2, 0.2), 6),
                "confidential": rng.random() < 0.05,
            }
        )
        tables[Address].append(
            {
                "id": self.uuid(),
                "location_id": location_id,
                "address_1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
                "city": city,
                "state_province": state,
                "postal_code": f"{zip3}{rng.randint(0, 99):02d}",
            }
        )
        tables[ServiceAtLocation].append(
            {"id": self.uuid(), "service_id": service_id, "location_id": location_id}
        )
        tables[Phone].append(
            {
                "id": self.uuid(),
                "service_id": service_id,
                "number": f"({rng.randint(201, 989)}) 555-{rng.randint(0, 9999):04d}",
            }
        )
        if rng.random() < 0.1:
            tables[Schedule].append(
                {"id": self.uuid(), "service_id": service_id, "open_24_7": True}
            )
        else:
            opens = rng.choice([8, 9, 10])
            closes = datetime.time(opens + rng.choice([6, 8, 9]))
            tables[Schedule] += [
                {
                    "id": self.uuid(),
                    "location_id": location_id,
                    "weekday": day,
                    "opens_at": datetime.time(opens),
                    "closes_at": closes,
                }
                for day in range(1, 6)
            ]
        area = {"id": self.uuid(), "service_id": service_id, "extent": "state", "state": state}
        if rng.random() < 0.03:
            area.update(extent="nationwide", state="")
        tables[ServiceArea].append(area)
