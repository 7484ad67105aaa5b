"""The generated service's audit sink under uvicorn, as it runs in production: SIGTERM writes what
is queued; after kill -9 only the entries not yet written are lost and the restart says how many;
with AUDIT_DSN the audit log and the feedback go to a real PostgreSQL server (two replicas
writing at once, append-only tables the service creates); a database that is not there does not
stop the answers, /ready and /metrics say so, and the buffer is written once it is back.

The server is the throwaway cluster of scripts/provision-postgres.sh (npm test and
npm run test:python start it); without it these tests fail saying so, they never skip.

Run: npm run build, then PYTHON -m pytest test/python/scaffold/test_audit_sink.py -q
"""
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from fixture import REPO, build_churn_project
from generated import Service, run_cli, prometheus_samples, read_json

PROVISION = REPO / "scripts" / "provision-postgres.sh"



def nb2prod(*args, cwd):
    return run_cli(*args, cwd=cwd, check=False)


@pytest.fixture
def project(tmp_path):
    """A fresh copy of the generated churn project (free to change)."""
    return build_churn_project(tmp_path / "workspace")


def set_audit(project: Path, **audit) -> None:
    path = project / "service" / "config.json"
    config = read_json(path)
    config["audit"] = dict(config.get("audit") or {}, **audit)
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def records(project: Path):
    return [row["input"] for row in read_json(project / "tests" / "golden" / "sample.json")["rows"]]


def test_sigterm_writes_what_is_still_queued(project, tmp_path):
    set_audit(project, flush_interval_ms=600000, batch_size=100000)
    rows = records(project)
    with Service(project, tmp_path) as service:
        for record in rows:
            assert service.predict(record).status == 200
        time.sleep(0.3)
        assert service.audit_entries(at_least=0, timeout=0) == [], "nothing is written before the interval"
        service.proc.send_signal(signal.SIGTERM)
        # uvicorn 0.29+ re-raises the signal once it has shut down gracefully
        assert service.wait_exit(30) in (0, -signal.SIGTERM), service.output()
        assert "Application shutdown complete" in service.output()
    entries = service.audit_entries()
    assert [entry["request_id"] for entry in entries] == [p.request_id for p in service.predicted]


def test_after_kill_9_only_the_unwritten_batch_is_lost_and_the_restart_says_how_many(project, tmp_path):
    set_audit(project, flush_interval_ms=600000, batch_size=10)
    rows = records(project)
    first = Service(project, tmp_path / "first")
    first.state = tmp_path / "state"
    first.env["NB2PROD_STATE_DIR"] = str(first.state)
    with first:
        for record in (rows * 2)[:23]:
            assert first.predict(record).status == 200
        written = first.audit_entries(at_least=20)
        assert len(written) == 20, "two full batches of 10 are written at once"
        first.proc.send_signal(signal.SIGKILL)
        first.wait_exit(30)

    set_audit(project, flush_interval_ms=50, batch_size=500)
    second = Service(project, tmp_path / "second")
    second.state = first.state
    second.env["NB2PROD_STATE_DIR"] = str(first.state)
    with second:
        audit = second.get("/ready").json()["audit"]
        assert audit["lost_before_start"] == 3, audit
        assert prometheus_samples(second.get("/metrics").text)["nb2prod_audit_lost_before_start"] == 3
        entries = second.audit_entries(at_least=21)
    assert "without writing 3 audit entries" in second.output()
    assert [entry["request_id"] for entry in entries[:20]] == [p.request_id for p in first.predicted[:20]]
    gap = entries[20]
    assert gap["type"] == "gap" and gap["lost"] == {"predictions": 3, "feedback": 0}
    assert gap["process"]["pid"] == first.proc.pid


# ---- PostgreSQL ------------------------------------------------------------------------------


def driver():
    try:
        import psycopg  # type: ignore[import-not-found]

        return psycopg
    except ImportError:
        pass
    try:
        import psycopg2  # type: ignore[import-not-found]

        return psycopg2
    except ImportError:
        pytest.fail("this interpreter has no PostgreSQL driver: Debian's needs python3-psycopg2 "
                    "(bash scripts/provision-postgres.sh), the venv psycopg (bash scripts/provision-python.sh)")


@pytest.fixture(scope="module")
def server_dsn():
    dsn = os.environ.get("NB2PROD_TEST_POSTGRES") or subprocess.run(
        ["bash", str(PROVISION), "--print"], capture_output=True, text=True, check=True).stdout.strip()
    try:
        connection = driver().connect(dsn, connect_timeout=3)
    except Exception as error:
        pytest.fail("no PostgreSQL server at %s (%s): run bash scripts/provision-postgres.sh "
                    "(npm test and npm run test:python do)" % (dsn, error))
    connection.close()
    return dsn


