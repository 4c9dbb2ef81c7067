"""Helpers of the migrations that create the roles (groups) and grant their permissions.

Permissions are normally created after all migrations run (post_migrate), so on a fresh
database they are created here first for the apps these migrations need.
"""

from django.contrib.auth.management import create_permissions


def ensure_permissions(apps, app_labels=("auth", "contenttypes", "articles")):
    for app_label in app_labels:
        app_config = apps.get_app_config(app_label)
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True  # create_permissions skips apps without models
        create_permissions(app_config, verbosity=0)
        app_config.models_module = previous


def grant(apps, group_name, permissions):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    for app_label, codename in permissions:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
