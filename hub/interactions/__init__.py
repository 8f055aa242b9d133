"""FHIR interactions, independent of HTTP: each takes the hub, the caller and plain values."""

from hub.interactions._bulk import Prepared, prepare_transaction, process_transactions
from hub.interactions._context import Caller, Result
from hub.interactions._crud import create, delete, history, read, update, vread
from hub.interactions._evaluate import evaluate
from hub.interactions._search import search
from hub.interactions._summary import summary
from hub.interactions._transaction import process_bundle

__all__ = ["Caller", "Prepared", "Result", "create", "delete", "evaluate", "history", "prepare_transaction", "process_bundle", "process_transactions", "read", "search", "summary", "update", "vread"]
