"""SQLModel tables: versioned FHIR resources, their search index, the delivery outbox and the audit chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class ResourceVersion(SQLModel, table=True):
    """One version of one resource; `current` marks the latest (a deleted one has `deleted` set)."""

    __tablename__ = "resource_version"
    __table_args__ = (
        UniqueConstraint("rtype", "rid", "vid", name="uq_resource_version"),
        Index("ix_resource_current", "rtype", "rid", "current"),
        Index("ix_resource_type_updated", "rtype", "current", "last_updated"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    rtype: str = Field(max_length=64)
    rid: str = Field(max_length=64)
    vid: int
    last_updated: datetime
    deleted: bool = False
    current: bool = True
    patient_id: str | None = Field(default=None, max_length=64, index=True)
    content: str = Field(sa_column=Column(Text, nullable=False))


class SearchIndex(SQLModel, table=True):
    """Search index rows for the current version of a resource (token, reference, string, date as text)."""

    __tablename__ = "search_index"
    __table_args__ = (
        Index("ix_search_lookup", "rtype", "param", "value"),
        # (rid, rtype), not (rtype, rid): an index led by rtype alone tempts PostgreSQL, before its statistics
        # exist, to scan a whole type instead of using ix_search_lookup (searches then grow with the table).
        Index("ix_search_resource", "rid", "rtype"),
    )

    pk: int | None = Field(default=None, primary_key=True)
    rtype: str = Field(max_length=64)
    rid: str = Field(max_length=64)
    param: str = Field(max_length=64)
    system: str | None = Field(default=None, max_length=255)
    value: str = Field(max_length=512)


class Delivery(SQLModel, table=True):
    """Outbox row: bring subscriber `subscription_id` in sync with resource `rtype/rid` (PUT or DELETE)."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_order", "subscription_id", "patient_id", "status", "pk"),
        Index("ix_delivery_resource", "subscription_id", "rtype", "rid", "status"),
        # claiming walks open rows in pk order; finished rows pile up and must not be walked (migration 0003)
        Index("ix_delivery_open", "pk", postgresql_where=text("status IN ('pending', 'sending')"), sqlite_where=text("status IN ('pending', 'sending')")),
    )

    pk: int | None = Field(default=None, primary_key=True)
    subscription_id: str = Field(max_length=64)
    rtype: str = Field(max_length=64)
    rid: str = Field(max_length=64)
    vid: int = 0
    patient_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="change", max_length=32)  # change | consent | replay
    status: str = Field(default="pending", max_length=16)  # pending | sending (leased) | delivered | retracted | withheld | noop | cancelled | superseded | dead | replayed
    action: str | None = Field(default=None, max_length=8)  # PUT | DELETE, decided at send time
    attempts: int = 0
    next_attempt_at: datetime
    created_at: datetime
    finished_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    decision: str | None = Field(default=None, max_length=64)


class SubscriberHolding(SQLModel, table=True):
    """What a subscriber currently holds: the version delivered, so retraction knows what to DELETE."""

    __tablename__ = "subscriber_holding"

    subscription_id: str = Field(primary_key=True, max_length=64)
    rtype: str = Field(primary_key=True, max_length=64)
    rid: str = Field(primary_key=True, max_length=64)
    vid: int
    patient_id: str | None = Field(default=None, max_length=64, index=True)
    delivered_at: datetime


class AuditLink(SQLModel, table=True):
    """The audit hash chain: each AuditEvent resource's hash over its content and the previous hash."""

    __tablename__ = "audit_chain"

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, unique=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class KeyValue(SQLModel, table=True):
    """Small hub state (e.g. the paused flag of a subscriber)."""

    __tablename__ = "hub_state"

    key: str = Field(primary_key=True, max_length=128)
    value: str = Field(sa_column=Column(Text, nullable=False))
