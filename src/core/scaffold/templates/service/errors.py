"""Error responses: 422s that name the offending field, 500s that name the request.

For a 422 FastAPI's body (``{"detail": [...pydantic errors...]}``) is kept as is, for clients
that already parse it, and ``"errors": [{"field": "tenure_months", "message": "..."}]`` is
added: ``field`` is the column name (``records[3].tenure_months`` inside a batch).
"""
from typing import Any, Optional, Sequence, Union

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.compat import ApiModel

JSON_ERROR_TYPES = ("value_error.jsondecode", "json_invalid")


class FieldError(ApiModel):
    field: str
    message: str


class ErrorBody(ApiModel):
    """The body of a 413, 422 or 500 answer."""

    detail: Any
    errors: list[FieldError] = []
    request_id: Optional[str] = None
    client_request_id: Optional[str] = None


class PredictionFailed(Exception):
    """The model, the feature code or the audit log failed on a request: a 500 naming it."""


def field_name(loc: Sequence[Union[str, int]]) -> str:
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    if not parts or isinstance(parts[0], int):  # the body itself (or a JSON syntax error position)
        return "body"
    name = str(parts[0])
    for part in parts[1:]:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


def readable_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for error in errors:
        field = "body" if error.get("type") in JSON_ERROR_TYPES else field_name(error.get("loc", ()))
        message = str(error.get("msg", "invalid value"))
        if "input" in error and error.get("type") != "missing":  # pydantic 2 says what it got
            message += f" (got {_short_repr(error['input'])})"
        out.append({"field": field, "message": message})
    return out


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _request_ids(request: Request) -> dict[str, Optional[str]]:
    ids = getattr(request.state, "request_ids", None)
    if ids is None:
        return {}
    return {"request_id": ids.request_id, "client_request_id": ids.client_request_id}


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    content = {"detail": jsonable_encoder(errors), "errors": readable_errors(errors), **_request_ids(request)}
    return JSONResponse(status_code=422, content=content)


async def prediction_failed_handler(request: Request, exc: PredictionFailed) -> JSONResponse:
    ids = _request_ids(request)
    detail = f"prediction failed ({exc}); the service log has the traceback for request {ids.get('request_id')}"
    return JSONResponse(status_code=500, content={"detail": detail, **ids})


def unprocessable(request: Request, field: str, message: str) -> JSONResponse:
    """A 422 for a check made after validation (e.g. the batch size), in the same shape."""
    content = {"detail": message, "errors": [{"field": field, "message": message}], **_request_ids(request)}
    return JSONResponse(status_code=422, content=content)
