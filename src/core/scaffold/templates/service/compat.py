"""The differences between the library versions the service runs on, kept in this one module so
that the rest of the service reads the same on all of them:

- pydantic 1.10 (Debian 12) and 2.x: how a model is configured, validated, dumped and documented,
  and how an answer is validated and written as JSON (``json_response``);
- FastAPI 0.92 (Debian 12), which predates ``FastAPI(lifespan=...)`` (added in 0.93), and later.

Request models are strict in both pydantic lines, with JSON's types (see ``StrictModel``).
"""
import inspect
from contextlib import AbstractAsyncContextManager
from typing import Any, Callable, TypeVar, Union

import pydantic
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

PYDANTIC_V2 = int(pydantic.VERSION.split(".")[0]) >= 2

ModelT = TypeVar("ModelT", bound=BaseModel)
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager]


def _unwrap_optional(annotation: Any) -> Any:
    """X for Optional[X], else the annotation itself."""
    if getattr(annotation, "__origin__", None) is Union:
        args = [arg for arg in annotation.__args__ if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


if PYDANTIC_V2:
    from pydantic import ConfigDict, ValidationInfo, field_validator

    class ApiModel(BaseModel):
        """A request or response body: fields by name or alias (a column name that is not a
        Python identifier has an alias)."""

        model_config = ConfigDict(populate_by_name=True)

    class StrictModel(ApiModel):
        """A request body with JSON's types and nothing else: strict mode (no "36" or true for a
        number, no 5 for a string, no 1 for a boolean, no 1.5 or "2" for an integer), no field it
        does not declare. As JSON Schema has it, 3 is a number (it becomes 3.0) and 2.0 an
        integer (it becomes 2): strict mode refuses the latter, so integral floats are turned
        into ints before it looks."""

        model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)

        @field_validator("*", mode="before")
        @classmethod
        def _integral_float_as_int(cls, value: Any, info: ValidationInfo) -> Any:
            if type(value) is float and value.is_integer() and info.field_name in _integer_fields(cls):
                return int(value)
            return value

    _INTEGER_FIELDS: dict = {}

    def _integer_fields(model: type) -> frozenset:
        fields = _INTEGER_FIELDS.get(model)
        if fields is None:
            fields = frozenset(
                name for name, info in model.model_fields.items() if _unwrap_optional(info.annotation) is int
            )
            _INTEGER_FIELDS[model] = fields
        return fields

    class ConfigModel(BaseModel):
        """A section of service/config.json: read once, then never changed."""

        model_config = ConfigDict(frozen=True, populate_by_name=True)

    def field_schema(**extra: Any) -> dict:
        """Field() keyword arguments adding `extra` to the field's JSON schema (e.g. format)."""
        return {"json_schema_extra": extra}

    def model_to_dict(model: BaseModel) -> dict:
        """The model's values keyed by alias, i.e. by the training data's column names."""
        return model.model_dump(by_alias=True)

    def validate_model(model_class: "type[ModelT]", data: Any) -> ModelT:
        """`model_class` built from a dict (raises pydantic.ValidationError when invalid)."""
        return model_class.model_validate(data)

    def fields_set(model: BaseModel) -> "set[str]":
        """The fields the data gave (not left to their default)."""
        return set(model.model_fields_set)

    def json_response(model_class: "type[BaseModel]", content: Any, status_code: int = 200) -> Response:
        """`content` validated as `model_class` and written as JSON, both by pydantic's core: what
        FastAPI does with a route's response_model."""
        body = model_class.model_validate(content).model_dump_json(by_alias=True)
        return Response(body, status_code=status_code, media_type="application/json")

