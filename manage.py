#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that serve or work for a long time check the database before they start.
NEEDS_DATABASE_AT_START = {"runserver", "migrate", "load_demo", "createsuperuser"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings.local")
    from django.core.management import execute_from_command_line

    from erp.startup import exit_on_bad_configuration, run_guarded

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in NEEDS_DATABASE_AT_START and os.environ.get("RUN_MAIN") != "true":
        exit_on_bad_configuration(check_database=True)
    run_guarded(lambda: execute_from_command_line(sys.argv))


if __name__ == "__main__":
    main()
