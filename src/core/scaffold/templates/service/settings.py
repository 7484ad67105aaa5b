"""The service's settings: service/config.json with the environment's overrides, as typed models.

``Settings.from_env()`` reads them once; the app's lifespan calls it at start (service/app.py)
and the routes get them through ``Depends(get_settings)``. Every path in config.json is relative
to the project root; the settings hold them absolute. Environment variables:

- ``NB2PROD_STATE_DIR``: a directory replacing the leading ``var/`` of ``audit_log``,
  ``review_queue`` and ``kill_switch.file`` (e.g. a mounted volume in a container).
- ``NB2PROD_KILL_SWITCH`` (the name is config ``kill_switch.env``): "1", "true", "yes" or "on"
  makes every prediction the configured fallback. Read on every request, like the file below.
- ``NB2PROD_KILL_SWITCH_FILE``: another kill-switch file (default ``kill_switch.file``); the
  switch is on while the file exists.
- ``NB2PROD_MODEL_PATH``: serve another model file; it must still have ``model.sha256``.
- ``NB2PROD_CHALLENGER=off``: ignore the challenger of service/deployment.json (serve the champion alone).
- ``NB2PROD_DEPLOYMENT=off``: ignore service/deployment.json altogether: serve the model
  config.json names (what the project was generated with), alone.

service/deployment.json (written by ``nb2prod registry deploy``, and by ``registry promote`` /
``registry rollback`` with ``--deploy``) names the registry versions deployed here: a ``champion``
replaces config.json's model (the service serves it, its sha256 checked the same way) and a
``challenger`` runs beside it.
- ``AUDIT_DSN``: ``postgresql://user:password@host:5432/db``: the audit log and the feedback go to
  PostgreSQL (append-only tables the service creates) instead of JSON Lines files under var/.
  Needs a PostgreSQL driver: ``pip install "psycopg[binary]"`` (or Debian's python3-psycopg2).
  Read from the environment only: a password does not belong in config.json.

The others are read once, at start.

pydantic-settings' ``BaseSettings`` would read the environment too, but it is a separate
package for pydantic 2 (``pydantic.BaseSettings`` in 1.10) that Debian does not ship, and the
service's settings come mostly from config.json: plain pydantic models and ``from_env`` it is.
"""
import json
import os
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Union

from pydantic import Field, StrictInt, StrictStr, ValidationError

from service.compat import ConfigModel, fields_set, validate_model

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = Path("service") / "config.json"
DEPLOYMENT_FILE = Path("service") / "deployment.json"
CHALLENGER_ENV = "NB2PROD_CHALLENGER"
DEPLOYMENT_ENV = "NB2PROD_DEPLOYMENT"
OFF = ("off", "0", "false", "no")
STATE_PREFIX = "var/"

STATE_DIR_ENV = "NB2PROD_STATE_DIR"
KILL_SWITCH_FILE_ENV = "NB2PROD_KILL_SWITCH_FILE"
MODEL_PATH_ENV = "NB2PROD_MODEL_PATH"
DEFAULT_KILL_SWITCH_ENV = "NB2PROD_KILL_SWITCH"
DEFAULT_KILL_SWITCH_FILE = "var/KILL_SWITCH"
DEFAULT_AUDIT_LOG = "var/audit/predictions.jsonl"
DEFAULT_REVIEW_QUEUE = "var/review/queue.jsonl"
DEFAULT_FEEDBACK_LOG = "var/feedback/labels.jsonl"
AUDIT_DSN_ENV = "AUDIT_DSN"


class ConfigError(ValueError):
    """service/config.json is missing, unreadable, incomplete or inconsistent."""


class ModelSettings(ConfigModel):
    path: Path = Field(..., description="the model file (absolute once resolved)")
    sha256: str = Field(..., min_length=64, max_length=64, description="the file's sha256: anything else is refused")
    name: str
    version: Union[StrictInt, StrictStr, None] = None
    registered: bool = False
    format: Optional[str] = Field(None, description='"pickle" or "joblib" (joblib reads both)')
    source: Literal["config", "deployment"] = Field("config", description="config.json's model, or the champion service/deployment.json names")
    alias: Optional[str] = Field(None, description="the registry alias it was deployed as")
    deployed_at: Optional[str] = None
    deployed_by: Optional[str] = None


class ChallengerSettings(ModelSettings):
    """A second model served beside the champion (service/deployment.json, written by
    `nb2prod registry deploy`): in shadow it scores every request after the answer, off the
    request path, and is logged, never returned; as a canary it answers `percent` % of the
    requests, picked by a stable hash of `key`."""

    mode: Literal["shadow", "canary"] = "shadow"
    percent: float = Field(0.0, ge=0, le=100, description="canary: the share of requests the challenger answers")
    key: str = Field("client_request_id", description="canary: what the hash is of: client_request_id, request_id or an input field (the id column)")


