"""Production settings for the verify benchmark: the rate limiter stays in
the path but with a limit the load generator cannot reach."""

from academy.settings.production import *  # noqa: F403

CERTIFICATES_VERIFY_RATE_LIMIT = (1_000_000, 60)
