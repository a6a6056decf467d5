import uuid

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
