"""Running a generated project the way its users do: its own pytest, and its service under
uvicorn on loopback, talked to over real HTTP (urllib).

    with Service(project, workdir) as service:        # started, /health answered
        reply = service.predict(record)               # Reply(status, headers, body)
        service.predicted                             # what the audit log must hold
"""
import collections
import shutil
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional

PYTHON = sys.executable  # the interpreter running these tests (see fixture.py)
SUMMARY_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b")


def clean_env(**extra: Any) -> Dict[str, str]:
    """A child's environment: no NB2PROD_*, PYTEST_* or PYTHONPATH of ours leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NB2PROD_", "PYTEST_")) and k != "PYTHONPATH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli(*args: Any, cwd, check: bool = True) -> subprocess.CompletedProcess:
    """The built CLI, `node dist/cli.js ARGS` in `cwd`, as a user runs it (check: it must exit 0)."""
    from fixture import CLI

    node = shutil.which("node")
    assert node, "node is not on PATH"
    proc = subprocess.run([node, str(CLI)] + [str(a) for a in args], cwd=str(cwd), env=clean_env(),
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, "nb2prod %s exited %d:\n%s\n%s" % (" ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr)
    return proc


# another forest on the project's table, through the project's own feature code (what the
# generated pipeline would train), so the service can take it as a second version
_TRAIN_FOREST = textwrap.dedent("""
    import json, sys
    import joblib, pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from common.features import build_features
    from common.frames import align_columns
    data, target, out, n_estimators, max_depth, random_state = sys.argv[1:7]
    frame = pd.read_csv(data)
    columns = json.load(open("model/feature_columns.json"))
    X = align_columns(build_features(frame.copy()), columns)
    model = RandomForestClassifier(n_estimators=int(n_estimators), max_depth=int(max_depth), random_state=int(random_state)).fit(X, frame[target])
    joblib.dump(model, out)
""")


def train_forest(project: Path, data: Path, target: str, out: Path, n_estimators: int, max_depth: int, random_state: int) -> None:
    """Trains a RandomForestClassifier on `data` with the generated project's features, to `out`."""
    subprocess.run([PYTHON, "-c", _TRAIN_FOREST, str(data), target, str(out), str(n_estimators), str(max_depth), str(random_state)],
                   cwd=str(project), env=clean_env(), check=True, capture_output=True, timeout=300)