else:
    from pydantic import Extra, errors, validator
    from pydantic.fields import SHAPE_SINGLETON

    def _nullable_in_openapi(schema: dict, model: type) -> None:
        """pydantic 1 documents Optional[X] as X alone; OpenAPI 3.0 (FastAPI 0.92's) says that
        null is allowed with "nullable": true. pydantic 2 writes anyOf [X, null] itself."""
        properties = schema.get("properties", {})
        for field in model.__fields__.values():
            if field.allow_none and field.alias in properties:
                properties[field.alias]["nullable"] = True

    class ApiModel(BaseModel):  # type: ignore[no-redef]
        """A request or response body: fields by name or alias (a column name that is not a
        Python identifier has an alias)."""

        class Config:
            allow_population_by_field_name = True
            schema_extra = staticmethod(_nullable_in_openapi)

    class StrictModel(ApiModel):  # type: ignore[no-redef]
        """A request body with JSON's types and nothing else: no "36" or true for a number, no 5
        for a string, no 1 for a boolean, no 1.5 or "2" for an integer, no field it does not
        declare. As JSON Schema has it, 3 is a number (it becomes 3.0) and 2.0 an integer (it
        becomes 2). pydantic 1 has no strict mode and its Strict* types disagree with JSON
        (StrictFloat refuses 3), so one validator checks every scalar field before pydantic
        converts it, and raises pydantic's own type errors."""

        class Config:
            extra = Extra.forbid

        @validator("*", pre=True, allow_reuse=True)
        def _json_types(cls, value: Any, field: Any) -> Any:
            declared = field.type_
            if value is None or field.shape != SHAPE_SINGLETON or not inspect.isclass(declared):
                return value  # None: allow_none decides; lists: their items are checked; Literal checks itself
            if issubclass(declared, bool):
                if not isinstance(value, bool):
                    raise errors.BoolError()
            elif issubclass(declared, int):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise errors.IntegerError()
                if isinstance(value, float):
                    if not value.is_integer():
                        raise errors.IntegerError()
                    return int(value)
            elif issubclass(declared, float):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise errors.FloatError()
            elif issubclass(declared, str):
                if not isinstance(value, str):
                    raise errors.StrError()
            return value

    class ConfigModel(BaseModel):  # type: ignore[no-redef]
        """A section of service/config.json: read once, then never changed."""

        class Config:
            frozen = True
            allow_population_by_field_name = True

    def field_schema(**extra: Any) -> dict:
        """Field() keyword arguments adding `extra` to the field's JSON schema (e.g. format)."""
        return dict(extra)

    def model_to_dict(model: BaseModel) -> dict:
        """The model's values keyed by alias, i.e. by the training data's column names."""
        return model.dict(by_alias=True)

    def validate_model(model_class: "type[ModelT]", data: Any) -> ModelT:
        """`model_class` built from a dict (raises pydantic.ValidationError when invalid)."""
        return model_class.parse_obj(data)

    def fields_set(model: BaseModel) -> "set[str]":
        """The fields the data gave (not left to their default)."""
        return set(model.__fields_set__)

    def json_response(model_class: "type[BaseModel]", content: Any, status_code: int = 200) -> Response:
        """`content` validated as `model_class` and written as JSON.

        What FastAPI does with a route's response_model, minus its generic encoder: FastAPI 0.92
        dumps the validated model to a dict and then walks it again with ``jsonable_encoder``,
        which on pydantic 1 costs more than the validation itself. The dict of a validated model
        of JSON types is JSON already; the bytes are the same."""
        return JSONResponse(model_class.parse_obj(content).dict(by_alias=True), status_code=status_code)


def create_fastapi(lifespan: Lifespan, **kwargs: Any) -> FastAPI:
    """FastAPI(lifespan=lifespan, **kwargs).

    FastAPI 0.92 (Debian 12's) has no ``lifespan=``; 0.93 added it, and all it does with it is
    hand it to Starlette's router, whose ``lifespan_context`` it becomes. Starlette 0.25+, which
    every FastAPI from 0.92 on requires, has that router attribute, so on 0.92 the lifespan is set
    there: the same mechanism, rather than the startup and shutdown events Starlette deprecates.
    Either way the app loads its settings and model once, before the first request, and a
    failure stops the server from starting."""
    if "lifespan" in inspect.signature(FastAPI).parameters:
        return FastAPI(lifespan=lifespan, **kwargs)
    app = FastAPI(**kwargs)
    app.router.lifespan_context = lifespan
    return app