class KillSwitchSettings(ConfigModel):
    env: str = DEFAULT_KILL_SWITCH_ENV
    file: Path = Path(DEFAULT_KILL_SWITCH_FILE)


class Limits(ConfigModel):
    max_body_bytes: int = Field(1_048_576, gt=0)
    max_batch: int = Field(1000, gt=0)


class DriftSettings(ConfigModel):
    window: int = Field(1000, gt=0, description="inputs per column the live drift is computed on")
    min_rows: int = Field(100, gt=0, description="inputs needed before a PSI is reported")
    monitor: float = 0.1
    retrain: float = 0.2


class AuditSettings(ConfigModel):
    """How the audit log and the feedback are written (service/sink.py): in batches, by a thread
    of their own, never on the request path."""

    rotate: Literal["daily", "none"] = Field("daily", description="daily: one file per UTC day, predictions-YYYY-MM-DD.jsonl")
    retention_days: int = Field(0, ge=0, description="files older than this many days are deleted (0: kept forever)")
    batch_size: int = Field(500, gt=0, description="entries written at once at most")
    flush_interval_ms: int = Field(200, gt=0, description="the longest an entry waits before it is written")
    buffer_max: int = Field(100_000, gt=0, description="entries held while the sink is unreachable; beyond, new ones are dropped and counted")
    inputs: bool = Field(True, description="log each record's input values (the monitor's per-feature drift needs them)")
    table: str = Field("nb2prod_audit", description="PostgreSQL: the audit table (the feedback table is <table>_feedback)")


class Fallback(ConfigModel):
    """The answer while the kill switch is on."""

    prediction: Any = None
    probability: Optional[float] = None
    description: Optional[str] = None


class Condition(ConfigModel, extra="forbid"):
    field: str
    op: str
    value: Any = None


class RuleEffect(ConfigModel, extra="forbid"):
    prediction: Any = None
    needs_review: Optional[bool] = None

    @property
    def sets_prediction(self) -> bool:
        return "prediction" in fields_set(self)


class Rule(ConfigModel, extra="forbid"):
    """A rule override: when every condition holds, `then` applies (service/decisions.py).
    Written by hand, so a misspelt key is refused rather than ignored."""

    name: Optional[str] = None
    when: list[Condition] = []
    then: RuleEffect = RuleEffect()
    reason: Optional[str] = None


class Settings(ConfigModel):
    """service/config.json, environment overrides applied, paths absolute."""

    root: Path
    name: str
    notebook: Optional[str] = None
    run: Optional[str] = None
    config_schema: Optional[str] = Field(None, alias="schema")
    task: Literal["classification", "regression"]
    target: Optional[str] = None
    frame_columns: list[str]
    input_columns: list[str]
    model: ModelSettings
    confidence_threshold: Optional[float] = None
    rules: list[Rule] = []
    fallback: Fallback
    kill_switch: KillSwitchSettings = KillSwitchSettings()
    audit_log: Path = Path(DEFAULT_AUDIT_LOG)
    review_queue: Path = Path(DEFAULT_REVIEW_QUEUE)
    feedback_log: Path = Path(DEFAULT_FEEDBACK_LOG)
    audit: AuditSettings = AuditSettings()
    audit_dsn: Optional[str] = Field(None, description="AUDIT_DSN: PostgreSQL instead of JSON Lines files")
    challenger: Optional[ChallengerSettings] = Field(None, description="service/deployment.json: a challenger beside the champion")
    limits: Limits = Limits()
    drift: DriftSettings = DriftSettings()
    run_metrics: dict[str, float] = {}
    id_column: Optional[str] = Field(None, description="a request's identifier, passed through to its answer and the audit log")
    environment: list[str] = Field([], description="variables the feature code reads from the environment, as the notebook did")

    @property
    def feature_columns_path(self) -> Path:
        return self.root / "model" / "feature_columns.json"

    @property
    def profile_path(self) -> Path:
        return self.root / "contracts" / "profile.json"

    @classmethod
    def from_env(
        cls,
        root: Optional[Path] = None,
        config: Optional[Mapping[str, Any]] = None,
        environ: Optional[Mapping[str, str]] = None,
    ) -> "Settings":
        """The settings of the project at `root` (default: the folder holding service/), from
        `config` instead of service/config.json when given, with the overrides of `environ`
        (default: os.environ). Raises ConfigError when the configuration is not usable."""
        root = Path(root).resolve() if root is not None else PROJECT_ROOT
        env = os.environ if environ is None else environ
        data = dict(load_config(root) if config is None else config)
        state_dir = env.get(STATE_DIR_ENV) or None

        deployment = {} if env.get(DEPLOYMENT_ENV, "").strip().lower() in OFF else load_deployment(root)
        model = dict(data.get("model") or {})
        if not model.get("name"):
            model["name"] = data.get("name")
        if deployment.get("champion"):
            model = deployed_champion(deployment["champion"], model)
        if env.get(MODEL_PATH_ENV):
            model["path"] = env[MODEL_PATH_ENV]
        if model.get("path"):
            model["path"] = _under_root(root, str(model["path"]))
        kill_switch = dict(data.get("kill_switch") or {})
        if not kill_switch.get("env"):
            kill_switch.pop("env", None)
        switch_file = env.get(KILL_SWITCH_FILE_ENV)
        kill_switch["file"] = (
            _under_root(root, switch_file)
            if switch_file
            else state_path(root, str(kill_switch.get("file") or DEFAULT_KILL_SWITCH_FILE), state_dir)
        )
        data.update(
            root=root,
            model=model,
            kill_switch=kill_switch,
            audit_log=state_path(root, str(data.get("audit_log") or DEFAULT_AUDIT_LOG), state_dir),
            review_queue=state_path(root, str(data.get("review_queue") or DEFAULT_REVIEW_QUEUE), state_dir),
            feedback_log=state_path(root, str(data.get("feedback_log") or DEFAULT_FEEDBACK_LOG), state_dir),
            audit_dsn=env.get(AUDIT_DSN_ENV) or None,
        )
        challenger_off = env.get(CHALLENGER_ENV, "").strip().lower() in OFF
        challenger = None if challenger_off else (deployment.get("challenger") or data.get("challenger"))
        data.pop("challenger", None)
        if challenger:
            challenger = dict(challenger)
            challenger["path"] = _under_root(root, str(challenger.get("path") or ""))
            data["challenger"] = challenger
        for section in ("rules", "limits", "drift", "run_metrics", "audit"):
            if data.get(section) is None:
                data.pop(section, None)
        try:
            return validate_model(cls, data)
        except ValidationError as error:
            raise ConfigError(
                f"service/config.json is not usable: {describe_errors(error)}. "
                "Fix the file, or regenerate it with `nb2prod scaffold`."
            ) from None


