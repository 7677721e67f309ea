"""Automation fixtures: jobs run in-process (immediate backend) unless a test starts real workers."""

import pytest

from crm.automation import scheduler
from crm.automation.system import automation_user
from tests.automation.workers import worker_db, worker_template  # noqa: F401  (fixtures for real workers)
from tests.factories import LeadFactory, UserFactory

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def _inline_jobs(settings):
    settings.TASKS = IMMEDIATE
    settings.AUTOMATION_RETRY_BASE_SECONDS = 30
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a block and then its on-commit callbacks (events, job dispatch), as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def bot(db):
    return automation_user()


@pytest.fixture
def tick():
    return scheduler.tick


@pytest.fixture
def lead_of(rep_a):
    return lambda **kw: LeadFactory(owner=rep_a, **kw)


@pytest.fixture
def reps(team):
    return [UserFactory(username=f"rr{i}", role="sales-rep", role__team=team) for i in range(3)]
