"""The one django.tasks task: run a durable Job by id, on whichever backend is configured."""

from django.db import close_old_connections, connection

from crm.automation import jobs
from crm.automation.compat import task


def _tidy_connections() -> None:
    # Long-lived workers must drop broken or expired connections, but never inside a transaction.
    if not connection.in_atomic_block:
        close_old_connections()


@task()
def run_job(job_id: int) -> str:
    _tidy_connections()
    try:
        return jobs.run(job_id)
    finally:
        _tidy_connections()
