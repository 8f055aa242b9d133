"""Persistence: versioned resources, search index, outbox and audit tables (SQLite or PostgreSQL)."""

from hub.store._engine import make_engine, migrate
from hub.store._query import Criterion, SearchQuery, matches, parse_criteria_string, parse_query
from hub.store._repository import Store, Stored, fhir_instant, utcnow
from hub.store._search_params import extract, normalise_reference, patient_of, search_params
from hub.store._sql import keys_in, one_of
from hub.store._tables import AuditLink, Delivery, KeyValue, ResourceVersion, SearchIndex, SubscriberHolding

__all__ = [
    "AuditLink",
    "Criterion",
    "Delivery",
    "KeyValue",
    "ResourceVersion",
    "SearchIndex",
    "SearchQuery",
    "Store",
    "Stored",
    "SubscriberHolding",
    "extract",
    "fhir_instant",
    "keys_in",
    "make_engine",
    "matches",
    "migrate",
    "normalise_reference",
    "one_of",
    "parse_criteria_string",
    "parse_query",
    "patient_of",
    "search_params",
    "utcnow",
]
