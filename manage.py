#!/usr/bin/env python
"""Django's command-line utility, with one-line errors for a wrong setting or an unreachable database."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"kaimenhong: configuration error: {exc}")
    except Exception as exc:
        from django.db import OperationalError

        if isinstance(exc, OperationalError):
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            sys.exit(f"kaimenhong: DATABASE_URL: cannot use the database ({first_line})")
        raise


if __name__ == "__main__":
    main()
