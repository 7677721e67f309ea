"""`crm worker`: the background worker for the configured tasks backend, plus the scheduler.

TASKS_BACKEND=database (default) runs django-tasks-db's worker; TASKS_BACKEND=redis runs an RQ
worker (in-process, no fork per job, so the scheduler thread and the job share one clean process).
Every worker also runs the scheduler tick in a thread; running several workers is safe.
"""

import signal
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from crm.automation import jobs, scheduler


class Command(BaseCommand):
    help = "Run background jobs and the automation scheduler (database or Redis backend, from settings)."

    def add_arguments(self, parser):
        parser.add_argument("--no-scheduler", action="store_true", help="Do not run the scheduler tick here.")
        parser.add_argument("--interval", type=float, default=0.5, help="Database backend: poll interval (s).")
        parser.add_argument("--once", action="store_true", help="Run one scheduler tick and all due jobs inline.")
        parser.add_argument("--name", default=jobs.WORKER_ID, help="Worker name, unique across the pool.")

    def handle(self, *args, no_scheduler, interval, once, name, verbosity, **options):
        if once:
            scheduler.tick()
            ran = jobs.run_due(limit=10_000)
            self.stdout.write(f"Ran {ran} job(s).")
            return
        jobs.WORKER_ID = name
        ticker = None
        if not no_scheduler:
            ticker = scheduler.SchedulerThread()
            ticker.start()
        # SIGTERM from `make run`'s trap or a process manager: leave like Ctrl+C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            if settings.TASKS_BACKEND == "redis":
                call_command(
                    "rqworker",
                    "default",
                    job_class="django_tasks_rq.Job",
                    worker_class="rq.SimpleWorker",
                    name=name,
                    verbosity=verbosity,
                )
            else:
                call_command(
                    "db_worker",
                    queue_name="default",
                    interval=interval,
                    reload=False,
                    startup_delay=False,
                    worker_id=name[:64],
                    verbosity=verbosity,
                )
        finally:
            if ticker:
                ticker.stop()
