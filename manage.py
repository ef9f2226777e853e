#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from directory.database import DatabaseUnavailable, unreachable

    # A setting that is missing or wrong, or a database that cannot be reached, is
    # something to fix, not a bug: say which and why in one line, at once.
    try:
        problem = unreachable(settings.DATABASES["default"])
    except (DatabaseUnavailable, ImproperlyConfigured) as error:
        problem = str(error)
    if problem:
        sys.exit(problem)
    execute_from_command_line(sys.argv)
