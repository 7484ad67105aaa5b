"""Loading the model artifact, refusing any file whose sha256 is not the one configured: in
service/config.json, or in service/deployment.json for a registry version deployed here (the
champion served in config.json's model's place, or the challenger beside it).

The artifact is what the service predicts with: the notebook's fitted steps (imputers,
encoders, scalers, vectorizers, a ColumnTransformer ...) and its model, composed into one
scikit-learn Pipeline by ``nb2prod scaffold`` from the tracked run's own fitted objects (their
hashes are config.json's ``model.components``), or the model file itself when the notebook fits
nothing before the model. The service only calls predict / predict_proba on it: it never fits.

The hash is checked on the very bytes that are then unpickled, so a file swapped between the
check and the load cannot slip through. Unpickling runs code from the file, which is one more
reason to load only the artifact this project was generated and tested with.
"""
import hashlib
import io
import json
import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

from service.settings import Settings

log = logging.getLogger("nb2prod.service")


class ModelLoadError(RuntimeError):
    """The model could not be loaded: the service must not start."""


class ModelIntegrityError(ModelLoadError):
    """The model file is not the artifact config.json (or deployment.json) names: its sha256 differs."""

    def __init__(self, path: Path, expected: str, actual: str, deployed: Optional[str] = None):
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        if deployed:
            # a registry version deployed here: its copy was altered or replaced since
            super().__init__(
                "Refusing to start: the model file %s has sha256 %s, but service/deployment.json "
                "deployed %s with sha256 %s. The file is not the registered version. Deploy it again "
                "from the registry (`nb2prod registry deploy . --alias %s`, which re-hashes the store's "
                "copy), or start with NB2PROD_DEPLOYMENT=off to serve the model service/config.json "
                "names; do not edit the hash to make it start." % (path, actual, deployed, expected, "champion" if "champion" in deployed else "challenger")
            )
            return
        super().__init__(
            "Refusing to start: the model file %s has sha256 %s, but service/config.json "
            "expects %s. The file is not the artifact this service was generated and tested "
            "with. Restore the original file, or regenerate the project with `nb2prod "
            "scaffold` from the run that produced the new model; do not edit the hash to make "
            "it start." % (path, actual, expected)
        )


@dataclass(frozen=True)
class LoadedModel:
    estimator: Any
    path: Path
    sha256: str
    name: str
    version: Any
    feature_columns: Optional[List[str]]

    def reference(self) -> Dict[str, Any]:
        """How responses and the audit log name the model."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()



def check_environment(names: Iterable[str], environ: Mapping[str, str] = os.environ) -> None:
    """The feature code reads these variables (settings.environment): refuse to start without them."""
    missing = [name for name in names if not environ.get(name)]
    if missing:
        verb = "it is" if len(missing) == 1 else "they are"
        raise ModelLoadError(
            f"Refusing to start: the feature code (common/features.py) reads {', '.join(missing)} from the "
            f"environment, as the notebook did, and {verb} not set. Set {' and '.join(missing)} before starting the service."
        )


def load_model(settings: Settings) -> LoadedModel:
    check_environment(settings.environment)
    role = "champion" if settings.model.source == "deployment" else "model"
    return load_model_file(settings.model, settings.feature_columns_path, role)


def load_challenger(settings: Settings) -> Optional[LoadedModel]:
    """The challenger of service/deployment.json, checked like the champion; None without one."""
    if settings.challenger is None:
        return None
    return load_model_file(settings.challenger, settings.feature_columns_path, "challenger")


def load_model_file(model: Any, feature_columns_path: Path, role: str) -> LoadedModel:
    """`role`: "model" (config.json's), "champion" or "challenger" (deployed from the registry)."""
    path = model.path
    expected = model.sha256.strip().lower()
    deployed = None if role == "model" else "%s v%s as the %s" % (model.name, model.version, role)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if role == "model":
            raise ModelLoadError(
                "Model file %s not found. It is copied into the project by nb2prod (model.path in "
                "service/config.json, or NB2PROD_MODEL_PATH): restore it." % path
            ) from None
        raise ModelLoadError(
            "Refusing to start: the model file %s of %s (service/deployment.json) is missing. Deploy it "
            "again from the registry (`nb2prod registry deploy . --alias %s`)%s."
            % (path, deployed, role, ", or start with NB2PROD_DEPLOYMENT=off to serve the model service/config.json names"
               if role == "champion" else ", or start with NB2PROD_CHALLENGER=off to serve the champion alone")
        ) from None
    actual = sha256_of_bytes(data)
    if actual != expected:
        raise ModelIntegrityError(path, expected, actual, deployed)
    estimator = _unpickle(data, model.format, path)
    columns = _feature_columns(feature_columns_path, estimator)
    if deployed:
        check_feature_names(estimator, columns, deployed)
    loaded = LoadedModel(
        estimator=estimator,
        path=path,
        sha256=actual,
        name=model.name,
        version=model.version,
        feature_columns=columns,
    )
    log.info("%s %s (version %s, sha256 %s) loaded from %s", role, loaded.name, loaded.version, actual, path)
    return loaded


def check_feature_names(estimator: Any, columns: Optional[List[str]], deployed: str) -> None:
    """A deployed version must take the features this service computes (model/feature_columns.json):
    when the estimator recorded the names it was fitted on, they must be those, in that order."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or columns is None:
        return
    names = [str(name) for name in names]
    if names == list(columns):
        return
    missing = [c for c in names if c not in columns]
    extra = [c for c in columns if c not in names]
    detail = "; ".join(part for part in (
        "it needs %s, which this service's features do not have" % ", ".join(missing) if missing else "",
        "it was not fitted on %s" % ", ".join(extra) if extra else "",
        "the same names in another order" if not missing and not extra else "",
    ) if part)
    raise ModelLoadError(
        "Refusing to start: %s was fitted on other features than this service computes "
        "(model/feature_columns.json): %s. A version trained on another shape of data needs its own "
        "service (nb2prod scaffold from its run)." % (deployed, detail)
    )


def _unpickle(data: bytes, file_format: Optional[str], path: Path) -> Any:
    try:
        if file_format == "pickle":
            return pickle.loads(data)
        import joblib  # reads plain pickles too

        return joblib.load(io.BytesIO(data))
    except (ImportError, AttributeError) as error:  # a class the file names is not there
        raise ModelLoadError(
            "Model file %s could not be loaded (%s: %s): install the library versions pinned in "
            "requirements.txt, the ones the model was trained with." % (path, type(error).__name__, error)
        ) from error
    except Exception as error:
        raise ModelLoadError(
            "Model file %s could not be unpickled (%s: %s)." % (path, type(error).__name__, error)
        ) from error


def _feature_columns(path: Path, estimator: Any) -> Optional[List[str]]:
    """The model's input columns: model/feature_columns.json, else what sklearn recorded, else None."""
    if path.exists():
        try:
            with open(path, "r", encoding="utf-8") as handle:
                columns = json.load(handle)
        except ValueError as error:
            raise ModelLoadError("%s is not valid JSON (%s): rerun `python -m pipeline.golden`." % (path, error)) from None
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise ModelLoadError("%s must be a JSON list of column names: rerun `python -m pipeline.golden`." % path)
        return columns
    names = getattr(estimator, "feature_names_in_", None)
    return [str(name) for name in names] if names is not None else None
