from django.apps import AppConfig


class BenchConfig(AppConfig):
    """`crm bench seed|run`: synthetic data at scale and the HTTP benchmark against it."""

    name = "crm.bench"
    label = "bench"