class Database:
    """A database of its own on the test server, dropped at the end."""

    def __init__(self, server_dsn: str):
        self.server_dsn = server_dsn
        self.name = "audit_%s" % uuid.uuid4().hex[:12]
        self.dsn = server_dsn.rsplit("/", 1)[0] + "/" + self.name

    def admin(self, sql: str) -> None:
        connection = driver().connect(self.server_dsn, connect_timeout=3)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def create(self) -> "Database":
        self.admin("CREATE DATABASE %s" % self.name)
        return self

    def query(self, sql: str, *params):
        connection = driver().connect(self.dsn, connect_timeout=3)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params or None)
                rows = cursor.fetchall() if cursor.description else []
            connection.commit()
            return rows
        finally:
            connection.close()

    def drop(self) -> None:
        self.admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)


@pytest.fixture
def database(server_dsn):
    db = Database(server_dsn)
    yield db
    db.drop()


def entries_of(database: Database, table: str):
    rows = database.query("SELECT entry FROM %s ORDER BY id" % table)
    return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


def wait_rows(database: Database, table: str, count: int, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            rows = entries_of(database, table)
        except Exception:  # the service has not created the table yet
            if time.monotonic() > deadline:
                raise
            rows = []
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_two_replicas_write_to_postgresql_tables_the_service_creates(project, tmp_path, database):
    database.create()
    set_audit(project, flush_interval_ms=50)
    rows = records(project)
    with Service(project, tmp_path / "a", AUDIT_DSN=database.dsn) as a, Service(project, tmp_path / "b", AUDIT_DSN=database.dsn) as b:
        for index, record in enumerate(rows):
            assert (a if index % 2 else b).predict(record).status == 200
        assert b.predict_batch(rows[:3]).status == 200
        body = a.predict(rows[4]).json()
        reply = b.request("POST", "/feedback", {"request_id": body["request_id"], "label": body["prediction"]})
        assert reply.status == 202, reply.text
        ready = a.get("/ready").json()["audit"]
        assert ready["sink"] == "postgresql" and ready["status"] == "ok", ready
        assert "***" not in ready["where"] and "nb2prod_audit" in ready["where"]
        predicted = a.predicted + b.predicted
        audit = wait_rows(database, "nb2prod_audit", len(predicted))
        feedback = wait_rows(database, "nb2prod_audit_feedback", 1)
    assert len(audit) == len(predicted)
    assert {e["request_id"] for e in audit} == {p.request_id for p in predicted}
    assert all(e["type"] == "prediction" and e["input"] for e in audit)
    assert [(f["request_id"], f["label"]) for f in feedback] == [(body["request_id"], body["prediction"])]
    assert not list((a.state / "audit").glob("predictions*.jsonl")), "with AUDIT_DSN nothing goes to files"
    with pytest.raises(Exception, match="append-only"):
        database.query("UPDATE nb2prod_audit SET request_id = 'forged'")
    with pytest.raises(Exception, match="append-only"):
        database.query("DELETE FROM nb2prod_audit")

    # nb2prod monitor reads the tables back (and writes labels to them)
    labels = tmp_path / "labels.csv"
    labels.write_text("request_id,label\n%s,%s\nnot-a-request,1\n" % (predicted[0].request_id, json.dumps(predicted[0].prediction)))
    imported = nb2prod("monitor", "labels", database.dsn, labels, "--service", project, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "2 labels appended" in imported.stdout and "nb2prod_audit_feedback" in imported.stdout, imported.stdout
    report = nb2prod("monitor", project, "--dsn", database.dsn, "--format", "json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    result = json.loads(report.stdout)
    assert result["read"]["lines"] == len(predicted) and result["read"]["files"] == 0
    assert sum(w["volume"] for w in result["windows"]) == len(predicted)
    assert result["labels"]["entries"] == 3 and result["labels"]["unknown"] == 1
    assert result["labels"]["predictionsLabelled"] == 2
    assert database.name in result["source"]


def test_a_database_that_is_not_there_does_not_stop_the_answers(project, tmp_path, database):
    set_audit(project, flush_interval_ms=50, buffer_max=1000)
    rows = records(project)
    with Service(project, tmp_path, AUDIT_DSN=database.dsn) as service:  # the database does not exist yet
        for record in rows[:5]:
            assert service.predict(record).status == 200
        time.sleep(0.5)
        audit = service.get("/ready").json()["audit"]
        assert audit["status"] == "failing" and audit["buffered"] == 5, audit
        assert database.name in audit["last_error"]
        assert prometheus_samples(service.get("/metrics").text)['nb2prod_audit_sink_up{sink="postgresql"}'] == 0

        database.create()
        entries = wait_rows(database, "nb2prod_audit", 5, timeout=20)
        assert [e["request_id"] for e in entries] == [p.request_id for p in service.predicted]
        deadline = time.monotonic() + 10
        while service.get("/ready").json()["audit"]["status"] != "ok" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service.get("/ready").json()["audit"]["status"] == "ok"
    assert "keeping up to 1000 entries in memory" in service.output()
