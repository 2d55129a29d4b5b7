"""OpenAPI helpers: the error object on every operation, scope notes, the Idempotency-Key header. (The bearer-key
scheme is described beside the key authentication, in tenants.authentication.)"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from config.api.errors import DEFAULT_MESSAGES
from config.api.idempotency import KEY_MAX_LENGTH, KEY_PATTERN
from config.api.serializers import ErrorSerializer


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The documented error answers of an operation (all share the error object)."""
    always = {401, 403, 404, 405, 413, 415, 429, 500}
    return {code: OpenApiResponse(ErrorSerializer, description=DEFAULT_MESSAGES.get(code, "Error"))
            for code in sorted(always | set(statuses) | {400})}


def scopes_note(scope: str) -> str:
    return (f"API keys need the `{scope}` scope. Signed-in staff (session with CSRF token) need a role "
            "that allows it.")


def request_bodies_closed(result: dict, generator, request, public) -> dict:
    """Request bodies reject unknown fields (StrictInputSerializer), so the schema says so."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


IDEMPOTENCY_KEY_HEADER = OpenApiParameter(
    name="Idempotency-Key", location=OpenApiParameter.HEADER, required=False,
    type={"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": KEY_PATTERN},
    description=f"1 to {KEY_MAX_LENGTH} visible ASCII characters (spaces allowed, but not first or last). A retry "
                "by the same caller (API key or user) with the same key and body within 24 hours replays the "
                "first response (with Idempotent-Replayed: true); the same key with another body answers 409. "
                "Keys are per caller: another caller's request with the same key runs on its own.",
)
