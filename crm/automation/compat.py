"""django.tasks on Django 6, else the django-tasks backport: one import place for both."""

try:
    from django.tasks import default_task_backend, task, task_backends  # type: ignore[import-not-found]
except ImportError:  # Django 5.2
    from django_tasks import default_task_backend, task, task_backends

__all__ = ["default_task_backend", "task", "task_backends"]
