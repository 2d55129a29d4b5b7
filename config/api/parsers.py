"""The API's JSON parser (orjson): strict (lone surrogates, invalid UTF-8 and nesting deeper than MAX_DEPTH are
400s, never 500s further down) and several times faster than the standard library on bulk bodies such as usage
batches.

Deliberately not a DRF JSONParser subclass: DRF copies a JSONParser's body through request.body, which applies
Django's 2.5 MB DATA_UPLOAD_MAX_MEMORY_SIZE; the API's own limits (API_MAX_BODY_BYTES, API_BODY_LIMITS) apply
instead, checked before the body is read."""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

# Objects and arrays nest at most this deep. orjson itself accepts 1,024 levels, but the standard library's
# json (request fingerprints, stored responses, DRF's renderer) recurses once per level and fails near 1,000,
# so a body must be refused here, where it enters, for every endpoint alike. No request of ours needs more
# than a handful of levels.
MAX_DEPTH = 32


class ApiJsonParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = orjson.loads(stream.read())
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        json_depth_check(data)
        return data


def json_depth_check(value: object) -> None:
    """Raise ParseError when objects and arrays nest deeper than MAX_DEPTH. Walks one level at a time (no
    recursion, so no RecursionError), keeping only the containers of each level."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON nested too deeply: objects and arrays may nest at most {MAX_DEPTH} levels.")
        level = [child for container in level
                 for child in (container.values() if isinstance(container, dict) else container)
                 if isinstance(child, (dict, list))]