def load_deployment(root: Path) -> dict[str, Any]:
    """service/deployment.json: the registry versions deployed here (absent: none): the champion
    served in place of config.json's model, the challenger beside it."""
    path = Path(root) / DEPLOYMENT_FILE
    if not path.exists():
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            deployment = json.load(handle)
    except ValueError as error:
        raise ConfigError(f"{path} is not valid JSON ({error}): deploy again with `nb2prod registry deploy`, or start with NB2PROD_DEPLOYMENT=off to serve the model service/config.json names.") from None
    if not isinstance(deployment, dict):
        raise ConfigError(f"{path} must hold a JSON object.")
    return deployment


def deployed_champion(champion: Any, configured: Mapping[str, Any]) -> dict[str, Any]:
    """The model settings of service/deployment.json's champion (a registry version deployed
    here), in place of config.json's `configured` model."""
    if not isinstance(champion, dict) or not champion.get("path") or not champion.get("sha256"):
        raise ConfigError(
            f"{DEPLOYMENT_FILE}: its champion must name the model file (path) and its sha256. Deploy again with "
            "`nb2prod registry deploy . --alias champion`, or start with NB2PROD_DEPLOYMENT=off to serve "
            "the model service/config.json names."
        )
    return {
        "path": champion["path"],
        "sha256": champion["sha256"],
        "name": champion.get("name") or configured.get("name"),
        "version": champion.get("version"),
        "registered": True,
        "format": champion.get("format"),
        "source": "deployment",
        "alias": champion.get("alias"),
        "deployed_at": champion.get("deployed_at"),
        "deployed_by": champion.get("by"),
    }


def load_config(root: Path) -> dict[str, Any]:
    path = Path(root) / CONFIG_FILE
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path} not found: the service reads its settings from it. It is generated by "
            "`nb2prod scaffold`; regenerate the project or restore the file."
        ) from None
    except ValueError as error:
        raise ConfigError(f"{path} is not valid JSON ({error}): fix or regenerate it.") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a JSON object: fix or regenerate it.")
    return config


def describe_errors(error: ValidationError) -> str:
    """`model.sha256: field required; task: ...` from a ValidationError, by config.json's keys."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg', 'invalid value')}")
    return "; ".join(parts)


def state_path(root: Path, relative: str, state_dir: Optional[str]) -> Path:
    """`relative` under the project root, its leading var/ replaced by `state_dir` when set."""
    normalized = relative.replace("\\", "/")
    if state_dir and normalized.startswith(STATE_PREFIX):
        return Path(os.path.abspath(state_dir)) / normalized[len(STATE_PREFIX):]
    return _under_root(root, normalized)


def _under_root(root: Path, path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else root / candidate
