#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as error:
        # An unreachable server is a setting to fix, not a bug: say where, in one line.
        from django.conf import settings

        from directory.database import unreachable

        sys.exit(unreachable(settings.DATABASES["default"]) or f"Database error: {error}")
