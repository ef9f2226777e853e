"""The two roles a coalition hands its volunteers: Editors prepare entries and submit them
for review; Reviewers also publish, send back, archive, restore and verify them.

Neither may delete a service, an organization or a location: services are archived, and
every change is kept in their history. The rows a service or location lists (phones,
hours, areas, addresses, its places) may be removed from its form, because that change
is recorded with the rest and can be restored."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CURATED = [
    "organization",
    "service",
    "location",
    "address",
    "serviceatlocation",
    "phone",
    "schedule",
    "servicearea",
]
REMOVABLE_ROWS = ["address", "serviceatlocation", "phone", "schedule", "servicearea"]
LOOKED_UP = ["need", "population", "language"]

EDITORS = (
    [f"{action}_{model}" for model in CURATED for action in ("view", "add", "change")]
    + [f"delete_{model}" for model in REMOVABLE_ROWS]
    + [f"view_{model}" for model in LOOKED_UP]
    + ["view_suggestion", "change_suggestion"]
)
REVIEWERS = EDITORS + ["publish_service"]


def create_groups(apps, schema_editor):
    # Permissions are created after migrations; make sure these exist now, on a new
    # database as on an old one.
    config = apps.get_app_config("resources")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [("Editors", EDITORS), ("Reviewers", REVIEWERS)]:
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="resources", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for the {name} group: {sorted(missing)}")
        # Added to, never replaced: a coalition may have given its groups more.
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("resources", "0019_curation"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
