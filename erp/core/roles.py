"""The staff roles (auth groups) and what each may do, kept as data.

Migrations call roles_sync() so the groups exist with their permissions on every
database; a migration that adds models calls it again to extend the groups.
"""

from __future__ import annotations

from typing import Any

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL = (VIEW, ADD, CHANGE, DELETE)

# (app label, model name or "*", actions); a rule naming a model replaces the app's "*"
# rule for that model. Ops never gets finance models or credentials changes; finance reads
# orders but does not change them; admin runs the whole system.
ROLE_RULES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "ops": [
        ("orders", "*", (VIEW, ADD, CHANGE)),
        ("inventory", "*", (VIEW, ADD, CHANGE)),
        ("logistics", "*", (VIEW, ADD, CHANGE)),
        # Carrier accounts hold credentials: ops pick carriers, admin configures them.
        ("logistics", "carrieraccount", (VIEW,)),
        ("connectors", "*", (VIEW,)),
        ("core", "outboxmessage", (VIEW, CHANGE)),
        ("core", "workerheartbeat", (VIEW,)),
        # Ops follow the long jobs (backfills, batch labels) they and others started.
        ("core", "job", (VIEW,)),
        ("core", "jobitem", (VIEW,)),
    ],
    "finance": [
        ("finance", "*", ALL),
        ("orders", "*", (VIEW,)),
        ("logistics", "*", (VIEW,)),
        ("inventory", "*", (VIEW,)),
        ("connectors", "channel", (VIEW,)),
        ("core", "outboxmessage", (VIEW,)),
    ],
    "admin": [
        ("orders", "*", ALL),
        ("inventory", "*", ALL),
        ("logistics", "*", ALL),
        ("finance", "*", ALL),
        ("connectors", "*", ALL),
        ("core", "*", ALL),
        ("auth", "user", ALL),
        ("auth", "group", (VIEW,)),
    ],
}


def roles_sync(apps: Any, schema_editor: Any = None) -> None:
    """Create the role groups and set their permissions from ROLE_RULES (idempotent)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; create them now so this migration
    # can hand them out on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, rules in ROLE_RULES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        specific = {(app, model): actions for app, model, actions in rules}
        wildcard = {app: actions for app, model, actions in rules if model == "*"}
        wanted = set()
        for perm in permission_model.objects.filter(
            content_type__app_label__in={app for app, _, _ in rules}
        ).values("pk", "codename", "content_type__app_label", "content_type__model"):
            app = perm["content_type__app_label"]
            actions = specific.get((app, perm["content_type__model"]))
            if actions is None:
                actions = wildcard.get(app, ())
            if perm["codename"].split("_", 1)[0] in actions:
                wanted.add(perm["pk"])
        group.permissions.set(wanted)
