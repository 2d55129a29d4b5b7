"""The API's JSON parser: DRF's, but a body nested too deeply to parse is a 400, not a RecursionError (500)."""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser


class ApiJsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None


class FastJsonParser(BaseParser):
    """orjson for bulk endpoints (usage events): same contract as ApiJsonParser, several times faster.

    Not a JSONParser subclass on purpose: DRF copies a JSONParser's body through request.body, which applies
    Django's 2.5 MB DATA_UPLOAD_MAX_MEMORY_SIZE; the endpoint's own limit (API_BODY_LIMITS) applies instead."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
