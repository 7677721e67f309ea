"""`crm worker` with one extra job kind for the crash test: it makes its effect, then (on the first
attempt only) stalls so the test can kill the worker in the middle of the job."""

import os
import sys
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    from crm.automation import jobs

    @jobs.handler("test.slow_effect")
    def slow_effect(job):
        from crm.records.models import Tag

        Tag.objects.create(name=job.payload["tag"])
        marker = job.payload["marker"]
        if not os.path.exists(marker):
            with open(marker, "w") as fh:
                fh.write(str(os.getpid()))
            time.sleep(60)

    from django.core.management import execute_from_command_line

    execute_from_command_line(["crm", "worker", *sys.argv[1:]])


if __name__ == "__main__":
    main()
