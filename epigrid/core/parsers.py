"""The API's request parsers (settings.REST_FRAMEWORK DEFAULT_PARSER_CLASSES): DRF's, refusing NUL
characters and, for JSON, nesting beyond MAX_JSON_DEPTH with a 400 and a clear message.

A module of its own: DRF resolves these classes while rest_framework.views is imported, which
core.api itself imports."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# A body nested deeper than this is refused: epigrid's deepest documents (protocol rules) nest 6
# levels; Python's decoder dies on a few thousand (RecursionError, a 500) and hands the serializers
# anything shallower, to recurse on.
MAX_JSON_DEPTH = 32


def _nul_error():
    return ParseError(_("The request contains a NUL character, which is not allowed."))


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting-depth limit and no NUL in any key or string (PostgreSQL
    refuses NUL in text and jsonb; see also core.middleware.RefuseNulMiddleware)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _depth_error() from None
        _check_json(data)
        return data


def _depth_error():
    return ParseError(
        _("JSON nested deeper than %(depth)d levels is not accepted.") % {"depth": MAX_JSON_DEPTH}
    )


def _check_json(data):
    """Walks the parsed body without recursion: depth counts containers (the top one is 1)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _depth_error()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and "\x00" in key:
                    raise _nul_error()
                stack.append((item, depth + 1))
        elif isinstance(value, str) and "\x00" in value:
            raise _nul_error()


def _check_form(data):
    if any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists()):
        raise _nul_error()


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_form(result.data)
        return result
