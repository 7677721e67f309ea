import pytest


@pytest.fixture(autouse=True)
def predict_dir(settings, tmp_path):
    """Model files of a test go to its own folder."""
    settings.PREDICT_DIR = tmp_path / "predict"
    return settings.PREDICT_DIR
