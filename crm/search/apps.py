from django.apps import AppConfig


class SearchConfig(AppConfig):
    # What each type contributes to the index is part of its declaration (crm/*/recordtypes.py).
    name = "crm.search"
    label = "search"
