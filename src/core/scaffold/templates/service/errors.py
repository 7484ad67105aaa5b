"""422 responses that name the offending field.

FastAPI's body (``{"detail": [...pydantic errors...]}``) is kept as is, for clients that
already parse it, and ``"errors": [{"field": "tenure_months", "message": "..."}]`` is added:
``field`` is the column name (``records[3].tenure_months`` inside a batch).
"""
from typing import Any, Dict, List, Sequence, Union

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

JSON_ERROR_TYPES = ("value_error.jsondecode", "json_invalid")


def field_name(loc: Sequence[Union[str, int]]) -> str:
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    if not parts or isinstance(parts[0], int):  # the body itself (or a JSON syntax error position)
        return "body"
    name = str(parts[0])
    for part in parts[1:]:
        name += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return name


def readable_errors(errors: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    out = []
    for error in errors:
        field = "body" if error.get("type") in JSON_ERROR_TYPES else field_name(error.get("loc", ()))
        message = str(error.get("msg", "invalid value"))
        if "input" in error and error.get("type") != "missing":  # pydantic 2 says what it got
            message += " (got %s)" % _short_repr(error["input"])
        out.append({"field": field, "message": message})
    return out


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    return JSONResponse(
        status_code=422,
        content={"detail": jsonable_encoder(errors), "errors": readable_errors(errors)},
    )


def unprocessable(field: str, message: str) -> JSONResponse:
    """A 422 for a check made after validation (e.g. the batch size), in the same shape."""
    return JSONResponse(status_code=422, content={"detail": message, "errors": [{"field": field, "message": message}]})
