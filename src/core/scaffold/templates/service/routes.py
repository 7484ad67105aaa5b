"""The endpoints, on an APIRouter that service/app.py includes.

Each route declares its body and its answer (``response_model``), which /docs and /openapi.json
document; the shared state comes through ``Depends``.

One record is a few milliseconds of CPU that holds the GIL (the feature code, the model):
POST /predict computes it right in its ``async def``, on the event loop. A thread would not
answer it any sooner (a second thread cannot run Python beside it: more CPUs serve more requests
through more worker processes, ``uvicorn --workers N``), and handing the record to a thread and
back cost 0.2 to 0.7 ms of CPU per request where measured (bench/service_latency.py in nb2prod),
more than the rest of the route. A batch of up to limits.max_batch records takes long enough
that /health and the other routes should not wait behind it: it runs in the thread pool
(``run_in_threadpool``, FastAPI's own way of running blocking code).

The prediction routes return ``json_response(Model, answer)`` (service/compat.py): the answer
validated as the declared response_model and written as JSON, as FastAPI does when a route
returns a dict, without the generic encoder FastAPI 0.92 runs on pydantic 1 after validating.
"""
import datetime
from typing import Any, Optional

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from service.compat import json_response, model_to_dict, validate_model
from service.dependencies import get_request_ids, get_service, get_settings
from service.errors import ErrorBody, unprocessable
from service.metrics import CONTENT_TYPE
from service.middleware import RequestIds
from service.responses import (
    BatchRequest,
    BatchResponse,
    FeedbackAccepted,
    FeedbackBatch,
    FeedbackItem,
    Health,
    PredictResponse,
    Readiness,
    VersionInfo,
)
from service.schemas import Prediction, Record
from service.serving import PredictionService
from service.settings import Settings

router = APIRouter()

ERRORS: dict[int, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "the body breaks the input contract (contracts/input.schema.json): `errors` names each field"},
    413: {"model": ErrorBody, "description": "the body is over limits.max_body_bytes"},
    500: {"model": ErrorBody, "description": "the feature code, the model or the audit log failed: the service log has the traceback"},
}


@router.post("/predict", response_model=PredictResponse, responses=ERRORS, summary="Predict one record")
async def predict(
    record: Record,
    service: PredictionService = Depends(get_service),
    ids: RequestIds = Depends(get_request_ids),
) -> Response:
    decision = service.serve([model_to_dict(record)], "/predict", ids)[0]  # on the event loop: see above
    return json_response(PredictResponse, {
        **decision.response_item(),
        "model": decision.model_reference or service.model_reference,
        "request_id": ids.request_id,
        "client_request_id": ids.client_request_id,
    })


@router.post("/predict/batch", response_model=BatchResponse, responses=ERRORS, summary="Predict several records")
async def predict_batch(
    batch: BatchRequest,
    request: Request,
    settings: Settings = Depends(get_settings),
    service: PredictionService = Depends(get_service),
    ids: RequestIds = Depends(get_request_ids),
) -> Any:
    limit = settings.limits.max_batch
    if len(batch.records) > limit:
        return unprocessable(
            request,
            "records",
            f"{len(batch.records)} records in one request; the limit is {limit} "
            "(limits.max_batch in service/config.json): split the batch",
        )
    return await run_in_threadpool(answer_batch, service, batch, ids)


def answer_batch(service: PredictionService, batch: BatchRequest, ids: RequestIds) -> Response:
    """The batch's answer (in the thread pool: a thousand records take a while to convert,
    predict, validate and write)."""
    decisions = service.serve([model_to_dict(record) for record in batch.records], "/predict/batch", ids)
    return json_response(BatchResponse, {
        "predictions": [decision.response_item() for decision in decisions],
        "model": (decisions[0].model_reference if decisions else None) or service.model_reference,
        "request_id": ids.request_id,
        "client_request_id": ids.client_request_id,
    })


FEEDBACK_ERRORS = {422: ERRORS[422], 413: ERRORS[413]}


