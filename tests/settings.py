"""The test run's settings: the product's, plus an app that declares a record type of its own
(tests/declared_app), so every test runs with a type no product code names."""

from crm.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.declared_app"]  # noqa: F405

# One process: per-process memory counts every request, and keeps the rate limiter's reads and writes
# out of the query counts other tests assert. The limits are far above what any test sends; the rate
# limit tests set their own (tests/test_api_ratelimits.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
API_RATE_LIMIT = API_RATE_LIMIT_HEAVY = API_RATE_LIMIT_ANON = API_RATE_LIMIT_IP = "1000000/min"
