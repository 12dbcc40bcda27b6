"""Strings Django 5.2 shows in the admin but ships without a Simplified Chinese translation.

Listing them here puts them in our catalogue (makemessages finds them), and a project
catalogue in LOCALE_PATHS takes precedence over Django's own.
"""

from django.utils.translation import gettext_noop

DJANGO_ADMIN_STRINGS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop(
        "After you’ve created a user, you’ll be able to edit more user options."
    ),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
)
