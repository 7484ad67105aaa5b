"""The prediction service.

Run it with ``uvicorn service.app:app --host 0.0.0.0 --port 8000`` from the project root.
Endpoints: POST /predict, POST /predict/batch, GET /health, /ready, /metrics, /version.
Settings come from service/config.json; see service/settings.py for the environment variables
that override them (state directory, kill switch, model path).

``create_app()`` does all the work (and refuses to start on a model whose sha256 is not the
configured one). The module-level ``app`` is created only when something asks for it, as
uvicorn does: importing this module (in tests, say) loads no model and writes no file.
"""
import logging
import platform
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse

from service.audit import AuditLog, ReviewQueue
from service.compat import StrictModel, model_to_dict
from service.decisions import Decision, check_rules, decide, fallback_decision
from service.drift import DriftMonitor
from service.errors import unprocessable, validation_error_handler
from service.killswitch import KillSwitch
from service.metrics import CONTENT_TYPE, ServiceMetrics
from service.middleware import BodyLimitMiddleware, RequestMetricsMiddleware
from service.model import LoadedModel, load_model
from service.predictor import Predictor
from service.settings import Settings, resolve_settings

log = logging.getLogger("nb2prod.service")

ENDPOINTS = frozenset(["/predict", "/predict/batch", "/health", "/ready", "/metrics", "/version"])
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
LIBRARIES = ("fastapi", "pydantic", "starlette", "uvicorn", "pandas", "numpy", "scikit-learn", "joblib")


class PredictionFailed(Exception):
    pass


class PredictionService:
    """Everything a prediction needs, built once by create_app; shared by the request threads."""

    def __init__(self, settings: Settings, model: LoadedModel, build_features):
        config = settings.config
        self.settings = settings
        self.config = config
        self.model = model
        self.model_reference = model.reference()
        self.predictor = Predictor(model, config, build_features)
        self.kill_switch = KillSwitch(settings.kill_switch_env, settings.kill_switch_file)
        self.audit_log = AuditLog(settings.audit_log, self.model_reference)
        self.review_queue = ReviewQueue(settings.review_queue, self.model_reference)
        self.drift = DriftMonitor.from_profile(settings.profile_path, config["input_columns"], config["drift"])
        self.metrics = ServiceMetrics()

    def serve(self, records: List[Dict[str, Any]], endpoint: str, request_id: str) -> List[Decision]:
        started = time.perf_counter()
        self.drift.observe(records)
        kill_reason = self.kill_switch.reason()
        if kill_reason:
            decisions = [fallback_decision(self.config, kill_reason, record) for record in records]
        else:
            try:
                raw = self.predictor.predict(records)
            except Exception as error:
                self.metrics.count_errors(len(records))
                log.exception("prediction failed (request %s, %d records)", request_id, len(records))
                raise PredictionFailed("%s: %s" % (type(error).__name__, error)) from error
            decisions = [decide(prediction, record, self.config) for prediction, record in zip(raw, records)]
        latency_ms = (time.perf_counter() - started) * 1000.0
        try:
            # an answer that cannot be audited is not given
            self.audit_log.record(request_id, endpoint, records, decisions, latency_ms)
            flagged = self.review_queue.add(request_id, endpoint, records, decisions)
        except OSError as error:
            self.metrics.count_errors(len(records))
            log.exception("could not write the audit log or review queue (request %s)", request_id)
            raise PredictionFailed("could not write the audit log or review queue: %s" % error) from error
        self.metrics.count_predictions(len(decisions), sum(d.fallback for d in decisions), flagged)
        return decisions

    def metrics_text(self) -> str:
        model_info = {
            "name": str(self.model.name),
            "version": "" if self.model.version is None else str(self.model.version),
            "sha256": self.model.sha256,
        }
        return self.metrics.render(self.kill_switch.active(), model_info, self.drift.snapshot())

    def version_info(self) -> Dict[str, Any]:
        config = self.config
        return {
            "name": config["name"],
            "notebook": config.get("notebook"),
            "run": config.get("run"),
            "task": config["task"],
            "model": dict(
                self.model_reference,
                path=str(config["model"]["path"]),
                registered=config["model"].get("registered"),
                format=config["model"].get("format"),
            ),
            "schema": config.get("schema"),
            "python": platform.python_version(),
            "libraries": {name: _library_version(name) for name in LIBRARIES},
        }


