"""The service refuses to start on a model file whose sha256 is not the configured one."""
import shutil

import pytest

from service.app import create_app
from service.model import ModelIntegrityError, ModelLoadError


def model_file(settings):
    return settings.root / settings.config["model"]["path"]


def test_a_tampered_model_file_is_refused_at_start(settings, tmp_path, monkeypatch):
    original = model_file(settings)
    tampered = tmp_path / original.name
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    tampered.write_bytes(bytes(data))
    monkeypatch.setenv("NB2PROD_MODEL_PATH", str(tampered))

    with pytest.raises(ModelIntegrityError) as caught:
        create_app()
    error = caught.value
    assert error.expected == settings.config["model"]["sha256"]
    assert error.actual != error.expected
    message = str(error)
    assert str(tampered) in message and error.expected in message and error.actual in message
    assert "Restore the original file" in message


def test_the_right_file_starts_even_from_elsewhere(settings, tmp_path, monkeypatch):
    copy = tmp_path / "copy" / model_file(settings).name
    copy.parent.mkdir()
    shutil.copyfile(model_file(settings), copy)
    monkeypatch.setenv("NB2PROD_MODEL_PATH", str(copy))
    from fastapi.testclient import TestClient

    client = TestClient(create_app())
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["model"]["sha256"] == settings.config["model"]["sha256"]


def test_a_config_expecting_another_hash_is_refused(service_config, state_dir):
    service_config["model"]["sha256"] = "0" * 64
    with pytest.raises(ModelIntegrityError):
        create_app(config=service_config)


def test_a_missing_model_file_is_refused_with_its_path(state_dir, tmp_path, monkeypatch):
    missing = tmp_path / "no-such-model.joblib"
    monkeypatch.setenv("NB2PROD_MODEL_PATH", str(missing))
    with pytest.raises(ModelLoadError, match="no-such-model.joblib"):
        create_app()
