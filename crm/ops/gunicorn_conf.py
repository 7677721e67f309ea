"""The production server's settings: `gunicorn -c python:crm.ops.gunicorn_conf crm.wsgi`.

Everything comes from the environment so one file serves a laptop, a VM and a container.
Graceful shutdown is gunicorn's: on SIGTERM the arbiter stops accepting, lets each worker finish
its in-flight requests for up to GRACEFUL_TIMEOUT seconds, then exits (SIGQUIT is the fast stop;
SIGHUP reloads the code and config with new workers, old ones finishing their requests first).
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
# gthread keeps HTTP keep-alive connections open (the sync worker closes each one), and the
# threads let a worker overlap requests that wait on the database.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("KEEPALIVE", "5"))
timeout = int(os.environ.get("WORKER_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
# Recycle workers now and then so a slow leak in any library can never take the server down.
max_requests = int(os.environ.get("MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
accesslog = "-" if os.environ.get("ACCESS_LOG", "0").lower() in {"1", "true", "yes", "on"} else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "crm-web"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

if os.environ.get("LOG_FORMAT", "").lower() == "json":
    # gunicorn's own lines (start, worker boot/exit, access log) in the same JSON shape as Django's.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "crm.ops.logging.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