def create_app(root: Optional[Path] = None, config: Optional[Dict[str, Any]] = None) -> FastAPI:
    """The FastAPI app of the project at `root` (default: this project), with `config`
    instead of service/config.json when given. Raises ModelIntegrityError / ModelLoadError /
    ConfigError rather than start without a verified model."""
    settings = resolve_settings(root, config)
    root_text = str(settings.root)
    if root_text not in sys.path:  # common/ and service/ import each other as top-level packages
        sys.path.insert(0, root_text)
    check_rules(settings.config["rules"], settings.config["input_columns"])

    from common.features import build_features  # generated: the notebook's feature code
    from service.schemas import Record  # generated: the request model

    class BatchRequest(StrictModel):
        records: List[Record]  # type: ignore[valid-type]

    model = load_model(settings)
    service = PredictionService(settings, model, build_features)
    name = settings.config["name"]
    app = FastAPI(
        title="%s prediction service" % name,
        version=str(model.version) if model.version is not None else "unregistered",
        description="Generated by nb2prod from %s (run %s)." % (settings.config.get("notebook"), settings.config.get("run")),
    )
    app.state.nb2prod = service

    @app.post("/predict")
    def predict(record: Record, request: Request, response: Response):  # type: ignore[valid-type]
        request_id = _request_id(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        try:
            decision = service.serve([model_to_dict(record)], "/predict", request_id)[0]
        except PredictionFailed as error:
            return _prediction_failed(error, request_id)
        body = decision.response_item()
        warnings = body.pop("warnings")
        body.update({"model": service.model_reference, "request_id": request_id, "warnings": warnings})
        return body

    @app.post("/predict/batch")
    def predict_batch(batch: BatchRequest, request: Request, response: Response):
        request_id = _request_id(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        limit = settings.max_batch
        if len(batch.records) > limit:
            return unprocessable(
                "records",
                "%d records in one request; the limit is %d (limits.max_batch in service/config.json): "
                "split the batch" % (len(batch.records), limit),
            )
        records = [model_to_dict(record) for record in batch.records]
        try:
            decisions = service.serve(records, "/predict/batch", request_id)
        except PredictionFailed as error:
            return _prediction_failed(error, request_id)
        return {
            "predictions": [decision.response_item() for decision in decisions],
            "model": service.model_reference,
            "request_id": request_id,
        }

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/ready")
    def ready():
        # create_app only returns once the model is loaded and its sha256 verified
        return {"status": "ready", "model": service.model_reference, "kill_switch": service.kill_switch.active()}

    @app.get("/metrics")
    def metrics():
        return Response(content=service.metrics_text(), media_type=CONTENT_TYPE)

    @app.get("/version")
    def version():
        return service.version_info()

    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetricsMiddleware, metrics=service.metrics, endpoints=ENDPOINTS)
    log.info(
        "serving %s: audit log %s, review queue %s, kill switch %s or %s",
        name, settings.audit_log, settings.review_queue, settings.kill_switch_env, settings.kill_switch_file,
    )
    return app


def _request_id(request: Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex


def _prediction_failed(error: PredictionFailed, request_id: str) -> JSONResponse:
    return JSONResponse(
        status_code=500,
        content={
            "detail": "prediction failed (%s); the service log has the traceback for request %s" % (error, request_id),
            "request_id": request_id,
        },
        headers={REQUEST_ID_HEADER: request_id},
    )


def _library_version(distribution: str) -> Optional[str]:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # Python < 3.8
        return None
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _configure_logging() -> None:
    """Send the service's log lines to stderr when no logging configuration does (uvicorn
    configures only its own loggers). The root logger is left alone."""
    if logging.getLogger().handlers or log.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def __getattr__(name: str) -> Any:
    """`service.app.app`, created on first access (uvicorn's `service.app:app`), then kept."""
    if name == "app":
        _configure_logging()
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
