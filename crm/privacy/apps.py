from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """GDPR tools: subject access (everything held about a person), erasure, and the block list."""

    name = "crm.privacy"
    label = "privacy"
    verbose_name = "Privacy"
