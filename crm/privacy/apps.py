from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """GDPR tools: subject access (everything held about a person), erasure, and the block list."""

    name = "crm.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from crm.privacy import retention  # noqa: F401  (registers the "privacy.retention" job handler)
