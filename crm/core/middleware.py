import uuid

from crm.core.context import change_context

# The change log's source of a request's writes: the API, the Django admin, else the web app.
SOURCES = (("/api/", "api"), ("/admin/", "admin"))


class RequestIdMiddleware:
    """Gives each request an id that ties together every change it makes (see the change log)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4()
        source = next((s for prefix, s in SOURCES if request.path.startswith(prefix)), "web")
        with change_context(source=source, request_id=request.id):
            response = self.get_response(request)
        response["X-Request-Id"] = str(request.id)
        return response
