from django.apps import AppConfig


class SalesConfig(AppConfig):
    """Sales reads across deals: the pipeline board, the forecast and the funnel."""

    name = "crm.sales"
    label = "sales"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

        from crm.sales import kept

        # The per-day sums follow every save and delete of a deal or an activity (crm/sales/kept.py).
        for model in kept.TRACKED:
            name = model._meta.model_name
            pre_save.connect(kept.before_save, sender=model, dispatch_uid=f"sales-sums-before-{name}")
            post_save.connect(kept.after_save, sender=model, dispatch_uid=f"sales-sums-after-{name}")
            post_delete.connect(kept.after_delete, sender=model, dispatch_uid=f"sales-sums-delete-{name}")
        pre_delete.connect(kept.user_deleted, sender=get_user_model(), dispatch_uid="sales-sums-user-deleted")
