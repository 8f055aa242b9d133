"""Pipeline figures: convert_rivta_per_s, ingest_per_s, deliver_per_s, serve_ready_s (issue: walking skeleton).

Baselines measured in the same run: lxml parsing alone (for convert) and bare store writes (for ingest).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import orjson
from lxml import etree

from hub.paths import examples_dir

Figure = tuple[str, float, str]
_TEMPLATE_PNR = re.compile(rb"<([\w:]*)id>(\d{12})</\1id>")
_DOC_ID = re.compile(rb"<([\w:]*)documentId>([^<]+)</\1documentId>")


def luhn_digit(nine: str) -> int:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def personnummer(n: int) -> str:
    """A Luhn-valid personnummer for synthetic load (born 1950–1999, serial from n)."""
    year = 1950 + n % 50
    month = 1 + (n // 50) % 12
    day = 1 + (n // 600) % 28
    serial = f"{(n // 16800) % 1000:03d}"
    base = f"{year:04d}{month:02d}{day:02d}{serial}"
    return base + str(luhn_digit(base[2:]))


def documents(count: int, patients: int = 50) -> list[bytes]:
    template = sorted((examples_dir() / "rivta").glob("*.xml"))[0].read_bytes()
    docs = []
    for i in range(count):
        doc = _DOC_ID.sub(lambda m, i=i: b"<%sdocumentId>bench-%d</%sdocumentId>" % (m.group(1), i, m.group(1)), template, count=1)
        pnr = personnummer(i % patients).encode()
        doc = _TEMPLATE_PNR.sub(lambda m, p=pnr: b"<%sid>%s</%sid>" % (m.group(1), p, m.group(1)), doc, count=1)
        docs.append(doc)
    return docs


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def bench_convert(quick: bool) -> list[Figure]:
    from adapters import get_adapter

    docs = documents(300 if quick else 3000)
    adapter = get_adapter("rivta-alert")
    adapter.convert(docs[0])
    t = time.perf_counter()
    n = 0
    for d in docs:
        n += len(adapter.convert(d)["entry"])
    conv = time.perf_counter() - t
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    t = time.perf_counter()
    for d in docs:
        etree.fromstring(d, parser)
    parse = time.perf_counter() - t
    return [
        ("convert_rivta_per_s", _rate(len(docs), conv), "documents/s"),
        ("convert_rivta_resources_per_s", _rate(n, conv), "resources/s"),
        ("convert_rivta_vs_lxml_parse", parse / conv if conv else 0.0, "x (share of time that is XML parsing)"),
    ]


def _hub(tmp: Path, **extra: str):  # type: ignore[no-untyped-def]
    from hub.settings import Settings
    from hub.wiring import build_hub

    settings = Settings(database_url=f"sqlite:///{tmp / 'bench.db'}", key_file=str(tmp / "key.pem"), **extra)  # type: ignore[arg-type]
    return build_hub(settings)


def _caller():  # type: ignore[no-untyped-def]
    from hub.auth import Claims
    from hub.interactions import Caller

    return Caller(Claims("bench", ("system/*.cruds",), None, None, None))


def bench_ingest(quick: bool) -> list[Figure]:
    from hub.ingest import ingest

    docs = documents(100 if quick else 1000)
    with tempfile.TemporaryDirectory() as d:
        hub = _hub(Path(d))
        caller = _caller()
        ingest(hub, caller, "rivta-alert", docs[0])
        t = time.perf_counter()
        n = 0
        for doc in docs[1:]:
            n += len(ingest(hub, caller, "rivta-alert", doc).body["entry"])  # type: ignore[index]
        elapsed = time.perf_counter() - t
        # baseline: the same number of bare versioned writes, no adapter, validation or routing
        t = time.perf_counter()
        with hub.store.transaction() as s:
            pass
        for i in range(n):
            with hub.store.transaction() as s:
                hub.store.update(s, {"resourceType": "Basic", "id": f"b{i}", "code": {"text": "x"}})
        bare = time.perf_counter() - t
    return [
        ("ingest_per_s", _rate(n, elapsed), "resources/s"),
        ("ingest_docs_per_s", _rate(len(docs) - 1, elapsed), "documents/s"),
        ("ingest_vs_bare_store_writes", (bare / elapsed) if elapsed else 0.0, "x"),
    ]


def bench_deliver(quick: bool) -> list[Figure]:
    from hub.cli._procs import start_receiver, stop
    from hub.ingest import ingest
    from hub.interactions import process_bundle

    docs = documents(50 if quick else 400)
    with tempfile.TemporaryDirectory() as d:
        hub = _hub(Path(d))
        caller = _caller()
        recv, url = start_receiver()
        try:
            routes = orjson.loads((examples_dir() / "routes" / "registry-allergy.json").read_text().replace("{{RECEIVER}}", url))
            process_bundle(hub, caller, routes)
            for doc in docs:
                ingest(hub, caller, "rivta-alert", doc)
            t = time.perf_counter()
            hub.worker.drain(timeout=600)
            elapsed = time.perf_counter() - t
            import httpx

            held = httpx.get(url + "/_state").json()["held"]
            n = sum(1 for k in held if k.startswith("AllergyIntolerance/"))
        finally:
            stop(recv)
    return [("deliver_per_s", _rate(n, elapsed), "resources/s (SQLite, in-process worker)")]


def bench_serve_ready(quick: bool) -> list[Figure]:
    from hub.cli._procs import start_hub, stop

    with tempfile.TemporaryDirectory() as d:
        env = {"KNUTPUNKT_DATABASE_URL": f"sqlite:///{Path(d) / 'hub.db'}", "KNUTPUNKT_KEY_FILE": str(Path(d) / "key.pem")}
        proc, _, ready = start_hub(env, cwd=Path(d))
        stop(proc)
    return [("serve_ready_s", ready, "s")]


def run_bench(quick: bool) -> list[Figure]:
    os.environ.setdefault("KNUTPUNKT_DELIVERY_POLL_S", "0.05")
    return bench_convert(quick) + bench_ingest(quick) + bench_deliver(quick) + bench_serve_ready(quick)
