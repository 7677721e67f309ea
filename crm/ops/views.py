"""Unauthenticated endpoints for load balancers and the benchmark: no session, no CSRF, no template."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm.ops.health import run_checks


@never_cache
@require_GET
def healthz(request):
    """200 when the database (and the queue, when configured) answers; 503 otherwise."""
    healthy, checks = run_checks()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


@never_cache
@require_GET
def ping(request):
    """A trivial JSON view: the throughput floor of the web stack, with no database work."""
    return JsonResponse({"pong": True})
