"""Where the audit log and the feedback go, written in batches by a thread of their own.

A request only appends its entries to an in-memory queue (microseconds); the writer thread
turns them into JSON and writes them every ``audit.flush_interval_ms`` or ``audit.batch_size``
entries, whichever comes first, to one of two stores:

- **JSON Lines files** (default): ``var/audit/predictions-YYYY-MM-DD.jsonl`` and
  ``var/feedback/labels-YYYY-MM-DD.jsonl``, one file per UTC day of the entry's time
  (``audit.rotate = "none"`` keeps one file), each batch one ``os.write`` on a descriptor opened
  with O_APPEND, so several processes append to the same files without interleaving lines.
  Files older than ``audit.retention_days`` (0: never) are deleted once a day.
- **PostgreSQL** when ``AUDIT_DSN=postgresql://...`` is set: the tables ``nb2prod_audit`` and
  ``nb2prod_audit_feedback`` (``audit.table``), created at start if missing, append-only (a
  trigger refuses UPDATE and DELETE), one INSERT per batch; several replicas write to them.
  The driver is psycopg 3, else psycopg2, whichever is installed.

Guarantees:

- SIGTERM (uvicorn's graceful stop) writes what is queued before the process exits.
- After ``kill -9`` at most the entries not yet written are lost, and the next start says how
  many: each process counts what it accepted and what it wrote in a small memory-mapped ledger
  file (``var/audit/.ledger/``, locked while the process lives); a start that finds the ledger of
  a dead process logs the difference and writes a ``{"type": "gap"}`` line into the audit log.
- A store that fails (a database that is unreachable, a full disk) does not stop the service:
  entries are kept in memory, up to ``audit.buffer_max``, and retried with backoff; beyond that
  bound new entries are dropped and counted. /ready and /metrics say so.
"""
import datetime
import json
import logging
import os
import re
import socket
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple

from service.jsonsafe import to_jsonable
from service.settings import AuditSettings, ConfigError

try:  # POSIX: the crash ledger needs flock and mmap
    import fcntl
    import mmap
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    mmap = None  # type: ignore[assignment]

log = logging.getLogger("nb2prod.service")

PREDICTIONS = "predictions"
FEEDBACK = "feedback"
STREAMS = (PREDICTIONS, FEEDBACK)
MAX_BACKOFF_S = 5.0
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


class SinkError(RuntimeError):
    """A batch could not be written; the writer keeps it and retries."""


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- stores ----------------------------------------------------------------------------------


