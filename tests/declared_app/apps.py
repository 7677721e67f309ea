from django.apps import AppConfig


class DeclaredAppConfig(AppConfig):
    """A record type declared only here, in a test app: the proof that a type needs one model, one
    declaration and one migration to appear in the API, the web app, search, import, export, the
    change log, saved views and automation (tests/test_declared_type.py)."""

    name = "tests.declared_app"
    label = "declared_app"
