"""The HTTP API: health, readiness, version, one and batch predictions, request limits."""
import pytest

RESPONSE_KEYS = {"prediction", "probability", "needs_review", "fallback", "rule", "model", "request_id", "client_request_id", "warnings"}
ITEM_KEYS = RESPONSE_KEYS - {"model", "request_id", "client_request_id"}


def passed_through(service_config):
    """The record's id column, which answers carry back (service/config.json "id_column")."""
    return {service_config["id_column"]} if service_config.get("id_column") else set()


def model_reference(config):
    return {"name": config["model"].get("name") or config["name"], "version": config["model"].get("version"), "sha256": config["model"]["sha256"]}


def test_health_says_the_process_is_alive(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_once_the_verified_model_is_loaded(client, service_config):
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["model"] == model_reference(service_config)
    assert body["kill_switch"] is False


def test_version_names_the_model_run_and_libraries(client, service_config):
    body = client.get("/version").json()
    assert body["name"] == service_config["name"]
    assert body["run"] == service_config.get("run")
    assert body["notebook"] == service_config.get("notebook")
    assert body["schema"] == service_config.get("schema")
    assert body["model"]["sha256"] == service_config["model"]["sha256"]
    assert body["model"]["version"] == service_config["model"].get("version")
    assert body["python"].count(".") == 2
    assert body["libraries"]["fastapi"]
    assert body["libraries"]["pydantic"]


def test_a_number_outside_the_training_range_is_answered_with_a_warning(client, valid_record, service_config, project_json):
    profile = project_json("contracts/profile.json")
    numeric = [
        c for c in profile["columns"]
        if c["name"] in service_config["input_columns"] and c["type"] == "numeric" and c.get("min") is not None and c.get("max") is not None
    ]
    within = client.post("/predict", json=valid_record)
    assert within.status_code == 200, within.text
    assert not [w for w in within.json()["warnings"] if "outside the training range" in w], within.json()
    for column in numeric[:3]:
        beyond = column["max"] + max(1, abs(column["max"]))
        if column.get("integer"):
            beyond = int(beyond)
        response = client.post("/predict", json=dict(valid_record, **{column["name"]: beyond}))
        assert response.status_code == 200, response.text
        warnings = response.json()["warnings"]
        assert any(w.startswith(f"{column['name']} ") and "outside the training range" in w for w in warnings), warnings


def test_predict_one_record(client, valid_record, service_config):
    response = client.post("/predict", json=valid_record)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == RESPONSE_KEYS | passed_through(service_config)
    assert body["model"] == model_reference(service_config)
    assert body["fallback"] is False
    assert isinstance(body["needs_review"], bool)
    assert isinstance(body["warnings"], list)
    assert body["request_id"] and response.headers["X-Request-ID"] == body["request_id"]


def test_every_request_gets_its_own_id(client, valid_record):
    first, second = (client.post("/predict", json=valid_record) for _ in range(2))
    ids = [response.json()["request_id"] for response in (first, second)]
    assert ids[0] != ids[1]
    for response in (first, second):
        body = response.json()
        assert response.headers["X-Request-ID"] == body["request_id"]
        assert body["client_request_id"] is None and "X-Client-Request-ID" not in response.headers


def test_a_resent_client_id_is_kept_beside_a_new_server_id(client, valid_record):
    headers = {"X-Request-ID": "order-1234"}
    first, second = (client.post("/predict", json=valid_record, headers=headers) for _ in range(2))
    assert first.json()["request_id"] != second.json()["request_id"]
    for response in (first, second):
        body = response.json()
        assert body["request_id"] != "order-1234" and response.headers["X-Request-ID"] == body["request_id"]
        assert body["client_request_id"] == "order-1234"
        assert response.headers["X-Client-Request-ID"] == "order-1234"
    batch = client.post("/predict/batch", json={"records": [valid_record]}, headers=headers)
    assert batch.json()["client_request_id"] == "order-1234"
    assert batch.json()["request_id"] not in (first.json()["request_id"], second.json()["request_id"])


@pytest.mark.parametrize("unsafe", ['no spaces or "quotes"', "x" * 129, "a;b", "{json}", ""])
def test_a_client_id_that_is_not_a_safe_token_is_not_kept(client, valid_record, unsafe):
    response = client.post("/predict", json=valid_record, headers={"X-Request-ID": unsafe})
    assert response.status_code == 200
    body = response.json()
    assert body["client_request_id"] is None and "X-Client-Request-ID" not in response.headers
    assert body["request_id"] != unsafe and response.headers["X-Request-ID"] == body["request_id"]


def test_errors_carry_the_request_ids_too(client):
    response = client.post("/predict", json={"not": "a record"}, headers={"X-Request-ID": "retry-7"})
    assert response.status_code == 422
    body = response.json()
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert body["client_request_id"] == "retry-7" == response.headers["X-Client-Request-ID"]
    assert client.get("/health").headers["X-Request-ID"]


def test_batch_gives_one_prediction_per_record_in_order(client, golden_inputs, service_config):
    records = golden_inputs[: min(len(golden_inputs), 5)]
    response = client.post("/predict/batch", json={"records": records})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"predictions", "model", "request_id", "client_request_id"}
    assert body["model"] == model_reference(service_config)
    assert len(body["predictions"]) == len(records)
    for record, item in zip(records, body["predictions"]):
        assert set(item) == ITEM_KEYS | passed_through(service_config)
        single = client.post("/predict", json=record).json()
        # A batch goes through BLAS in one call: the last bits of a regression value or a
        # probability may differ.
        if isinstance(single["prediction"], float):
            assert item["prediction"] == pytest.approx(single["prediction"], rel=1e-9, abs=1e-12)
        else:
            assert item["prediction"] == single["prediction"]
        if single["probability"] is None:
            assert item["probability"] is None
        else:
            assert item["probability"] == pytest.approx(single["probability"], rel=1e-9, abs=1e-12)


