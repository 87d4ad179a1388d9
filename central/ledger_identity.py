"""The database's ledger identity, which the checkpoint folder checks (central.checkpoint_log). Beside the ledger
rather than in it: the ledger service watches the checkpoint log, so the log cannot read the ledger package back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from central.db import Base
from central.timeutil import UTCDateTime


class LedgerIdentity(Base):
    """The ledger's identity: one row, a random id made when the database is migrated (0008). The checkpoint
    folder records the id of the ledger it signs for and refuses another (central/checkpoint_log.py), so two
    databases never share one checkpoint log and a checkpoint of one is never read as a claim about the other."""

    __tablename__ = "ledger_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ledger_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
