"""The bodies the API takes and gives, besides the generated record and prediction models of
service/schemas.py. The routes declare them (``response_model``), so /openapi.json and /docs
carry the input and output contracts of contracts/*.schema.json; tests/test_openapi.py checks
that they say the same.
"""
from typing import Any, Literal, Optional, Union

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


class AuditStatus(ApiModel):
    """The audit sink: "ok", or "failing" (entries are kept in memory and retried) or "dropping"
    (the buffer is full: new entries are lost). The service answers either way."""

    sink: Literal["jsonl", "postgresql"]
    where: str
    status: Literal["ok", "failing", "dropping"]
    buffered: int
    buffer_max: int
    written: dict[str, int]
    dropped: dict[str, int]
    failures: int
    last_error: Optional[str] = Field(...)
    lost_before_start: int = Field(..., description="entries a previous process accepted and never wrote (killed)")


class ChallengerStatus(ApiModel):
    """The challenger beside the champion (service/deployment.json)."""

    model: ModelReference
    mode: Literal["shadow", "canary"]
    percent: float = Field(..., description="canary: the share of requests it answers")
    dropped: int = Field(..., description="shadow: records not scored because its queue was full")
    failed: int = Field(..., description="shadow: records its prediction failed on")


class DeployedStatus(ApiModel):
    """The champion is a registry version deployed here (service/deployment.json), not the model
    service/config.json names."""

    alias: Optional[str] = Field(None, description="the registry alias it was deployed as")
    deployed_at: Optional[str] = Field(None)
    by: Optional[str] = Field(None)


class Readiness(ApiModel):
    status: Literal["ready"] = "ready"
    model: ModelReference
    deployed: Optional[DeployedStatus] = Field(None, description="set when the model served was deployed from the registry (service/deployment.json)")
    kill_switch: bool = Field(..., description="the kill switch is on: answers are the fallback")
    audit: AuditStatus
    challenger: Optional[ChallengerStatus] = Field(None)


FEEDBACK_SOURCES = ("explicit", "implicit")


class FeedbackItem(StrictModel):
    """What became known about one prediction after it was made: its true label (the target's
    value, as a prediction is typed) and/or an outcome (any value, e.g. the amount repaid)."""

    request_id: str = Field(..., min_length=1, max_length=128, description="the request_id the prediction's answer gave")
    batch_index: Optional[int] = Field(None, ge=0, description="the record's index in a /predict/batch request")
    label: Any = Field(None, description="the true value of the target (same type as prediction)")
    outcome: Any = Field(None, description="what happened, for business metrics (a number, text or boolean)")
    source: Literal["explicit", "implicit"] = Field("explicit", description="explicit: someone stated it; implicit: inferred from behaviour")
    known_at: Optional[str] = Field(None, description="when it became known (ISO 8601 with a time zone); default: now")


class FeedbackBatch(StrictModel):
    items: list[FeedbackItem] = Field(..., description="at most limits.max_batch items")


class FeedbackAccepted(ApiModel):
    accepted: int
    feedback_ids: list[str]
    request_id: str = Field(..., description=REQUEST_ID)


class ModelInfo(ModelReference):
    path: str
    registered: bool
    format: Optional[str] = Field(...)
    source: Literal["config", "deployment"] = Field("config", description="service/config.json's model, or a registry version deployed here (service/deployment.json)")


class VersionInfo(ApiModel):
    name: str
    notebook: Optional[str] = Field(...)
    run: Optional[str] = Field(...)
    task: Literal["classification", "regression"]
    model: ModelInfo
    config_schema: Optional[str] = Field(..., alias="schema")
    python: str
    libraries: dict[str, Optional[str]]
