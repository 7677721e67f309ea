"""The test run's settings: the product's, plus an app that declares a record type of its own
(tests/declared_app), so every test runs with a type no product code names."""

from crm.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.declared_app"]  # noqa: F405
