"""Pydantic 1 / 2 differences, kept in one place so the rest of the service is version-neutral."""
from typing import Any, Dict, Type, TypeVar

import pydantic
from pydantic import BaseModel

PYDANTIC_V2 = int(pydantic.VERSION.split(".")[0]) >= 2

ModelT = TypeVar("ModelT", bound=BaseModel)

if PYDANTIC_V2:
    from pydantic import ConfigDict

    class StrictModel(BaseModel):
        """A model that rejects fields it does not declare and accepts field names or aliases."""

        model_config = ConfigDict(extra="forbid", populate_by_name=True)

else:
    from pydantic import Extra

    class StrictModel(BaseModel):  # type: ignore[no-redef]
        """A model that rejects fields it does not declare and accepts field names or aliases."""

        class Config:
            extra = Extra.forbid
            allow_population_by_field_name = True


def model_to_dict(model: BaseModel) -> Dict[str, Any]:
    """The model's values keyed by alias, i.e. by the training data's column names."""
    if PYDANTIC_V2:
        return model.model_dump(by_alias=True)
    return model.dict(by_alias=True)


def validate_model(model_class: Type[ModelT], data: Any) -> ModelT:
    """`model_class` built from a dict (raises pydantic.ValidationError when invalid)."""
    if PYDANTIC_V2:
        return model_class.model_validate(data)
    return model_class.parse_obj(data)
