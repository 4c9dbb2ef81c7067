"""Who on the staff gets an email, and how its subject line is made safe."""

from django.contrib.auth import get_user_model


def group_emails(group_name):
    """The email addresses of the active members of the group `group_name`."""
    users = get_user_model().objects.filter(groups__name=group_name, is_active=True).exclude(email="")
    return set(users.values_list("email", flat=True))


def one_line(text):
    """Text safe for an email header: line breaks and runs of white space become one space."""
    return " ".join(str(text).split())
