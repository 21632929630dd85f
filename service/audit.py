"""The append-only, hash-chained log of organiser actions.

Each entry's ``hash`` is ``sha256`` of the canonical JSON (sorted keys, no spaces, UTF-8) of
``{"seq", "at", "organiser_id", "action", "round_id", "details", "prev_hash"}`` where ``at`` is
ISO 8601 (UTC, microseconds) and ``prev_hash`` is the previous entry's ``hash`` (64 zeros for
the first). Changing, removing or reordering any entry breaks every hash after it
(:func:`verify_chain`). Entries are written in the same transaction as the action they record;
the last entry is read ``FOR UPDATE`` (PostgreSQL; SQLite write transactions are serialised),
and ``prev_hash`` is unique, so the chain never forks.

``details`` never holds a voting code, a password, a token, a receipt or a ballot: only ids,
counts, names and settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlmodel import Session, col, select

from service.models import AuditEntry

__all__ = ["GENESIS", "append", "entry_hash", "verify_chain"]

GENESIS: Final = "0" * 64


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry must have, given its fields and ``prev_hash``."""
    document = {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "organiser_id": entry.organiser_id,
        "action": entry.action,
        "round_id": entry.round_id,
        "details": json.loads(entry.details),
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(_canonical(document)).hexdigest()


def append(
    session: Session,
    *,
    organiser_id: int | None,
    action: str,
    round_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    now: datetime,
) -> AuditEntry:
    """Add an entry to the session's transaction (the caller commits)."""
    last = session.exec(
        select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1).with_for_update()
    ).first()
    entry = AuditEntry(
        seq=1 if last is None else last.seq + 1,
        at=now,
        organiser_id=organiser_id,
        action=action,
        round_id=round_id,
        details=_canonical(dict(details or {})).decode(),
        prev_hash=GENESIS if last is None else last.hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    return entry


def verify_chain(entries: Iterable[AuditEntry]) -> int | None:
    """The ``seq`` of the first entry that breaks the chain, or None if all follow."""
    previous = GENESIS
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq or entry.prev_hash != previous:
            return entry.seq
        if entry_hash(entry) != entry.hash:
            return entry.seq
        previous = entry.hash
        expected_seq += 1
    return None
