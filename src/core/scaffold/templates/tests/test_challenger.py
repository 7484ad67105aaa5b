"""A challenger beside the champion (service/deployment.json, written by `nb2prod registry
deploy`): in shadow it scores every request after the answer and is logged, never returned; as a
canary it answers a share of the requests picked by a stable hash. Here the challenger is the
champion's own file under another version name, so the two are told apart by the version."""
import pytest


def with_challenger(config, **challenger):
    model = dict(config["model"])
    config["challenger"] = dict(
        path=model["path"], sha256=model["sha256"], name=model["name"], version="challenger-test", format=model.get("format"),
        **challenger,
    )
    return config


def test_shadow_scores_every_request_and_never_answers(make_client, service_config, golden_inputs, audit_entries):
    client = make_client(with_challenger(service_config, mode="shadow"))
    assert client.get("/ready").json()["challenger"]["mode"] == "shadow"
    single = client.post("/predict", json=golden_inputs[0]).json()
    batch = client.post("/predict/batch", json={"records": golden_inputs[1:4]}).json()
    assert single["model"]["version"] == service_config["model"].get("version"), "the champion answers"
    assert batch["model"]["version"] == service_config["model"].get("version")
    assert client.app.state.service.challenger.flush(10)
    entries = audit_entries(client)
    champion = [e for e in entries if e["role"] == "champion"]
    shadow = [e for e in entries if e["role"] == "challenger"]
    assert len(champion) == len(shadow) == 4
    assert all(e["shadow"] is True and e["model"]["version"] == "challenger-test" for e in shadow)
    pairs = {(e["request_id"], e.get("batch_index")): e for e in champion}
    for e in shadow:
        assert e["output"]["prediction"] == pairs[(e["request_id"], e.get("batch_index"))]["output"]["prediction"]


def test_canary_answers_its_share_by_a_stable_hash(make_client, service_config, golden_inputs, audit_entries):
    client = make_client(with_challenger(service_config, mode="canary", percent=50, key="client_request_id"))
    versions = {}
    for n in range(40):
        key = "client-%d" % n
        answers = {client.post("/predict", json=golden_inputs[0], headers={"X-Request-ID": key}).json()["model"]["version"] for _ in range(2)}
        assert len(answers) == 1, "one client stays with one model"
        versions[key] = answers.pop()
    share = sum(v == "challenger-test" for v in versions.values()) / len(versions)
    assert 0.2 < share < 0.8, share
    roles = {e["role"] for e in audit_entries(client)}
    assert roles == {"champion", "challenger"}
    assert all("shadow" not in e for e in audit_entries(client))


def test_nb2prod_challenger_off_serves_the_champion_alone(make_client, service_config, golden_inputs, monkeypatch, audit_entries):
    monkeypatch.setenv("NB2PROD_CHALLENGER", "off")
    client = make_client(with_challenger(service_config, mode="canary", percent=100))
    assert client.get("/ready").json()["challenger"] is None
    assert client.post("/predict", json=golden_inputs[0]).json()["model"]["version"] == service_config["model"].get("version")
    assert {e["role"] for e in audit_entries(client)} == {"champion"}


def test_a_challenger_whose_file_is_not_its_hash_stops_the_start(make_client, service_config):
    from service.model import ModelIntegrityError

    config = with_challenger(service_config, mode="shadow")
    config["challenger"]["sha256"] = "0" * 64
    with pytest.raises(ModelIntegrityError):
        make_client(config)
