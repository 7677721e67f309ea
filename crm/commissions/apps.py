from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    """Commissions: plans (base rate, marginal tiers by quota attainment, category rates, cap, clawback
    window), their assignment to reps per period, deal splits, and versioned statements (docs/commissions.md)."""

    name = "crm.commissions"
    label = "commissions"
    verbose_name = "Commissions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm.commissions import jobs  # registers the "commissions.recalculate" job handler
        from crm.core import events

        events.subscribe(jobs.on_event)
