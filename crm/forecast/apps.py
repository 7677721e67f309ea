from django.apps import AppConfig


class ForecastConfig(AppConfig):
    """Forecasting and quotas: periods with the fiscal year start, forecast categories, the forecast
    methods (methods.py, pure functions), quotas and managers' adjustments, the /forecast/ page and API."""

    name = "crm.forecast"
    label = "forecast"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, post_save, pre_delete

        from crm.forecast import (
            generation,
            snapshots,  # noqa: F401  (registers the "forecast.snapshot" job handler)
            staycounts,
            stays,
        )
        from crm.records.models import Deal, StageChange

        post_save.connect(stays.move_saved, sender=StageChange, dispatch_uid="forecast-stays-move-saved")
        pre_delete.connect(staycounts.deal_deleting, sender=Deal, dispatch_uid="forecast-staycounts-deal-deleting")
        post_migrate.connect(generation.migrated, sender=self, dispatch_uid="forecast-generation-triggers")
