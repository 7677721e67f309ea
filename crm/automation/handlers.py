"""Imports every module that registers job handlers, so a worker knows all job kinds."""

from crm.automation import engine, notifications, reminders, webhooks  # noqa: F401
