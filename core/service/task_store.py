"""Where the service keeps its tasks and results: SQLite (WAL) plus audio files under the data
folder, so a restart (even after kill -9) loses nothing that was finished.

A task row holds the task as sent and the validated parameters with the seed chosen on arrival,
so a task interrupted by a crash runs again with the same seeds and gives the same audio.
A result row appears only once its file is completely on disk (written atomically, then the
row), so nothing half-written is ever served.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.audio.atomic_write import write_atomically
from core.service.api_errors import ApiError

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_uuid TEXT PRIMARY KEY,
    body TEXT NOT NULL,          -- the task as sent, canonical JSON
    params TEXT NOT NULL,        -- generation parameters with the concrete seed
    number_results INTEGER NOT NULL,
    voices TEXT NOT NULL,        -- JSON list of the mediaUUIDs of its voices, [S1] first
    base_url TEXT NOT NULL,      -- the server as the submitting client saw it (for result URLs)
    status TEXT NOT NULL,        -- queued, running, done, failed
    error TEXT,                  -- JSON error item when failed
    created REAL NOT NULL,
    sequence INTEGER NOT NULL,   -- arrival order
    audio_uuids TEXT             -- JSON list: each result's audioUUID, given on arrival (older rows: NULL)
);
CREATE TABLE IF NOT EXISTS results (
    task_uuid TEXT NOT NULL REFERENCES tasks(task_uuid),
    result_index INTEGER NOT NULL,
    audio_uuid TEXT NOT NULL UNIQUE,
    seed INTEGER NOT NULL,
    file TEXT NOT NULL,          -- name inside the media folder (never from a request)
    duration_s REAL NOT NULL,
    compute_s REAL NOT NULL,
    finished REAL NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (task_uuid, result_index)
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    audio_uuid TEXT NOT NULL,
    kind TEXT NOT NULL,          -- webhook (POST of the result item) or upload (PUT of the file)
    url TEXT NOT NULL,
    status TEXT NOT NULL,        -- pending, done, failed
    attempts INTEGER NOT NULL,
    first_attempt REAL,
    next_attempt REAL NOT NULL,
    last_error TEXT,
    UNIQUE (audio_uuid, kind)
);
CREATE TABLE IF NOT EXISTS delivery_attempts (
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    at REAL NOT NULL,
    outcome TEXT NOT NULL        -- "HTTP 204", or why it failed
);
CREATE TABLE IF NOT EXISTS media (
    media_uuid TEXT PRIMARY KEY,
    file TEXT NOT NULL,          -- name inside the stored folder
    sha256 TEXT NOT NULL UNIQUE, -- the same audio twice is one entry (and one transcription)
    words TEXT,                  -- JSON [[word, start_s, end_s], ...] once transcribed
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS engine_voices (
    sha256 TEXT NOT NULL,        -- of the voice's float32 samples, as a studio sent them
    model TEXT NOT NULL,         -- the model whose codec encoded them
    codebooks INTEGER NOT NULL,
    frames INTEGER NOT NULL,
    codes BLOB NOT NULL,         -- int32 Mimi codes, [codebooks, frames] in row order
    used INTEGER NOT NULL,       -- when last used, counted in uses: the least recent go first
    PRIMARY KEY (sha256, model)
);
"""

ENGINE_VOICES_KEPT = 512  # encoded voices of remote studios (about 16 KB each)


@dataclass(frozen=True)
class StoredResult:
    task_uuid: str
    result_index: int
    audio_uuid: str
    seed: int
    file: str
    duration_s: float
    compute_s: float
    expires: float


@dataclass(frozen=True)
class StoredTask:
    task_uuid: str
    body: dict[str, Any]
    params: dict[str, Any]
    number_results: int
    status: str
    error: dict[str, Any] | None
    voices: list[str]
    base_url: str
    audio_uuids: list[str] | None = None  # by result index; None for a task stored by an older serve


@dataclass(frozen=True)
class Delivery:
    id: int
    audio_uuid: str
    kind: str
    url: str
    status: str
    attempts: int
    first_attempt: float | None
    last_error: str | None


