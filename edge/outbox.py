"""The durable outbox: messages wait in a SQLite file (WAL) until central's receipt names them.

Rows are published in `seq` order. An event's evidence rows come before its infraction row and are
written in the same transaction, so a crash never leaves half an event and central can link the
evidence whichever of the two it happens to store first. Each row carries the sha256 of its payload,
which is how a receipt names it. A row the broker acknowledged stays, with the time it is due to be
sent again (`resend_at`), until a receipt releases it; `resend_at` is NULL while the broker has not
acknowledged the row's latest send. Without receipts (no central key) the publisher deletes rows at the
broker's acknowledgement instead."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    digest TEXT NOT NULL DEFAULT '',
    tries INTEGER NOT NULL DEFAULT 0,
    resend_at REAL
);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL,
    rejected_at REAL NOT NULL
);
"""
_RECEIPT_COLUMNS = {"digest": "TEXT NOT NULL DEFAULT ''", "tries": "INTEGER NOT NULL DEFAULT 0", "resend_at": "REAL"}
_INDEXES = """
CREATE INDEX IF NOT EXISTS outbox_grp ON outbox (grp);
CREATE INDEX IF NOT EXISTS outbox_digest ON outbox (digest);
CREATE INDEX IF NOT EXISTS outbox_resend ON outbox (resend_at) WHERE resend_at IS NOT NULL;
"""


def digest(payload: bytes) -> str:
    """How a receipt names a message: the sha256 of its exact payload bytes."""
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    topic: str
    payload: bytes
    retain: bool
    created_at: float


