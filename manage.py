#!/usr/bin/env python
import os
import sys


def main() -> None:
    # Developers run manage.py by hand, so local unless told otherwise; servers and workers default to production.
    # Set before importing `config`, whose Celery app chooses the settings as soon as the package loads.
    os.environ.setdefault("DJANGO_ENV", "local")
    from config.env import settings_module_choose

    settings_module_choose(default_env="local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