@dataclass(frozen=True)
class StoredMedia:
    media_uuid: str
    file: str
    words: list[list] | None


class TaskStore:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.media_dir = self.data_dir / "media"  # results
        self.stored_dir = self.data_dir / "stored"  # mediaStorage uploads and voices
        for folder in (self.media_dir, self.stored_dir):
            folder.mkdir(parents=True, exist_ok=True)
            for torn in folder.glob(".*.part"):  # a write cut short by a crash: never served
                torn.unlink(missing_ok=True)
        self._lock = threading.Lock()  # one connection, shared by the HTTP loop and the runner
        self._db = sqlite3.connect(self.data_dir / "tasks.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a finished result survives a power cut too
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(tasks)")}
        if "audio_uuids" not in columns:  # a data folder of an older serve
            self._db.execute("ALTER TABLE tasks ADD COLUMN audio_uuids TEXT")

    # ---- tasks --------------------------------------------------------------------------------
    def submit(self, task_uuid: str, body: dict[str, Any], params: dict[str, Any], number_results: int,
               queue_limit: int, voices: list[str] = (), base_url: str = "") -> bool:
        """Queue a task; False when that taskUUID was queued before with the same body (a
        client's retry: nothing runs twice). A different body under a known taskUUID is a
        conflict; a full queue is refused."""
        canonical = _canonical(body)
        with self._lock:
            row = self._db.execute("SELECT body FROM tasks WHERE task_uuid = ?", (task_uuid,)).fetchone()
            if row is not None:
                if row[0] != canonical:
                    raise ApiError("conflictTaskUUID", f"The taskUUID {task_uuid} was used before for a "
                                   "different task; give each task a new UUID.", parameter="taskUUID",
                                   http_status=409)
                return False
            queued = self._db.execute("SELECT COUNT(*) FROM tasks WHERE status IN ('queued', 'running')").fetchone()[0]
            if queued >= queue_limit:
                raise ApiError("queueCapacityExceeded", f"The server's queue is full ({queue_limit} tasks "
                               "waiting); try again shortly.", http_status=429)
            sequence = self._db.execute("SELECT COALESCE(MAX(sequence), 0) + 1 FROM tasks").fetchone()[0]
            # Each result's audioUUID is known from the start, so a result still being made is
            # named in getResponse as it will be when done (the older runware SDK counts on it).
            audio_uuids = [str(uuid.uuid4()) for _ in range(number_results)]
            self._db.execute("INSERT INTO tasks (task_uuid, body, params, number_results, voices, base_url, status, "
                             "error, created, sequence, audio_uuids) VALUES (?, ?, ?, ?, ?, ?, 'queued', NULL, ?, ?, ?)",
                             (task_uuid, canonical, json.dumps(params), number_results, json.dumps(list(voices)),
                              base_url, time.time(), sequence, json.dumps(audio_uuids)))
            return True

    def task(self, task_uuid: str) -> StoredTask | None:
        with self._lock:
            row = self._db.execute("SELECT task_uuid, body, params, number_results, status, error, voices, "
                                   "base_url, audio_uuids FROM tasks WHERE task_uuid = ?", (task_uuid,)).fetchone()
        if row is None:
            return None
        return StoredTask(row[0], json.loads(row[1]), json.loads(row[2]), row[3], row[4],
                          json.loads(row[5]) if row[5] else None, json.loads(row[6]), row[7],
                          json.loads(row[8]) if row[8] else None)

    def next_queued(self) -> StoredTask | None:
        with self._lock:
            row = self._db.execute("SELECT task_uuid FROM tasks WHERE status = 'queued' ORDER BY sequence "
                                   "LIMIT 1").fetchone()
        return self.task(row[0]) if row else None

    def claim_next_queued(self) -> StoredTask | None:
        """The oldest queued task, marked running in the same step: each task goes to one of
        the runner's threads only."""
        with self._lock:
            row = self._db.execute("SELECT task_uuid FROM tasks WHERE status = 'queued' ORDER BY sequence "
                                   "LIMIT 1").fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE tasks SET status = 'running' WHERE task_uuid = ?", (row[0],))
        return self.task(row[0])

    def set_status(self, task_uuid: str, status: str, error: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._db.execute("UPDATE tasks SET status = ?, error = ? WHERE task_uuid = ?",
                             (status, json.dumps(error) if error else None, task_uuid))

    def requeue_interrupted(self) -> list[str]:
        """After a crash: tasks that were running go back to the front of the queue (their
        finished results are kept; the runner makes only the missing ones)."""
        with self._lock:
            rows = self._db.execute("SELECT task_uuid FROM tasks WHERE status = 'running'").fetchall()
            self._db.execute("UPDATE tasks SET status = 'queued' WHERE status = 'running'")
        return [row[0] for row in rows]

    # ---- results ------------------------------------------------------------------------------
    def add_result(self, task_uuid: str, result_index: int, seed: int, extension: str, content: bytes,
                   duration_s: float, compute_s: float, keep_s: float) -> StoredResult:
        stored = self.task(task_uuid)
        audio_uuid = stored.audio_uuids[result_index] if stored and stored.audio_uuids else str(uuid.uuid4())
        name = f"{audio_uuid}{extension}"
        write_atomically(self.media_dir / name, lambda path: path.write_bytes(content))
        now = time.time()
        with self._lock:
            self._db.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (task_uuid, result_index, audio_uuid, seed, name, duration_s, compute_s, now,
                              now + keep_s))
        return StoredResult(task_uuid, result_index, audio_uuid, seed, name, duration_s, compute_s, now + keep_s)

    def results(self, task_uuid: str) -> list[StoredResult]:
        with self._lock:
            rows = self._db.execute("SELECT task_uuid, result_index, audio_uuid, seed, file, duration_s, compute_s, "
                                    "expires FROM results WHERE task_uuid = ? ORDER BY result_index",
                                    (task_uuid,)).fetchall()
        return [StoredResult(*row) for row in rows]

    def result_by_audio(self, audio_uuid: str) -> StoredResult | None:
        with self._lock:
            row = self._db.execute("SELECT task_uuid, result_index, audio_uuid, seed, file, duration_s, compute_s, "
                                   "expires FROM results WHERE audio_uuid = ?", (audio_uuid,)).fetchone()
        return StoredResult(*row) if row else None

    def read_media(self, result: StoredResult) -> bytes:
        return (self.media_dir / result.file).read_bytes()

    def expire(self, now: float | None = None) -> list[str]:
        """Delete results past their time, file first (a row never points at nothing); the
        tasks that lost a result."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute("SELECT audio_uuid, file, task_uuid FROM results WHERE expires <= ?",
                                    (now,)).fetchall()
        for audio_uuid, name, _ in rows:
            (self.media_dir / name).unlink(missing_ok=True)
            with self._lock:
                self._db.execute("DELETE FROM results WHERE audio_uuid = ?", (audio_uuid,))
        return sorted({task_uuid for _, _, task_uuid in rows})

    # ---- deliveries (webhooks, uploads) ---------------------------------------------------------
    # Their times are the deliverer's clock's (``now``), which a test may move on itself.
    def add_delivery(self, audio_uuid: str, kind: str, url: str, now: float) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO deliveries (audio_uuid, kind, url, status, attempts, next_attempt) "
                             "VALUES (?, ?, ?, 'pending', 0, ?)", (audio_uuid, kind, url, now))

    def due_deliveries(self, now: float) -> list[Delivery]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' AND "
                                    "next_attempt <= ? ORDER BY next_attempt", (now,)).fetchall()
        return [Delivery(*row) for row in rows]

    def deliveries_of(self, audio_uuid: str) -> list[Delivery]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE audio_uuid = ? ORDER BY id",
                                    (audio_uuid,)).fetchall()
        return [Delivery(*row) for row in rows]

    def record_attempt(self, delivery: Delivery, outcome: str, status: str, next_attempt: float, now: float) -> None:
        with self._lock:
            self._db.execute("INSERT INTO delivery_attempts VALUES (?, ?, ?)", (delivery.id, now, outcome))
            self._db.execute("UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt = ?, "
                             "first_attempt = COALESCE(first_attempt, ?), last_error = ? WHERE id = ?",
                             (status, next_attempt, now, None if status == "done" else outcome, delivery.id))

    def attempts(self, delivery_id: int) -> list[tuple[float, str]]:
        with self._lock:
            return self._db.execute("SELECT at, outcome FROM delivery_attempts WHERE delivery_id = ? ORDER BY at",
                                    (delivery_id,)).fetchall()

    # ---- stored media (voices) -----------------------------------------------------------------
    def store_media(self, content: bytes, extension: str) -> StoredMedia:
        """Keep uploaded audio; the same bytes again give the entry already kept."""
        digest = hashlib.sha256(content).hexdigest()
        with self._lock:
            row = self._db.execute("SELECT media_uuid, file, words FROM media WHERE sha256 = ?", (digest,)).fetchone()
        if row is not None:
            return StoredMedia(row[0], row[1], json.loads(row[2]) if row[2] else None)
        media_uuid = str(uuid.uuid4())
        name = f"{media_uuid}{extension}"
        write_atomically(self.stored_dir / name, lambda path: path.write_bytes(content))
        with self._lock:
            self._db.execute("INSERT INTO media VALUES (?, ?, ?, NULL, ?)", (media_uuid, name, digest, time.time()))
        return StoredMedia(media_uuid, name, None)

    def media(self, media_uuid: str) -> StoredMedia | None:
        with self._lock:
            row = self._db.execute("SELECT media_uuid, file, words FROM media WHERE media_uuid = ?",
                                   (media_uuid,)).fetchone()
        return StoredMedia(row[0], row[1], json.loads(row[2]) if row[2] else None) if row else None

    def read_stored(self, media: StoredMedia) -> bytes:
        return (self.stored_dir / media.file).read_bytes()

    def set_media_words(self, media_uuid: str, words: list[list]) -> None:
        with self._lock:
            self._db.execute("UPDATE media SET words = ? WHERE media_uuid = ?", (json.dumps(words), media_uuid))

    def delete_media(self, media_uuid: str) -> bool:
        media = self.media(media_uuid)
        if media is None:
            return False
        with self._lock:
            self._db.execute("DELETE FROM media WHERE media_uuid = ?", (media_uuid,))
        (self.stored_dir / media.file).unlink(missing_ok=True)
        return True

    # ---- voices encoded for remote studios ----------------------------------------------------------
    def engine_voice(self, sha256: str, model: str) -> np.ndarray | None:
        """The codes a studio's voice was encoded to by ``model``, if they are kept."""
        with self._lock:
            row = self._db.execute("SELECT codebooks, frames, codes FROM engine_voices WHERE sha256 = ? AND model = ?",
                                   (sha256, model)).fetchone()
            if row is not None:
                self._db.execute(f"UPDATE engine_voices SET used = ({_NEXT_USE}) WHERE sha256 = ? AND model = ?",
                                 (sha256, model))
        if row is None:
            return None
        return np.frombuffer(row[2], dtype="<i4").reshape(row[0], row[1]).astype(np.int64)

    def keep_engine_voice(self, sha256: str, model: str, codes: np.ndarray) -> None:
        """Keep a voice's codes, forgetting the least recently used beyond ``ENGINE_VOICES_KEPT``."""
        blob = np.ascontiguousarray(codes, dtype="<i4").tobytes()
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO engine_voices VALUES (?, ?, ?, ?, ?, ({_NEXT_USE}))",
                             (sha256, model, codes.shape[0], codes.shape[1], blob))
            self._db.execute("DELETE FROM engine_voices WHERE rowid NOT IN (SELECT rowid FROM engine_voices "
                             "ORDER BY used DESC LIMIT ?)", (ENGINE_VOICES_KEPT,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


_NEXT_USE = "SELECT COALESCE(MAX(used), 0) + 1 FROM engine_voices"
_DELIVERY_COLUMNS = "id, audio_uuid, kind, url, status, attempts, first_attempt, last_error"


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