def read_json(path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_jsonl(path) -> List[Dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def stream_files(base) -> List[Path]:
    """The files of an audit stream: the base file, then one per UTC day (service/sink.py)."""
    base = Path(base)
    files = sorted(base.parent.glob("%s-*%s" % (base.stem, base.suffix))) if base.parent.is_dir() else []
    return ([base] if base.exists() else []) + files


# ---- the project's own tests ---------------------------------------------------------------

class PytestRun(NamedTuple):
    proc: subprocess.CompletedProcess
    counts: Dict[str, int]  # from the summary line: passed, failed, error(s), skipped, ...

    @property
    def output(self) -> str:
        return "%s\n%s" % (self.proc.stdout[-8000:], self.proc.stderr[-4000:])


def run_project_pytest(project: Path, *args: str, timeout: float = 600) -> PytestRun:
    """`python -m pytest -q` in the project root, as `make test` and its CI do."""
    proc = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + list(args),
                          cwd=str(project), env=clean_env(), capture_output=True, text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else ""
    counts = {kind: int(number) for number, kind in SUMMARY_COUNT.findall(summary)}
    return PytestRun(proc, counts)


# ---- the service over HTTP -----------------------------------------------------------------

class Reply(NamedTuple):
    status: int
    headers: Dict[str, str]  # lower-cased names
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Predicted(NamedTuple):
    """One predicted record, as the response gave it (what its audit line must say)."""

    request_id: str
    endpoint: str
    prediction: Any
    fallback: bool


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """`python -m uvicorn service.app:app` in `project` on a free loopback port, with its state
    (audit log, review queue, kill-switch file) in workdir/state (NB2PROD_STATE_DIR) and its
    output in workdir/uvicorn.log; `env` adds environment variables.

    Every request goes through `request`, which counts them per (endpoint, status) in
    `requests`; `predict` and `predict_batch` also note each record they got a prediction
    for in `predicted`, in order: exactly what the audit log must hold."""

    def __init__(self, project: Path, workdir: Path, **env: Any):
        self.project = Path(project)
        self.state = Path(workdir) / "state"
        self.log_path = Path(workdir) / "uvicorn.log"
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.env = clean_env(NB2PROD_STATE_DIR=self.state, **env)
        self.proc: Optional[subprocess.Popen] = None
        self.requests: collections.Counter = collections.Counter()
        self.predicted: List[Predicted] = []

    # lifecycle

    def start(self) -> "Service":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [PYTHON, "-m", "uvicorn", "service.app:app", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=str(self.project), env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Polls /health until it answers 200; fails with the server's output if it exits or never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("the service exited with %s before answering /health:\n%s"
                                     % (self.proc.returncode, self.output()))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1.0) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                pass
            time.sleep(0.1)
        raise AssertionError("the service did not answer /health within %ss:\n%s" % (timeout, self.output()))

    def wait_exit(self, timeout: float = 60.0) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "Service":
        self.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # HTTP

    def request(self, method: str, path: str, body: Any = None, data: Optional[bytes] = None,
                timeout: float = 30.0, headers: Optional[Dict[str, str]] = None) -> Reply:
        """One request; `body` is sent as JSON, `data` as it is (Content-Type application/json)."""
        if body is not None:
            data = json.dumps(body).encode("utf-8")
        headers = dict(headers or {})
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                reply = Reply(response.status, _lower(response.headers), response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:  # 4xx and 5xx: the reply is still the answer
            with error:
                reply = Reply(error.code, _lower(error.headers), error.read().decode("utf-8"))
        self.requests[(path, reply.status)] += 1
        return reply

    def post_oversized(self, path: str, data: bytes, timeout: float = 30.0) -> Reply:
        """POST a body the service is expected to refuse before reading it all. A server that
        answers early closes the connection while the body is still being sent, so the client
        may get a broken pipe or a reset half-way (urllib then loses the answer): the body is
        sent through http.client, a failed send is ignored, and the answer is read after it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.putrequest("POST", path)
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(data)))
            connection.endheaders()
            try:
                connection.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server stopped reading: its answer is what counts
            response = connection.getresponse()
            reply = Reply(response.status, _lower(response.headers), response.read().decode("utf-8"))
        finally:
            connection.close()
        self.requests[(path, reply.status)] += 1
        return reply

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def predict(self, record: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> Reply:
        reply = self.request("POST", "/predict", record, headers=headers)
        if reply.status == 200:
            body = reply.json()
            self.predicted.append(Predicted(body["request_id"], "/predict", body["prediction"], body["fallback"]))
        return reply

    def predict_batch(self, records: List[Dict[str, Any]]) -> Reply:
        reply = self.request("POST", "/predict/batch", {"records": records})
        if reply.status == 200:
            body = reply.json()
            self.predicted += [Predicted(body["request_id"], "/predict/batch", item["prediction"], item["fallback"])
                               for item in body["predictions"]]
        return reply

    # state

    @property
    def kill_switch_file(self) -> Path:
        return self.state / "KILL_SWITCH"

    @property
    def audit_log(self) -> Path:
        """The base name of the audit log: the service writes predictions-YYYY-MM-DD.jsonl beside it."""
        return self.state / "audit" / "predictions.jsonl"

    @property
    def feedback_log(self) -> Path:
        return self.state / "feedback" / "labels.jsonl"

    def audit_entries(self, stream: str = "predictions", at_least: Optional[int] = None, timeout: float = 10.0) -> List[Dict[str, Any]]:
        """Every entry of the audit log (or the feedback log), once the service wrote at least
        `at_least` of them (default: one per predicted record this client saw). The service
        writes in batches a moment after answering (service/sink.py): this waits for it, then
        for one more flush interval, so a line too many would show too."""
        base = self.audit_log if stream == "predictions" else self.feedback_log
        wanted = len(self.predicted) if at_least is None else at_least
        deadline = time.monotonic() + timeout
        while True:
            entries = [entry for path in stream_files(base) for entry in read_jsonl(path)]
            if len(entries) >= wanted or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        time.sleep(0.3)
        return [entry for path in stream_files(base) for entry in read_jsonl(path)]


def _lower(headers) -> Dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


PROMETHEUS_SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? '
                               r'(-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')
PROMETHEUS_COMMENT = re.compile(r"^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* "
                                r"(counter|gauge|histogram|summary|untyped))$")


def prometheus_samples(text: str) -> Dict[str, float]:
    """The samples of a Prometheus text exposition ('name{labels}' -> value); every line must
    be a sample, a HELP or TYPE comment."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert PROMETHEUS_COMMENT.match(line), "not a HELP/TYPE line: %r" % line
            continue
        assert PROMETHEUS_SAMPLE.match(line), "not a Prometheus sample: %r" % line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples
