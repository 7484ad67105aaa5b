"""What the audit sink adds to a request: the generated service's POST /predict median with the
sink on (as it ships: each record queued for the writer thread, written in batches to
var/audit/) beside the same service with the sink's submit() replaced by a no-op (nothing
queued, nothing written), both under uvicorn on loopback, requests interleaved one by one so that
machine load hits both alike.

    PYTHON bench/audit_sink_latency.py PROJECT_DIR [--requests N] [--warmup N]

Prints {"on": {...}, "off": {...}, "addedMs": {"median": ..., "p95": ...}, "written": N}.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_latency import BenchFailure, Client, free_port, golden_records, summary  # noqa: E402

SINK_OFF = (
    "import sys, uvicorn, service.sink as sink\n"
    "sink.AuditSink.submit = lambda self, stream, entries: 0\n"
    "uvicorn.run('service.app:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')\n"
)
SINK_ON = "import sys, uvicorn\nuvicorn.run('service.app:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')\n"


def start(root, state, code):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NB2PROD_") and k != "AUDIT_DSN"}
    env["NB2PROD_STATE_DIR"] = str(state)
    port = free_port()
    log = open(state.parent / (state.name + ".log"), "wb")
    process = subprocess.Popen([sys.executable, "-c", code, str(port)], cwd=str(root), env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _healthy(port):
            return process, port
        time.sleep(0.1)
    process.kill()
    raise BenchFailure("a service did not start: %s" % (state.parent / (state.name + ".log")).read_text())


def _healthy(port):
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/health")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("project")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    root = Path(args.project).resolve()
    records = golden_records(root)
    bodies = [json.dumps(r).encode("utf-8") for r in records]
    work = Path(tempfile.mkdtemp(prefix="nb2prod-bench-sink-"))
    servers = []
    try:
        servers.append(start(root, work / "on", SINK_ON))
        servers.append(start(root, work / "off", SINK_OFF))
        clients = [Client(port) for _process, port in servers]
        timings = ([], [])
        for i in range(args.warmup + args.requests):
            body = bodies[i % len(bodies)]
            order = (0, 1) if i % 2 else (1, 0)
            for side in order:
                status, _data, seconds = clients[side].predict(body)
                if status != 200:
                    raise BenchFailure("status %s" % status)
                if i >= args.warmup:
                    timings[side].append(seconds * 1000.0)
        for client in clients:
            client.close()
    finally:
        for process, _port in servers:
            process.terminate()
            process.wait(timeout=30)
    written = sum(len(f.read_text().splitlines()) for f in (work / "on" / "audit").glob("predictions-*.jsonl"))
    not_written = list((work / "off" / "audit").glob("predictions-*.jsonl"))
    shutil.rmtree(work, ignore_errors=True)
    on, off = summary(timings[0]), summary(timings[1])
    if written != args.warmup + args.requests or not_written:
        raise SystemExit("audit sink bench: the sink-on service wrote %d lines for %d requests, the sink-off one %d files"
                         % (written, args.warmup + args.requests, len(not_written)))
    print(json.dumps({"on": on, "off": off, "addedMs": {"median": on["median"] - off["median"], "p95": on["p95"] - off["p95"]}, "written": written}))


if __name__ == "__main__":
    main()
