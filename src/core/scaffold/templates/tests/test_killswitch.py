"""The kill switch flips predictions to the configured fallback and back, without a restart."""
import pytest


def kill_switch_env(config):
    return (config.get("kill_switch") or {}).get("env") or "NB2PROD_KILL_SWITCH"


def assert_fallback(body, config):
    assert body["fallback"] is True
    assert body["prediction"] == config["fallback"]["prediction"]
    assert body["probability"] == config["fallback"].get("probability")
    assert body["rule"] is None
    assert any("kill switch" in warning for warning in body["warnings"])


def assert_model(body):
    assert body["fallback"] is False
    assert not any("kill switch" in warning for warning in body["warnings"])


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_the_environment_variable_flips_to_the_fallback_and_back(client, monkeypatch, service_config, valid_record, value):
    name = kill_switch_env(service_config)
    assert_model(client.post("/predict", json=valid_record).json())

    monkeypatch.setenv(name, value)
    assert_fallback(client.post("/predict", json=valid_record).json(), service_config)
    assert client.get("/ready").json()["kill_switch"] is True

    monkeypatch.setenv(name, "0")
    assert_model(client.post("/predict", json=valid_record).json())
    monkeypatch.delenv(name)
    assert_model(client.post("/predict", json=valid_record).json())


def test_the_file_flips_to_the_fallback_and_back(client, settings, state_dir, service_config, valid_record):
    switch = settings.kill_switch.file
    if service_config["kill_switch"]["file"].startswith("var/"):
        assert state_dir in switch.parents  # NB2PROD_STATE_DIR moved it out of the project's var/
    assert_model(client.post("/predict", json=valid_record).json())

    switch.parent.mkdir(parents=True, exist_ok=True)
    switch.write_text("incident 42: model disabled\n")
    assert_fallback(client.post("/predict", json=valid_record).json(), service_config)

    switch.unlink()
    assert_model(client.post("/predict", json=valid_record).json())


def test_another_file_can_be_named_in_the_environment(make_client, monkeypatch, tmp_path, service_config, valid_record):
    switch = tmp_path / "elsewhere" / "STOP"
    monkeypatch.setenv("NB2PROD_KILL_SWITCH_FILE", str(switch))
    client = make_client()
    assert_model(client.post("/predict", json=valid_record).json())
    switch.parent.mkdir(parents=True)
    switch.touch()
    assert_fallback(client.post("/predict", json=valid_record).json(), service_config)
    switch.unlink()
    assert_model(client.post("/predict", json=valid_record).json())


def test_a_batch_falls_back_record_by_record(client, monkeypatch, service_config, golden_inputs):
    monkeypatch.setenv(kill_switch_env(service_config), "1")
    body = client.post("/predict/batch", json={"records": golden_inputs}).json()
    assert len(body["predictions"]) == len(golden_inputs)
    for item in body["predictions"]:
        assert_fallback(item, service_config)
