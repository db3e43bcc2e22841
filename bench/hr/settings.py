"""Settings for the HR benchmark: the test settings (on PostgreSQL via DATABASE_URL;
base settings add django.contrib.postgres for a PostgreSQL database)."""

from academy.settings.test import *  # noqa: F403

ALLOWED_HOSTS = ["*"]
DEBUG = False