class JsonlStore:
    """Append-only JSON Lines files, one per stream and (by default) per UTC day."""

    kind = "jsonl"

    def __init__(self, paths: Dict[str, Path], rotate: str = "daily", retention_days: int = 0):
        self.paths = {stream: Path(path) for stream, path in paths.items()}
        self.rotate = rotate
        self.retention_days = retention_days
        self._pruned_on: Optional[datetime.date] = None

    def describe(self) -> str:
        return "JSON Lines files (%s)" % ", ".join(str(path.parent) for path in self.paths.values())

    def path_for(self, stream: str, day: datetime.date) -> Path:
        base = self.paths[stream]
        if self.rotate != "daily":
            return base
        return base.with_name("%s-%s%s" % (base.stem, day.isoformat(), base.suffix))

    def write(self, stream: str, rows: Sequence[Tuple[str, Optional[str], str]]) -> None:
        """rows: (time ISO, request id, JSON text) in order."""
        by_path: Dict[Path, List[bytes]] = {}
        for moment, _request_id, text in rows:
            by_path.setdefault(self.path_for(stream, _day_of(moment)), []).append((text + "\n").encode("utf-8"))
        try:
            for path, lines in by_path.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(str(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    _write_all(fd, b"".join(lines))
                finally:
                    os.close(fd)
        except OSError as error:
            raise SinkError("%s: %s" % (type(error).__name__, error)) from error
        self._prune()

    def _prune(self) -> None:
        today = utc_now().date()
        if not self.retention_days or self.rotate != "daily" or self._pruned_on == today:
            return
        self._pruned_on = today
        oldest = today - datetime.timedelta(days=self.retention_days)
        for base in self.paths.values():
            pattern = re.compile(r"^%s-(\d{4}-\d{2}-\d{2})%s$" % (re.escape(base.stem), re.escape(base.suffix)))
            if not base.parent.is_dir():
                continue
            for path in base.parent.iterdir():
                match = pattern.match(path.name)
                if match and datetime.date.fromisoformat(match.group(1)) < oldest:
                    try:
                        path.unlink()
                        log.info("audit retention: deleted %s (older than %d days)", path, self.retention_days)
                    except OSError as error:
                        log.warning("audit retention: could not delete %s: %s", path, error)

    def close(self) -> None:
        pass


def _day_of(moment: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(moment[:10])
    except ValueError:
        return utc_now().date()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class PostgresStore:
    """Append-only tables in PostgreSQL: (id, written_at, time, request_id, entry jsonb)."""

    kind = "postgresql"

    def __init__(self, dsn: str, table: str):
        if not TABLE_NAME.match(table):
            raise ConfigError("audit.table %r must be a lower-case SQL name (letters, digits, _)" % table)
        self.dsn = dsn
        self.tables = {PREDICTIONS: table, FEEDBACK: table + "_feedback"}
        self.driver, self.driver_name = _postgres_driver()
        self._connection: Any = None

    def describe(self) -> str:
        return "PostgreSQL %s (tables %s, %s; driver %s)" % (
            redact_dsn(self.dsn), self.tables[PREDICTIONS], self.tables[FEEDBACK], self.driver_name)

    def _connect(self) -> Any:
        if self._connection is not None:
            return self._connection
        try:
            connection = self.driver.connect(self.dsn, connect_timeout=3)
        except Exception as error:
            raise SinkError("cannot connect to %s: %s" % (redact_dsn(self.dsn), _one_line(error))) from error
        try:
            with connection.cursor() as cursor:
                # several replicas may start at once: one creates, the others wait and find it
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("nb2prod:" + self.tables[PREDICTIONS],))
                for table in self.tables.values():
                    cursor.execute(_create_table_sql(table))
            connection.commit()
        except Exception as error:
            _close_quietly(connection)
            raise SinkError("cannot create the audit tables in %s: %s" % (redact_dsn(self.dsn), _one_line(error))) from error
        self._connection = connection
        return connection

    def write(self, stream: str, rows: Sequence[Tuple[str, Optional[str], str]]) -> None:
        connection = self._connect()
        table = self.tables[stream]
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO %s (time, request_id, entry) "
                    "SELECT t::timestamptz, r, e::jsonb FROM unnest(%%s::text[], %%s::text[], %%s::text[]) AS u(t, r, e)" % table,
                    ([row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]),
                )
            connection.commit()
        except Exception as error:
            self._connection = None
            _close_quietly(connection)
            raise SinkError("writing to %s.%s failed: %s" % (redact_dsn(self.dsn), table, _one_line(error))) from error

    def ensure_ready(self) -> None:
        """Connect and create the tables now (at start): a wrong DSN shows in the log at once."""
        self._connect()

    def close(self) -> None:
        if self._connection is not None:
            _close_quietly(self._connection)
            self._connection = None


def _create_table_sql(table: str) -> str:
    return """
CREATE TABLE IF NOT EXISTS {t} (
    id bigserial PRIMARY KEY,
    written_at timestamptz NOT NULL DEFAULT now(),
    time timestamptz,
    request_id text,
    entry jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS {t}_time_idx ON {t} (time);
CREATE INDEX IF NOT EXISTS {t}_request_idx ON {t} (request_id);
CREATE OR REPLACE FUNCTION {t}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{t} is append-only: rows are never updated or deleted';
END $$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{t}_append_only' AND tgrelid = '{t}'::regclass) THEN
        CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {t}
            FOR EACH STATEMENT EXECUTE FUNCTION {t}_append_only();
    END IF;
END $$;
""".format(t=table)


def _postgres_driver() -> Tuple[Any, str]:
    try:
        import psycopg  # type: ignore[import-not-found]

        return psycopg, "psycopg %s" % psycopg.__version__
    except ImportError:
        pass
    try:
        import psycopg2  # type: ignore[import-not-found]

        return psycopg2, "psycopg2 %s" % psycopg2.__version__.split(" ")[0]
    except ImportError:
        raise ConfigError(
            "AUDIT_DSN is set, but no PostgreSQL driver is installed: pip install \"psycopg[binary]\" "
            "(or, on Debian, apt-get install python3-psycopg2), or unset AUDIT_DSN to write JSON Lines files."
        ) from None


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for logs and /ready."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", re.sub(r"(password=)\S+", r"\1***", dsn))


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return "%s: %s" % (type(error).__name__, text[0] if text else "")


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:
        pass


# ---- the crash ledger ------------------------------------------------------------------------


class Ledger:
    """Per process: entries accepted and entries written, per stream, in a memory-mapped file.

    The request path adds to `accepted` (a store into shared memory, no system call); the writer
    adds to `written`. The kernel keeps the page when the process is killed, so the next start
    reads what was lost. The file is locked (flock) while its process lives: a file that can be
    locked belongs to a process that is gone."""

    MAGIC = b"nb2prodL"
    SIZE = 8 + 8 * 2 * len(STREAMS)

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / ("%s-%d-%d.ledger" % (_safe_host(), os.getpid(), time.time_ns()))
        self._fd = os.open(str(self.path), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o640)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(self._fd, self.MAGIC + bytes(self.SIZE - 8))
        self._map = mmap.mmap(self._fd, self.SIZE)
        self._counts = memoryview(self._map)[8:].cast("Q")

    def accepted(self, stream: str, count: int) -> None:
        self._counts[2 * STREAMS.index(stream)] += count

    def written(self, stream: str, count: int) -> None:
        self._counts[2 * STREAMS.index(stream) + 1] += count

    def pending(self) -> Dict[str, int]:
        return {s: self._counts[2 * i] - self._counts[2 * i + 1] for i, s in enumerate(STREAMS)}

    def close(self) -> None:
        """At a clean stop: removed when everything was written, else left for the next start."""
        complete = not any(self.pending().values())
        self._counts.release()
        self._map.close()
        if complete:
            try:
                self.path.unlink()
            except OSError:
                pass
        os.close(self._fd)

    @classmethod
    def recover(cls, directory: Path) -> List[Dict[str, Any]]:
        """The ledgers of processes that are gone: what each lost (removed once read)."""
        found: List[Dict[str, Any]] = []
        directory = Path(directory)
        if not directory.is_dir():
            return found
        for path in sorted(directory.glob("*.ledger")):
            try:
                fd = os.open(str(path), os.O_RDWR)
            except OSError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a live process holds it
                data = os.read(fd, cls.SIZE)
                if len(data) == cls.SIZE and data[:8] == cls.MAGIC:
                    counts = memoryview(data)[8:].cast("Q").tolist()
                    lost = {s: max(counts[2 * i] - counts[2 * i + 1], 0) for i, s in enumerate(STREAMS)}
                    host, pid = _owner_of(path.name)
                    found.append({"host": host, "pid": pid, "lost": lost, "ledger": path.name})
                path.unlink()
            finally:
                os.close(fd)
        return found


def _safe_host() -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname())[:64] or "host"


def _owner_of(name: str) -> Tuple[str, Optional[int]]:
    parts = name[: -len(".ledger")].rsplit("-", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1])
    return name, None


# ---- the writer ------------------------------------------------------------------------------


