"""Bulk ingest as a pipeline: worker processes convert, check and validate documents while this process
writes the prepared ones in batches (one database transaction each), outcomes in input order.

Everything before the database (adapter, reference rewriting, profile validation) is CPU work on one
document, so it runs beside the writer on other cores; the writer keeps the order, so the outcome is that
of ingesting the documents one by one.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from hub.fhir.errors import FhirError
from hub.interactions import Caller, Prepared, Result, prepare_transaction
from hub.wiring import Hub

# prepared for the bulk path, a transaction Bundle for the single path, or why the document was rejected
Converted = Prepared | dict[str, Any] | FhirError
ANALYZE_AFTER = 1000  # documents in one bulk ingest after which the planner's statistics are refreshed
_CHUNK = 16  # documents per task: enough to make a task's overhead small, few enough to keep the writer fed


def _convert_chunk(adapter_name: str, payloads: list[bytes], caller: Caller, validate: bool) -> list[Converted]:
    from hub.ingest import convert, to_transaction

    out: list[Converted] = []
    for payload in payloads:
        try:
            bundle = to_transaction(convert(adapter_name, payload))
        except FhirError as exc:
            out.append(exc)
            continue
        prepared = prepare_transaction(bundle, caller, validate=validate)
        out.append(bundle if prepared is None else prepared)
    return out


def _warm(adapter_name: str) -> None:
    """Load the adapter and the validator's profiles before the first document arrives."""
    from adapters import get_adapter
    from hub.validation import validate_resource

    get_adapter(adapter_name)
    validate_resource({"resourceType": "Basic", "code": {"text": "warm-up"}})


class Converter:
    """Runs an adapter over documents, in `jobs` worker processes (in this process when jobs is 1)."""

    def __init__(self, adapter_name: str, jobs: int = 1) -> None:
        self.adapter_name = adapter_name
        self.jobs = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None
        if self.jobs > 1:
            # spawn, not fork: a forked child would share this process's database sockets
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_warm, initargs=(adapter_name,))
            for f in [self._pool.submit(_warm, adapter_name) for _ in range(self.jobs)]:
                f.result()

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def prepare(self, payloads: Iterable[bytes], caller: Caller, validate: bool, ahead: int = 256) -> Iterator[Converted]:
        """Prepared documents in input order; at most about `ahead` documents are in flight at a time."""
        if self._pool is None:
            chunk: list[bytes] = []
            for payload in payloads:
                chunk.append(payload)
                if len(chunk) == _CHUNK:
                    yield from _convert_chunk(self.adapter_name, chunk, caller, validate)
                    chunk = []
            yield from _convert_chunk(self.adapter_name, chunk, caller, validate)
            return
        window: deque[Future[list[Converted]]] = deque()
        chunk = []
        for payload in payloads:
            chunk.append(payload)
            if len(chunk) == _CHUNK:
                window.append(self._pool.submit(_convert_chunk, self.adapter_name, chunk, caller, validate))
                chunk = []
                if len(window) * _CHUNK > max(ahead, 4 * self.jobs * _CHUNK):
                    yield from window.popleft().result()
        if chunk:
            window.append(self._pool.submit(_convert_chunk, self.adapter_name, chunk, caller, validate))
        while window:
            yield from window.popleft().result()


def ingest_stream(hub: Hub, caller: Caller, converter: Converter, payloads: Iterable[bytes], base: str = "", batch: int = 200) -> Iterator[Result | FhirError]:
    """The outcome of every document, in input order, as its batch commits: a Result (201, the
    transaction-response) or the FhirError that rejected the document and nothing of it was stored."""
    from hub.interactions import process_transactions

    pending: list[Converted] = []

    def flush() -> Iterator[Result | FhirError]:
        items = [c for c in pending if not isinstance(c, FhirError)]
        done = iter(process_transactions(hub, caller, items, base))
        for c in pending:
            outcome = c if isinstance(c, FhirError) else next(done)
            if isinstance(outcome, Result):
                outcome.status = 201
            yield outcome
        pending.clear()

    written = 0
    for converted in converter.prepare(payloads, caller, hub.settings.validate_on_write, ahead=2 * batch):
        pending.append(converted)
        if len(pending) >= batch:
            written += len(pending)
            yield from flush()
    written += len(pending)
    yield from flush()
    if written >= ANALYZE_AFTER:
        hub.store.analyze()