def test_an_empty_batch_is_answered_empty(client):
    response = client.post("/predict/batch", json={"records": []})
    assert response.status_code == 200
    assert response.json()["predictions"] == []


def test_a_body_over_the_declared_limit_is_refused_with_413(make_client, service_config, valid_record):
    limit = 2048
    service_config["limits"]["max_body_bytes"] = limit
    client = make_client(service_config)
    response = client.post("/predict", content=b" " * (limit + 1), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["detail"]
    assert client.post("/predict", json=valid_record).status_code == 200


def test_a_streamed_body_over_the_limit_is_refused_with_413(make_client, service_config):
    limit = 2048
    service_config["limits"]["max_body_bytes"] = limit
    client = make_client(service_config)
    chunks = (b" " * 1024 for _ in range(4))  # no Content-Length: sent chunked
    response = client.post("/predict", content=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert str(limit) in response.json()["detail"]


def test_a_batch_over_max_batch_is_refused_with_422_naming_the_limit(make_client, service_config, valid_record):
    service_config["limits"]["max_batch"] = 2
    client = make_client(service_config)
    assert client.post("/predict/batch", json={"records": [valid_record] * 2}).status_code == 200
    response = client.post("/predict/batch", json={"records": [valid_record] * 3})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "records"
    assert "max_batch" in body["detail"] and "2" in body["detail"]


def test_invalid_json_is_a_422_on_the_body(client):
    response = client.post("/predict", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_feature_code_that_drops_a_record_fails_the_request_instead_of_misaligning(make_client, golden_inputs, monkeypatch):
    import common.features

    real = common.features.build_features

    def drops_the_first_row(frame, **kwargs):
        return real(frame, **kwargs).iloc[1:]

    monkeypatch.setattr(common.features, "build_features", drops_the_first_row)
    client = make_client()
    response = client.post("/predict/batch", json={"records": golden_inputs[:3]})
    assert response.status_code == 500
    body = response.json()
    assert "returned 2 rows for 3 records" in body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"] and body["request_id"] in body["detail"]