class AuditSink:
    """The queue the requests put entries on, and the thread that writes them in batches."""

    def __init__(self, store: Any, settings: AuditSettings, ledger_dir: Optional[Path] = None):
        self.store = store
        self.batch_size = settings.batch_size
        self.flush_interval = settings.flush_interval_ms / 1000.0
        self.buffer_max = settings.buffer_max
        self._queue: Deque[Tuple[str, Dict[str, Any]]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._stopping = False
        self._flush_requested = False
        self._oldest = time.monotonic()
        self._writing = 0
        self.written = {stream: 0 for stream in STREAMS}
        self.dropped = {stream: 0 for stream in STREAMS}
        self.failures = 0
        self.last_error: Optional[str] = None
        self.failing_since: Optional[float] = None
        self.lost_before_start: List[Dict[str, Any]] = []
        self.ledger: Optional[Ledger] = None
        if ledger_dir is not None and fcntl is not None:
            self.lost_before_start = Ledger.recover(ledger_dir)
            self.ledger = Ledger(ledger_dir)
        for record in self.lost_before_start:
            if any(record["lost"].values()):
                log.warning(
                    "audit: the previous process %s (pid %s) stopped without writing %d audit entries and %d feedback "
                    "entries (killed, or its sink unreachable at the end): they are lost",
                    record["host"], record["pid"], record["lost"][PREDICTIONS], record["lost"][FEEDBACK])
        self._thread = threading.Thread(target=self._run, name="nb2prod-audit-sink", daemon=True)
        self._thread.start()
        for record in self.lost_before_start:
            if any(record["lost"].values()):
                self.submit(PREDICTIONS, [{
                    "type": "gap",
                    "time": iso(utc_now()),
                    "lost": record["lost"],
                    "process": {"host": record["host"], "pid": record["pid"]},
                    "note": "entries accepted by a process that stopped before writing them (kill -9, or its sink unreachable)",
                }])

    # request path

    def submit(self, stream: str, entries: List[Dict[str, Any]]) -> int:
        """Queue entries for writing; returns how many were dropped because the buffer is full."""
        if not entries:
            return 0
        with self._lock:
            room = max(self.buffer_max - len(self._queue), 0)
            kept = entries if len(entries) <= room else entries[:room]
            dropped = len(entries) - len(kept)
            if kept:
                if not self._queue:
                    self._oldest = time.monotonic()
                self._queue.extend((stream, entry) for entry in kept)
                if self.ledger is not None:
                    self.ledger.accepted(stream, len(kept))
            if dropped:
                if not any(self.dropped.values()):
                    log.error("audit: the buffer is full (%d entries, audit.buffer_max): new entries are dropped until "
                              "the sink (%s) takes them again", self.buffer_max, self.store.describe())
                self.dropped[stream] += dropped
            if len(self._queue) >= self.batch_size and self.failing_since is None:
                self._wake.notify()
        return dropped

    # writer thread

    def _run(self) -> None:
        backoff = self.flush_interval
        while True:
            with self._lock:
                # wait for a full batch, for the oldest entry to have waited flush_interval, for a
                # flush or the stop; while the store fails, for the backoff
                while not (self._stopping or self._flush_requested):
                    if self.failing_since is not None:
                        self._wake.wait(backoff)
                        break
                    if len(self._queue) >= self.batch_size:
                        break
                    if self._queue:
                        remaining = self._oldest + self.flush_interval - time.monotonic()
                        if remaining <= 0:
                            break
                        self._wake.wait(remaining)
                    else:
                        self._wake.wait(self.flush_interval)
                if not self._queue:
                    self._flush_requested = False
                    self._idle.notify_all()
                    if self._stopping:
                        return
                    continue
                batch = [self._queue[i] for i in range(min(self.batch_size, len(self._queue)))]
                self._writing = len(batch)
            try:
                self._write(batch)
            except SinkError as error:
                with self._lock:
                    self._writing = 0
                    self.failures += 1
                    if self.failing_since is None:
                        self.failing_since = time.monotonic()
                        log.error("audit: %s; keeping up to %d entries in memory and retrying", error, self.buffer_max)
                    self.last_error = str(error)
                    stopping = self._stopping
                backoff = min(max(backoff * 2, self.flush_interval), MAX_BACKOFF_S)
                if stopping:
                    return
                continue
            with self._lock:
                for _ in batch:
                    self._queue.popleft()
                self._writing = 0
                self._oldest = time.monotonic()
                if self.failing_since is not None:
                    log.warning("audit: the sink (%s) takes entries again after %.1f s",
                                self.store.describe(), time.monotonic() - self.failing_since)
                self.failing_since = None
                self.last_error = None
                if not self._queue:
                    self._flush_requested = False
                    self._idle.notify_all()
            backoff = self.flush_interval

    def _write(self, batch: List[Tuple[str, Dict[str, Any]]]) -> None:
        by_stream: Dict[str, List[Tuple[str, Optional[str], str]]] = {}
        for stream, entry in batch:
            text = json.dumps(to_jsonable(entry), ensure_ascii=False, separators=(",", ":"))
            by_stream.setdefault(stream, []).append((str(entry.get("time") or iso(utc_now())), entry.get("request_id"), text))
        for stream, rows in by_stream.items():
            self.store.write(stream, rows)
            self.written[stream] += len(rows)
            if self.ledger is not None:
                self.ledger.written(stream, len(rows))

    # control

    def flush(self, timeout: float = 10.0) -> bool:
        """Write everything queued now; True when the queue is empty (False: the sink fails)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._flush_requested = True
                if self.failing_since is None:  # a failing sink retries at its own pace (backoff)
                    self._wake.notify()
                self._idle.wait(min(remaining, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (SIGTERM, the end of the lifespan), then stop the thread."""
        flushed = self.flush(timeout)
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        self._thread.join(timeout)
        if not flushed:
            pending = len(self._queue)
            log.error("audit: stopping with %d entries not written (%s): they are lost", pending, self.last_error)
        self.store.close()
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None

    def status(self) -> Dict[str, Any]:
        with self._lock:
            buffered = len(self._queue)
            failing = self.failing_since is not None
            return {
                "sink": self.store.kind,
                "where": self.store.describe(),
                "status": ("dropping" if buffered >= self.buffer_max else "failing") if failing else "ok",
                "buffered": buffered,
                "buffer_max": self.buffer_max,
                "written": dict(self.written),
                "dropped": dict(self.dropped),
                "failures": self.failures,
                "last_error": self.last_error,
                "lost_before_start": sum(sum(r["lost"].values()) for r in self.lost_before_start),
            }


def open_sink(settings: Any) -> AuditSink:
    """The sink the settings ask for: PostgreSQL with AUDIT_DSN, else JSON Lines files."""
    audit: AuditSettings = settings.audit
    if settings.audit_dsn:
        store: Any = PostgresStore(settings.audit_dsn, audit.table)
        try:
            store.ensure_ready()
        except SinkError as error:
            log.error("audit: %s; the service starts and keeps entries in memory until it can write them", error)
    else:
        store = JsonlStore({PREDICTIONS: settings.audit_log, FEEDBACK: settings.feedback_log}, audit.rotate, audit.retention_days)
    log.info("audit: writing to %s", store.describe())
    return AuditSink(store, audit, Path(settings.audit_log).parent / ".ledger")
