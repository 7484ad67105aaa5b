"""Fixtures of the service tests. Each test gets its own app whose state (audit log, review
queue, kill-switch file) lives in a temporary directory (NB2PROD_STATE_DIR): tests never write
into the project's var/ and never see each other's files."""
import contextlib
import copy
import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOLDEN_FILE = PROJECT_ROOT / "tests" / "golden" / "sample.json"
OVERRIDE_ENV = ("NB2PROD_KILL_SWITCH", "NB2PROD_KILL_SWITCH_FILE", "NB2PROD_MODEL_PATH", "NB2PROD_STATE_DIR", "AUDIT_DSN")


def read_project_json(relative: str) -> Any:
    with open(PROJECT_ROOT / relative, encoding="utf-8") as handle:
        return json.load(handle)


def read_jsonl(path: Path) -> List[Dict[str, Any]]:
    if not Path(path).exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def stream_files(base: Path) -> List[Path]:
    """The files of an audit stream (service/sink.py): the base file, then one per day, oldest first."""
    base = Path(base)
    files = sorted(base.parent.glob(f"{base.stem}-*{base.suffix}")) if base.parent.is_dir() else []
    return ([base] if base.exists() else []) + files


@pytest.fixture
def audit_entries(settings) -> Callable[..., List[Dict[str, Any]]]:
    """audit_entries(client, stream="predictions") -> every entry of the stream ("predictions" or
    "feedback"), after the client's app wrote what its sink still held."""

    def read(client: Any, stream: str = "predictions") -> List[Dict[str, Any]]:
        assert client.app.state.service.sink.flush(10), "the audit sink did not write within 10 s"
        base = settings.audit_log if stream == "predictions" else settings.feedback_log
        return [entry for path in stream_files(base) for entry in read_jsonl(path)]

    return read


@pytest.fixture
def service_config() -> Dict[str, Any]:
    """A fresh copy of service/config.json, free to modify and pass to make_client."""
    return copy.deepcopy(read_project_json("service/config.json"))


@pytest.fixture
def state_dir(tmp_path, monkeypatch, service_config) -> Path:
    """NB2PROD_STATE_DIR for this test; every other override of the environment is cleared."""
    for name in set(OVERRIDE_ENV) | {(service_config.get("kill_switch") or {}).get("env") or "NB2PROD_KILL_SWITCH"}:
        monkeypatch.delenv(name, raising=False)
    state = tmp_path / "state"
    monkeypatch.setenv("NB2PROD_STATE_DIR", str(state))
    return state


@pytest.fixture
def settings(state_dir, service_config):
    """The resolved settings (paths of the audit log, review queue, kill-switch file) for this test."""
    from service.settings import Settings

    return Settings.from_env(config=service_config)


@pytest.fixture
def make_client(state_dir) -> Iterator[Callable[..., Any]]:
    """make_client(config=None) -> a TestClient of a new, started app (config replaces
    service/config.json). The app's lifespan runs as under uvicorn: it loads the model when the
    client starts and raises what stops a server from starting."""
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    with contextlib.ExitStack() as clients:

        def make(config: Optional[Dict[str, Any]] = None):
            app = create_app(Settings.from_env(config=config) if config is not None else None)
            return clients.enter_context(TestClient(app))

        yield make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def golden() -> Dict[str, Any]:
    if not GOLDEN_FILE.exists():
        pytest.fail(
            f"{GOLDEN_FILE.relative_to(PROJECT_ROOT)} is missing: run `python -m pipeline.golden` to "
            "compute it from the training data and the model."
        )
    with open(GOLDEN_FILE, encoding="utf-8") as handle:
        sample = json.load(handle)
    if not sample.get("rows"):
        pytest.fail(f"{GOLDEN_FILE.relative_to(PROJECT_ROOT)} has no rows: run `python -m pipeline.golden`.")
    return sample


@pytest.fixture
def golden_inputs(golden) -> List[Dict[str, Any]]:
    return [copy.deepcopy(row["input"]) for row in golden["rows"]]


@pytest.fixture
def valid_record(golden_inputs) -> Dict[str, Any]:
    return golden_inputs[0]


@pytest.fixture
def validated():
    """validated(record) -> the record as the service sees it: through the Record model, by column name."""
    from service.compat import model_to_dict, validate_model
    from service.schemas import Record

    return lambda record: model_to_dict(validate_model(Record, record))


@pytest.fixture
def jsonl() -> Callable[[Path], List[Dict[str, Any]]]:
    """jsonl(path) -> the parsed lines of a JSON Lines file ([] when it does not exist)."""
    return read_jsonl


@pytest.fixture
def project_json() -> Callable[[str], Any]:
    """project_json("contracts/input.schema.json") -> the parsed file of this project."""
    return read_project_json
