"""drf-spectacular extensions: the bearer-token scheme in the OpenAPI document."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token from Settings → API tokens (rcrm_…).",
        }


# Every operation can fail in these documented ways; declaring them once here keeps the
# contract complete (a generated client knows every status it may get).
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_SCHEMA = {
    "type": "object",
    "description": "Field-by-field errors: each field (or non_field_errors) maps to its messages.",
    "additionalProperties": {},
}
COMMON_ERRORS = {
    "401": "No token, or an unknown, revoked or expired one.",
    "403": "The token is read-only, or the request is not allowed.",
    "429": "Too many requests for this token: see the Retry-After header.",
}
BODY_ERRORS = {"400": "Invalid input: field-by-field errors.", "413": "The body is too large."}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the common errors on every operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    components.setdefault("ValidationError", VALIDATION_SCHEMA)
    error_ref = {"$ref": "#/components/schemas/Error"}
    validation_ref = {"$ref": "#/components/schemas/ValidationError"}
    retry_after = {
        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            wanted = dict(COMMON_ERRORS)
            if "{" in path:
                wanted["404"] = "Not found (or not yours)."
            wanted["400"] = BODY_ERRORS["400"]  # a bad body, filter, cursor or id
            if method in {"post", "put", "patch"}:
                wanted["413"] = BODY_ERRORS["413"]
            for status, description in wanted.items():
                if status in responses:
                    continue
                schema = validation_ref if status == "400" else error_ref
                response = {
                    "description": description,
                    "content": {"application/json": {"schema": schema}},
                }
                if status == "429":
                    response["headers"] = retry_after
                responses[status] = response
    return result
