from django.apps import AppConfig


class PredictConfig(AppConfig):
    """Predicted win probability: features as of a date, training and evaluation against the
    stage-probability baseline, scores of open deals with their reasons (docs/predict.md)."""

    name = "crm.predict"
    label = "predict"

    def ready(self) -> None:
        from crm.predict import jobs  # noqa: F401  (registers the "predict.train" and "predict.score" handlers)
