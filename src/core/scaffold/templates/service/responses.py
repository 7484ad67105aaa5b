"""The bodies the API takes and gives, besides the generated record and prediction models of
service/schemas.py. The routes declare them (``response_model``), so /openapi.json and /docs
carry the input and output contracts of contracts/*.schema.json; tests/test_openapi.py checks
that they say the same.
"""
from typing import Literal, Optional, Union

from pydantic import Field, StrictInt, StrictStr

from service.compat import ApiModel, StrictModel
from service.schemas import Prediction, Record

REQUEST_ID = "the service's id of this request, new for every request"
CLIENT_REQUEST_ID = "the client's X-Request-ID, when it sent one the service could keep (else null)"


class ModelReference(ApiModel):
    """The model that answered: its name, registry version (null when not registered) and sha256."""

    name: str = Field(...)
    version: Union[StrictInt, StrictStr, None] = Field(...)
    sha256: str = Field(...)


class PredictResponse(Prediction):
    """POST /predict: one prediction, the model that made it and the request's ids."""

    model: ModelReference = Field(...)
    request_id: str = Field(..., description=REQUEST_ID)
    client_request_id: Optional[str] = Field(..., description=CLIENT_REQUEST_ID)


class BatchRequest(StrictModel):
    records: list[Record] = Field(..., description="the records to predict, at most limits.max_batch")


class BatchResponse(ApiModel):
    """POST /predict/batch: one prediction per record, in the records' order."""

    predictions: list[Prediction] = Field(...)
    model: ModelReference = Field(...)
    request_id: str = Field(..., description=REQUEST_ID)
    client_request_id: Optional[str] = Field(..., description=CLIENT_REQUEST_ID)


class Health(ApiModel):
    status: Literal["ok"] = "ok"


class Readiness(ApiModel):
    status: Literal["ready"] = "ready"
    model: ModelReference
    kill_switch: bool = Field(..., description="the kill switch is on: answers are the fallback")


class ModelInfo(ModelReference):
    path: str
    registered: bool
    format: Optional[str] = Field(...)


class VersionInfo(ApiModel):
    name: str
    notebook: Optional[str] = Field(...)
    run: Optional[str] = Field(...)
    task: Literal["classification", "regression"]
    model: ModelInfo
    config_schema: Optional[str] = Field(..., alias="schema")
    python: str
    libraries: dict[str, Optional[str]]
