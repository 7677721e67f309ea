"""Structured logs: one JSON object per line (LOG_FORMAT=json), for log shippers and grep alike."""

from __future__ import annotations

import datetime as dt
import json
import logging

from crm.core import context

# Attributes every LogRecord has; anything else was passed with extra= and is worth keeping.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if (request_id := context.request_id()) is not None:
            data["request_id"] = str(request_id)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def logging_config(log_format: str, level: str) -> dict:
    """Django's LOGGING: everything to the console, as JSON lines when log_format is "json"."""
    console = {"class": "logging.StreamHandler", **({"formatter": "json"} if log_format == "json" else {})}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "crm.ops.logging.JsonFormatter"}},
        "handlers": {"console": console},
        "root": {"handlers": ["console"], "level": level},
    }