@router.post("/feedback", response_model=FeedbackAccepted, status_code=202, responses=FEEDBACK_ERRORS, summary="Report the true label or outcome of a prediction")
async def feedback(
    item: FeedbackItem,
    request: Request,
    service: PredictionService = Depends(get_service),
    ids: RequestIds = Depends(get_request_ids),
) -> Any:
    """A label (the target's true value) or an outcome that became known after the prediction,
    by the prediction's request_id (and batch_index for a batch): appended to the feedback log,
    which `nb2prod monitor` joins to the audit log (a later entry for the same prediction wins)."""
    items = [model_to_dict(item)]
    problem = feedback_problem(items[0])
    if problem:
        return unprocessable(request, problem[0], problem[1])
    return {"accepted": 1, "feedback_ids": service.feedback.add(ids, items), "request_id": ids.request_id}


@router.post("/feedback/batch", response_model=FeedbackAccepted, status_code=202, responses=FEEDBACK_ERRORS, summary="Report several labels or outcomes")
async def feedback_batch(
    batch: FeedbackBatch,
    request: Request,
    settings: Settings = Depends(get_settings),
    service: PredictionService = Depends(get_service),
    ids: RequestIds = Depends(get_request_ids),
) -> Any:
    limit = settings.limits.max_batch
    if len(batch.items) > limit:
        return unprocessable(request, "items", f"{len(batch.items)} items in one request; the limit is {limit} (limits.max_batch): split them")
    items = [model_to_dict(item) for item in batch.items]
    for index, item in enumerate(items):
        problem = feedback_problem(item)
        if problem:
            return unprocessable(request, f"items[{index}].{problem[0]}", problem[1])
    return {"accepted": len(items), "feedback_ids": service.feedback.add(ids, items), "request_id": ids.request_id}


def feedback_problem(item: dict[str, Any]) -> Optional[tuple[str, str]]:
    """(field, why) when a feedback item cannot be used: neither label nor outcome, a label the
    target cannot hold, a known_at that is not an ISO time with a zone."""
    if item.get("label") is None and item.get("outcome") is None:
        return "label", "give the true label (the target's value) or an outcome"
    if item.get("label") is not None:
        candidate = {"prediction": item["label"], "probability": None, "needs_review": False, "fallback": False, "rule": None, "warnings": []}
        try:
            validate_model(Prediction, candidate)
        except ValidationError as error:
            why = "; ".join(str(problem.get("msg")) for problem in error.errors())
            return "label", f"{item['label']!r} is not a value of the target ({why})"
    known_at = item.get("known_at")
    if known_at is not None:
        try:
            moment = datetime.datetime.fromisoformat(known_at.replace("Z", "+00:00"))
        except ValueError:
            return "known_at", f"{known_at!r} is not an ISO 8601 time (e.g. 2025-03-01T09:30:00Z)"
        if moment.tzinfo is None:
            return "known_at", f"{known_at!r} has no time zone: add Z or +01:00"
    return None


@router.get("/health", response_model=Health, summary="The process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", response_model=Readiness, summary="The model is loaded and its sha256 verified")
async def ready(service: PredictionService = Depends(get_service)) -> dict[str, Any]:
    # the lifespan only lets the app serve once the model is loaded and verified
    # the audit sink's state is reported, not judged: a failing sink does not stop the answers
    challenger = service.challenger
    return {
        "status": "ready",
        "model": service.model_reference,
        "deployed": service.deployed(),
        "kill_switch": service.kill_switch.active(),
        "audit": service.sink.status(),
        "challenger": None if challenger is None else {
            "model": challenger.reference, "mode": challenger.mode, "percent": challenger.percent,
            "dropped": challenger.dropped, "failed": challenger.failed,
        },
    }


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format 0.0.4"}},
    summary="Prometheus metrics",
)
def metrics(service: PredictionService = Depends(get_service)) -> Response:  # the drift PSI takes a moment: thread pool
    return Response(content=service.metrics_text(), media_type=CONTENT_TYPE)


@router.get("/version", response_model=VersionInfo, summary="The model, run, notebook and library versions")
def version(service: PredictionService = Depends(get_service)) -> dict[str, Any]:  # reads package metadata: thread pool
    return service.version_info()