class Outbox:
    """Thread-safe: the pipeline enqueues while the publisher thread reads and deletes."""

    def __init__(
        self,
        path: Path,
        max_messages: int = 100_000,
        max_bytes: int = 2 << 30,
        when_full: Literal["refuse_new", "drop_oldest"] = "refuse_new",
        warn_at: float = 0.8,
        resend_after_s: float = 30.0,
        resend_max_s: float = 600.0,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_messages, self.max_bytes, self.when_full, self.warn_at = max_messages, max_bytes, when_full, warn_at
        self.resend_after_s, self.resend_max_s = resend_after_s, resend_max_s
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a row the pipeline handed over must survive a power cut, not only a process kill.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._upgrade()
        self._db.executescript(_INDEXES)
        # A new run sends every row from the start anyway; a wait left from the last run would send some twice.
        self._db.execute("UPDATE outbox SET resend_at = NULL WHERE resend_at IS NOT NULL")
        self._count, self._bytes = self._db.execute(
            "SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox"
        ).fetchone()
        self._warned = False
        self.changed = threading.Event()

    def _upgrade(self) -> None:
        """Give an outbox file written before receipts existed their columns, and its rows their digests, so
        what it still holds is sent and released like any new row."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        missing = [name for name in _RECEIPT_COLUMNS if name not in have]
        if not missing:
            return
        self._db.execute("BEGIN IMMEDIATE")
        for name in missing:
            self._db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {_RECEIPT_COLUMNS[name]}")
        rows = self._db.execute("SELECT seq, payload FROM outbox").fetchall()
        self._db.executemany("UPDATE outbox SET digest = ? WHERE seq = ?", [(digest(p), seq) for seq, p in rows])
        self._db.execute("COMMIT")
        log.info("outbox %s upgraded for receipts (%d queued messages)", self.path, len(rows))

    def enqueue(self, group: str, messages: list[tuple[str, bytes, bool]]) -> bool:
        """Store one event's messages (topic, payload, retain) atomically, in order. False when refused."""
        size = sum(len(payload) for _topic, payload, _retain in messages)
        now = time.time()
        with self._lock:
            if not self._make_room(len(messages), size):
                log.warning(
                    "outbox %s is full (%d messages, %d bytes): event %s dropped",
                    self.path,
                    self._count,
                    self._bytes,
                    group,
                )
                return False
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO outbox (grp, topic, payload, retain, created_at, digest) VALUES (?, ?, ?, ?, ?, ?)",
                    [(group, topic, payload, int(retain), now, digest(payload)) for topic, payload, retain in messages],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._count += len(messages)
            self._bytes += size
            self._check_fill()
        self.changed.set()
        return True

    def _make_room(self, count: int, size: int) -> bool:
        def fits() -> bool:
            return self._count + count <= self.max_messages and self._bytes + size <= self.max_bytes

        if fits():
            return True
        if self.when_full == "refuse_new" or count > self.max_messages or size > self.max_bytes:
            return False
        while not fits() and self._count:
            (oldest,) = self._db.execute("SELECT grp FROM outbox ORDER BY seq LIMIT 1").fetchone()
            dropped, dropped_bytes = self._db.execute(
                "SELECT count(*), sum(length(payload)) FROM outbox WHERE grp = ?", (oldest,)
            ).fetchone()
            self._db.execute("DELETE FROM outbox WHERE grp = ?", (oldest,))
            self._count -= dropped
            self._bytes -= dropped_bytes
            log.warning("outbox %s is full: dropped the oldest event %s (%d messages)", self.path, oldest, dropped)
        return fits()

    def _check_fill(self) -> None:
        ratio = max(self._count / self.max_messages, self._bytes / self.max_bytes)
        if ratio >= self.warn_at and not self._warned:
            log.warning("outbox %s is %.0f%% full: is the broker reachable?", self.path, ratio * 100)
        self._warned = ratio >= self.warn_at

    def after(self, seq: int, limit: int) -> list[OutboxRow]:
        """Up to `limit` rows with a sequence number above `seq`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, retain, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return [
            OutboxRow(seq, topic, bytes(payload), bool(retain), created)
            for seq, topic, payload, retain, created in rows
        ]

    def get(self, seqs: list[int]) -> list[OutboxRow]:
        """The rows among `seqs` still queued, in order."""
        with self._lock:
            rows = [
                self._db.execute(
                    "SELECT seq, topic, payload, retain, created_at FROM outbox WHERE seq = ?", (seq,)
                ).fetchone()
                for seq in sorted(seqs)
            ]
        return [OutboxRow(row[0], row[1], bytes(row[2]), bool(row[3]), row[4]) for row in rows if row is not None]

    def _remove(self, seqs: list[int]) -> None:
        """Delete rows inside the caller's transaction and keep the running totals right."""
        for seq in seqs:
            gone = self._db.execute("DELETE FROM outbox WHERE seq = ? RETURNING length(payload)", (seq,)).fetchone()
            if gone is not None:
                self._count -= 1
                self._bytes -= gone[0]

    def delete(self, seqs: list[int]) -> None:
        """Forget rows the broker acknowledged that need no receipt (retained status, or no central key)."""
        if not seqs:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._remove(seqs)
            self._db.execute("COMMIT")
            self._check_fill()
        self.changed.set()

    def await_receipt(self, seqs: list[int]) -> None:
        """The broker acknowledged these rows: keep them until a receipt, due to be sent again after
        `resend_after_s`, doubled for each earlier try, at most `resend_max_s`."""
        if not seqs:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "UPDATE outbox SET tries = tries + 1, resend_at = ? + min(? * (1 << min(tries, 30)), ?) WHERE seq = ?",
                [(time.time(), self.resend_after_s, self.resend_max_s, seq) for seq in seqs],
            )
            self._db.execute("COMMIT")

    def take_due(self, limit: int) -> list[OutboxRow]:
        """Up to `limit` acknowledged but unreceipted rows whose wait is over, oldest first, marked as being
        sent again (so they are not taken twice before the broker acknowledges them)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                "UPDATE outbox SET resend_at = NULL WHERE seq IN (SELECT seq FROM outbox WHERE resend_at <= ? "
                "ORDER BY seq LIMIT ?) RETURNING seq, topic, payload, retain, created_at, tries",
                (time.time(), limit),
            ).fetchall()
            self._db.execute("COMMIT")
        if rows:
            log.info("sending %d unreceipted messages again (up to try %d)", len(rows), max(r[5] for r in rows) + 1)
        return sorted(
            (
                OutboxRow(seq, topic, bytes(payload), bool(retain), created)
                for seq, topic, payload, retain, created, _t in rows
            ),
            key=lambda row: row.seq,
        )

    def release(self, digests: list[str]) -> int:
        """Delete the rows central's receipt names (in whatever state); returns how many there were."""
        if not digests:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            seqs = [
                seq
                for d in set(digests)
                for (seq,) in self._db.execute("SELECT seq FROM outbox WHERE digest = ?", (d,))
            ]
            self._remove(seqs)
            self._db.execute("COMMIT")
            self._check_fill()
        self.changed.set()
        return len(seqs)

    def reject(self, seq: int, reason: str) -> None:
        """Move a row the broker refused (e.g. not authorised) aside, so it neither blocks nor vanishes."""
        self._move_aside("seq = ?", seq, reason)

    def reject_digest(self, payload_digest: str, reason: str) -> int:
        """Move the rows central quarantined aside with its reason; returns how many there were."""
        return self._move_aside("digest = ?", payload_digest, reason)

    def _move_aside(self, where: str, value: object, reason: str) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            seqs = [seq for (seq,) in self._db.execute(f"SELECT seq FROM outbox WHERE {where}", (value,))]
            self._db.executemany(
                "INSERT OR REPLACE INTO rejected SELECT seq, topic, payload, ?, ? FROM outbox WHERE seq = ?",
                [(reason, time.time(), seq) for seq in seqs],
            )
            self._remove(seqs)
            self._db.execute("COMMIT")
        self.changed.set()
        return len(seqs)

    def rejected(self) -> list[tuple[str, str]]:
        with self._lock:
            return self._db.execute("SELECT topic, reason FROM rejected ORDER BY seq").fetchall()

    def depth(self) -> int:
        """Messages not yet released: queued, in flight, or acknowledged by the broker but not receipted."""
        return self._count

    def oldest_age(self) -> float | None:
        """Seconds the oldest queued message has waited, or None when the outbox is empty: a figure that
        keeps growing means nothing gets through, whatever the depth."""
        with self._lock:
            row = self._db.execute("SELECT created_at FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else max(0.0, round(time.time() - row[0], 1))

    def close(self) -> None:
        with self._lock:
            self._db.close()
