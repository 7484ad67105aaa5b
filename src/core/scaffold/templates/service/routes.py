"""The endpoints, on an APIRouter that service/app.py includes.

Each route declares its body and its answer (``response_model``), which FastAPI validates and
documents at /docs and /openapi.json; the shared state comes through ``Depends``.

The model is CPU-bound and blocking, so a prediction runs in the thread pool
(``run_in_threadpool``, FastAPI's own way of running blocking code). The prediction routes are
async functions that hand just that part over: a plain ``def`` route would have FastAPI also
validate its answer in the thread pool, a second thread hop on every request.
"""
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from service.compat import model_to_dict
from service.decisions import Decision
from service.dependencies import get_request_ids, get_service, get_settings
from service.errors import ErrorBody, unprocessable
from service.metrics import CONTENT_TYPE
from service.middleware import RequestIds
from service.responses import BatchRequest, BatchResponse, Health, PredictResponse, Readiness, VersionInfo
from service.schemas import Record
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
) -> dict[str, Any]:
    decision = (await run_in_threadpool(service.serve, [model_to_dict(record)], "/predict", ids))[0]
    return {
        **decision.response_item(),
        "model": service.model_reference,
        "request_id": ids.request_id,
        "client_request_id": ids.client_request_id,
    }


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
    decisions = await run_in_threadpool(serve_batch, service, batch, ids)
    return {
        "predictions": [decision.response_item() for decision in decisions],
        "model": service.model_reference,
        "request_id": ids.request_id,
        "client_request_id": ids.client_request_id,
    }


def serve_batch(service: PredictionService, batch: BatchRequest, ids: RequestIds) -> list[Decision]:
    """The batch's decisions (in the thread pool: a thousand records take a while to convert)."""
    return service.serve([model_to_dict(record) for record in batch.records], "/predict/batch", ids)


@router.get("/health", response_model=Health, summary="The process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", response_model=Readiness, summary="The model is loaded and its sha256 verified")
async def ready(service: PredictionService = Depends(get_service)) -> dict[str, Any]:
    # the lifespan only lets the app serve once the model is loaded and verified
    return {"status": "ready", "model": service.model_reference, "kill_switch": service.kill_switch.active()}


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
