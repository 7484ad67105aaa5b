"""What answering a prediction request takes, built once at start and shared by the requests:
the verified model and the feature code (the predictor), the decisions (rules, review flags,
kill switch, fallback), the audit log and review queue, the live drift window and the metrics.
"""
import hashlib
import logging
import platform
import queue
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable, Optional

from service.audit import AuditLog, FeedbackLog, ReviewQueue
from service.decisions import Decision, check_fallback, check_rules, decide, fallback_decision, passthrough
from service.drift import DriftMonitor
from service.errors import PredictionFailed
from service.jsonsafe import to_jsonable
from service.killswitch import KillSwitch
from service.metrics import ServiceMetrics
from service.middleware import RequestIds
from service.model import LoadedModel, load_challenger, load_model
from service.predictor import Predictor
from service.settings import ConfigError, Settings
from service.sink import AuditSink, open_sink

log = logging.getLogger("nb2prod.service")

LIBRARIES = ("fastapi", "pydantic", "starlette", "uvicorn", "pandas", "numpy", "scikit-learn", "joblib")


class PredictionService:
    def __init__(
        self,
        settings: Settings,
        model: LoadedModel,
        build_features: Callable[..., Any],
        metrics: ServiceMetrics,
        sink: Optional[AuditSink] = None,
        challenger: Optional[LoadedModel] = None,
    ):
        self.settings = settings
        self.model = model
        self.model_reference = model.reference()
        self.predictor = Predictor(model, settings, build_features)
        self.kill_switch = KillSwitch(settings.kill_switch.env, settings.kill_switch.file)
        self.sink = sink if sink is not None else open_sink(settings)
        self.audit_log = AuditLog(self.sink, self.model_reference, settings.audit.inputs)
        self.feedback = FeedbackLog(self.sink)
        self.review_queue = ReviewQueue(settings.review_queue, self.model_reference)
        self.drift = DriftMonitor.from_profile(settings.profile_path, settings.input_columns, settings.drift)
        self.metrics = metrics
        self.challenger: Optional[Challenger] = None
        if challenger is not None and settings.challenger is not None:
            self.challenger = Challenger(challenger, settings, build_features, self.audit_log)

    @classmethod
    def start(
        cls,
        settings: Settings,
        build_features: Callable[..., Any],
        metrics: ServiceMetrics,
        check_prediction: Callable[[Any], Optional[str]],
    ) -> "PredictionService":
        """Checks the rules and the fallback (`check_prediction(value)` says why a value is no
        valid prediction), loads the model (refusing a file whose sha256 is not the configured
        one): raises ConfigError / ModelIntegrityError / ModelLoadError rather than start."""
        check_rules(settings.rules, settings.input_columns, check_prediction)
        check_fallback(settings.fallback, check_prediction)
        model = load_model(settings)
        if settings.task == "classification":
            check_classes(model, check_prediction)
        challenger = load_challenger(settings)
        return cls(settings, model, build_features, metrics, open_sink(settings), challenger)

    def serve(self, records: list[dict[str, Any]], endpoint: str, ids: RequestIds) -> list[Decision]:
        """The decisions for `records`; `self.answered_by(ids, records)` says which model answered."""
        started = time.perf_counter()
        self.drift.observe(records)
        kill_reason = self.kill_switch.reason()
        canary = self.challenger is not None and not kill_reason and self.challenger.answers(ids, records)
        predictor = self.challenger.predictor if canary else self.predictor
        if kill_reason:
            decisions = [fallback_decision(self.settings.fallback, kill_reason, passthrough(record, self.settings)) for record in records]
        else:
            try:
                raw = predictor.predict(records)
            except Exception as error:
                self.metrics.count_errors(len(records))
                log.exception("prediction failed (request %s, %d records)", ids.request_id, len(records))
                message = f"{type(error).__name__}: {error}"
                self.audit_log.record_error(ids, endpoint, records, message, (time.perf_counter() - started) * 1000.0)
                raise PredictionFailed(message) from error
            decisions = [decide(prediction, record, self.settings) for prediction, record in zip(raw, records)]
        latency_ms = (time.perf_counter() - started) * 1000.0
        # queued for the sink's writer thread: no I/O on the request path
        if canary:
            self.audit_log.record(ids, endpoint, records, decisions, latency_ms, role="challenger", model_reference=self.challenger.reference)
        else:
            self.audit_log.record(ids, endpoint, records, decisions, latency_ms)
            if self.challenger is not None and self.challenger.mode == "shadow" and not kill_reason:
                self.challenger.shadow(ids, endpoint, records)
        try:
            flagged = self.review_queue.add(ids, endpoint, records, decisions)
        except OSError as error:
            self.metrics.count_errors(len(records))
            log.exception("could not write the review queue (request %s)", ids.request_id)
            raise PredictionFailed(f"could not write the review queue: {error}") from error
        self.metrics.count_predictions(len(decisions), sum(d.fallback for d in decisions), flagged)
        for decision in decisions:
            decision.model_reference = self.challenger.reference if canary else self.model_reference
        return decisions

    def deployed(self) -> Optional[dict[str, Any]]:
        """How the champion came here when it is a registry version deployed (service/deployment.json)."""
        model = self.settings.model
        if model.source != "deployment":
            return None
        return {"alias": model.alias, "deployed_at": model.deployed_at, "by": model.deployed_by}

    def metrics_text(self) -> str:
        model_info = {
            "name": str(self.model.name),
            "version": "" if self.model.version is None else str(self.model.version),
            "sha256": self.model.sha256,
        }
        return self.metrics.render(self.kill_switch.active(), model_info, self.drift.snapshot(), self.sink.status())

    def close(self) -> None:
        """At the end of the lifespan (SIGTERM): score the shadow requests queued, then write
        what the sink still holds."""
        if self.challenger is not None:
            self.challenger.flush()
            self.challenger.close()
        self.sink.close()

    def version_info(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "name": settings.name,
            "notebook": settings.notebook,
            "run": settings.run,
            "task": settings.task,
            "model": dict(
                self.model_reference,
                path=str(settings.model.path),
                registered=settings.model.registered,
                format=settings.model.format,
                source=settings.model.source,
            ),
            "schema": settings.config_schema,
            "python": platform.python_version(),
            "libraries": {name: library_version(name) for name in LIBRARIES},
        }


