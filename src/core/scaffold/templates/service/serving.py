"""What answering a prediction request takes, built once at start and shared by the requests:
the verified model and the feature code (the predictor), the decisions (rules, review flags,
kill switch, fallback), the audit log and review queue, the live drift window and the metrics.
"""
import logging
import platform
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
from service.model import LoadedModel, load_model
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
        return cls(settings, model, build_features, metrics, open_sink(settings))

    def serve(self, records: list[dict[str, Any]], endpoint: str, ids: RequestIds) -> list[Decision]:
        started = time.perf_counter()
        self.drift.observe(records)
        kill_reason = self.kill_switch.reason()
        if kill_reason:
            decisions = [fallback_decision(self.settings.fallback, kill_reason, passthrough(record, self.settings)) for record in records]
        else:
            try:
                raw = self.predictor.predict(records)
            except Exception as error:
                self.metrics.count_errors(len(records))
                log.exception("prediction failed (request %s, %d records)", ids.request_id, len(records))
                message = f"{type(error).__name__}: {error}"
                self.audit_log.record_error(ids, endpoint, records, message, (time.perf_counter() - started) * 1000.0)
                raise PredictionFailed(message) from error
            decisions = [decide(prediction, record, self.settings) for prediction, record in zip(raw, records)]
        latency_ms = (time.perf_counter() - started) * 1000.0
        # queued for the sink's writer thread: no I/O on the request path
        self.audit_log.record(ids, endpoint, records, decisions, latency_ms)
        try:
            flagged = self.review_queue.add(ids, endpoint, records, decisions)
        except OSError as error:
            self.metrics.count_errors(len(records))
            log.exception("could not write the review queue (request %s)", ids.request_id)
            raise PredictionFailed(f"could not write the review queue: {error}") from error
        self.metrics.count_predictions(len(decisions), sum(d.fallback for d in decisions), flagged)
        return decisions

    def metrics_text(self) -> str:
        model_info = {
            "name": str(self.model.name),
            "version": "" if self.model.version is None else str(self.model.version),
            "sha256": self.model.sha256,
        }
        return self.metrics.render(self.kill_switch.active(), model_info, self.drift.snapshot(), self.sink.status())

    def close(self) -> None:
        """At the end of the lifespan (SIGTERM): write what the sink still holds."""
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
            ),
            "schema": settings.config_schema,
            "python": platform.python_version(),
            "libraries": {name: library_version(name) for name in LIBRARIES},
        }


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
