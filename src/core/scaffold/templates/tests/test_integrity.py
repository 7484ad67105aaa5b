"""The service refuses to start on a model file whose sha256 is not the configured one, and on
a classifier whose classes the answer's type cannot hold."""
import dataclasses
import shutil

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.model import ModelIntegrityError, ModelLoadError
from service.settings import ConfigError, Settings


def start(settings=None):
    """Starts an app as uvicorn does (its lifespan runs) and stops it again."""
    with TestClient(create_app(settings)):
        pass


def test_importing_the_app_loads_no_model(settings):
    import service.app

    assert not hasattr(service.app.app.state, "service") or service.app.app.state.service is None


def test_a_tampered_model_file_is_refused_at_start(settings, tmp_path, monkeypatch):
    original = settings.model.path
    tampered = tmp_path / original.name
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    tampered.write_bytes(bytes(data))
    monkeypatch.setenv("NB2PROD_MODEL_PATH", str(tampered))

    with pytest.raises(ModelIntegrityError) as caught:
        start()
    error = caught.value
    assert error.expected == settings.model.sha256
    assert error.actual != error.expected
    message = str(error)
    assert str(tampered) in message and error.expected in message and error.actual in message
    assert "Restore the original file" in message


def test_the_right_file_starts_even_from_elsewhere(settings, tmp_path, monkeypatch):
    copy = tmp_path / "copy" / settings.model.path.name
    copy.parent.mkdir()
    shutil.copyfile(settings.model.path, copy)
    monkeypatch.setenv("NB2PROD_MODEL_PATH", str(copy))

    with TestClient(create_app()) as client:
        ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["model"]["sha256"] == settings.model.sha256


def test_a_config_expecting_another_hash_is_refused(service_config, state_dir):
    service_config["model"]["sha256"] = "0" * 64
    with pytest.raises(ModelIntegrityError):
        start(Settings.from_env(config=service_config))


def test_a_missing_model_file_is_refused_with_its_path(state_dir, tmp_path, monkeypatch):
    missing = tmp_path / "no-such-model.joblib"
    monkeypatch.setenv("NB2PROD_MODEL_PATH", str(missing))
    with pytest.raises(ModelLoadError, match="no-such-model.joblib"):
        start()


def test_a_classifier_whose_classes_the_answer_cannot_hold_is_refused(settings, service_config, monkeypatch):
    import service.serving

    real = service.serving.load_model

    class Relabelled:
        """The real model, predicting classes of another type than the contract's."""

        def __init__(self, estimator):
            self.estimator = estimator
            self.classes_ = [{"not": "a class"}, {"nor": "this"}]

        def __getattr__(self, name):
            return getattr(self.estimator, name)

    def relabelled(settings):
        loaded = real(settings)
        return dataclasses.replace(loaded, estimator=Relabelled(loaded.estimator))

    monkeypatch.setattr(service.serving, "load_model", relabelled)
    if service_config["task"] == "regression":  # predictions are numbers, classes_ or not
        start(settings)
        return
    with pytest.raises(ConfigError, match="the model predicts the classes"):
        start(settings)
