from django.apps import AppConfig


class SearchConfig(AppConfig):
    # What each type contributes to the index is part of its declaration (crm/*/recordtypes.py).
    name = "crm.search"
    label = "search"

    def ready(self):
        from crm.search import reindex  # noqa: F401  (registers the "search.reindex" job handler)