class Challenger:
    """The registry's challenger beside the champion (service/deployment.json).

    Shadow: after the champion's answer, the request is queued for a thread of its own that
    scores it with the challenger and logs the answer (role "challenger", shadow true), never
    returned; a full queue drops the request (counted), so the champion never waits. Canary: the
    challenger answers `percent` % of the requests, picked by a stable hash of `key` (the client's
    request id by default, so one client's requests stay with one model), and its answers are
    logged with role "challenger"."""

    QUEUE_MAX = 10_000

    def __init__(self, model: LoadedModel, settings: Settings, build_features: Callable[..., Any], audit_log: Any):
        config = settings.challenger
        self.model = model
        self.mode = config.mode
        self.percent = config.percent
        self.key = config.key
        self.settings = settings
        self.reference = model.reference()
        self.predictor = Predictor(model, settings, build_features)
        self.audit_log = audit_log
        self.dropped = 0
        self.failed = 0
        self._queue: "queue.Queue[Any]" = queue.Queue(self.QUEUE_MAX)
        self._thread: Optional[threading.Thread] = None
        if self.mode == "shadow":
            self._thread = threading.Thread(target=self._run, name="nb2prod-shadow", daemon=True)
            self._thread.start()
        log.info("challenger %s (version %s) in %s%s", model.name, model.version, self.mode,
                 f" for {self.percent:g}% of requests by {self.key}" if self.mode == "canary" else "")

    def answers(self, ids: RequestIds, records: list[dict[str, Any]]) -> bool:
        """Canary: does the challenger answer this request? (Always False in shadow.)"""
        if self.mode != "canary" or self.percent <= 0:
            return False
        if self.key == "client_request_id":
            value: Any = ids.client_request_id or ids.request_id
        elif self.key == "request_id":
            value = ids.request_id
        else:
            value = records[0].get(self.key) if records else None
            value = ids.request_id if value is None else value
        digest = hashlib.sha256(str(value).encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % 10_000 < self.percent * 100

    def shadow(self, ids: RequestIds, endpoint: str, records: list[dict[str, Any]]) -> None:
        try:
            self._queue.put_nowait((ids, endpoint, records))
        except queue.Full:
            self.dropped += len(records)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._score(*item)
            finally:
                self._queue.task_done()

    def _score(self, ids: RequestIds, endpoint: str, records: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        try:
            raw = self.predictor.predict(records)
        except Exception:
            self.failed += len(records)
            log.exception("the shadow challenger failed on request %s", ids.request_id)
            return
        decisions = [decide(prediction, record, self.settings) for prediction, record in zip(raw, records)]
        latency_ms = (time.perf_counter() - started) * 1000.0
        self.audit_log.record(ids, endpoint, records, decisions, latency_ms, role="challenger", model_reference=self.reference, shadow=True)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued shadow request is scored and logged (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(30)


def check_classes(model: LoadedModel, check_prediction: Callable[[Any], Optional[str]]) -> None:
    """Refuse to start when the classifier predicts classes the answer's type cannot hold (e.g.
    the notebook trained on 0/1 labels it derived from a yes/no column): every answer would fail."""
    classes = getattr(model.estimator, "classes_", None)
    if classes is None:
        return
    for label in classes:
        problem = check_prediction(to_jsonable(label))
        if problem:
            raise ConfigError(
                f"the model predicts the classes {[to_jsonable(c) for c in classes]}, and {to_jsonable(label)!r} "
                f"is not a valid prediction ({problem}): the answer's type, in service/schemas.py "
                "(Prediction.prediction) and contracts/output.schema.json, comes from the target column "
                "of the training data, but the model was trained on other labels. Change both to the "
                "type of the model's classes."
            )


def library_version(distribution: str) -> Optional[str]:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
