import uuid

from django.http import HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from epigrid.core.context import change_context


class RequestContextMiddleware:
    """Gives each request an id and makes the user and id available to the change log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4()
        source = "api" if request.path.startswith("/api/") else "web"
        # request.user is lazy; DRF token users are only known inside the view, so the
        # context holds the request and resolves the user when a change is logged.
        with change_context(user=_LazyRequestUser(request), source=source, request_id=request.id):
            response = self.get_response(request)
        response["X-Request-ID"] = str(request.id)
        return response


class _LazyRequestUser:
    def __init__(self, request):
        self.request = request

    def resolve(self):
        # DRF stores its authenticated user on the wrapped request; Django's on request.user.
        user = getattr(self.request, "_epigrid_api_user", None) or getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


class RefuseNulMiddleware:
    """A NUL character in the path, the query string or a page's form body is answered 400, once for
    every page and API, before any view or filter reads it: PostgreSQL refuses NUL in text (psycopg
    raises, the request would end in a 500) while SQLite stores it, and no field of epigrid needs one.
    API bodies are left to the API's parsers (core.parsers), which refuse NUL the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            message = _("The request contains a NUL character, which is not allowed.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            # The Chinese 400 page, rendered without context processors: no query is made.
            return HttpResponseBadRequest(render_to_string("400.html", {"detail": message}))
        return self.get_response(request)


def _has_nul(request):
    if "\x00" in request.path:
        return True
    # request.POST is empty unless the body is a form (urlencoded or multipart); the CSRF check
    # parses it for every page anyway. The API's views are CSRF-exempt and parse their own bodies.
    data = [request.GET]
    if request.method == "POST" and not request.path.startswith("/api/"):
        data.append(request.POST)
    return any("\x00" in key or any("\x00" in v for v in values) for d in data for key, values in d.lists())
