"""The API's JSON parser (orjson): strict (lone surrogates, invalid UTF-8 and over-deep nesting are 400s, never
500s further down) and several times faster than the standard library on bulk bodies such as usage batches.

Deliberately not a DRF JSONParser subclass: DRF copies a JSONParser's body through request.body, which applies
Django's 2.5 MB DATA_UPLOAD_MAX_MEMORY_SIZE; the API's own limits (API_MAX_BODY_BYTES, API_BODY_LIMITS) apply
instead, checked before the body is read."""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class ApiJsonParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
