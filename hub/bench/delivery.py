"""Delivery figures on the production path (PostgreSQL, Redis, `knutpunkt worker` processes, a local receiver):
`ingest_pg_per_s`, `deliver_pg_per_s` (2 workers, a backlog) and `commit_to_receiver_p99_ms` (steady load).

Runs in a scratch PostgreSQL schema and its own Redis DB; both are removed afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from hub.bench.pipeline import documents

Figure = tuple[str, float, str]
PG_URL = os.environ.get("KNUTPUNKT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("KNUTPUNKT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")


def _scratch_schema():  # type: ignore[no-untyped-def]
    from hub.store._scratch import scratch_schema

    return scratch_schema(PG_URL, "kp_bench")


def _start_workers(n: int, env: dict[str, str], tmp: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        log = open(tmp / f"worker{i}.log", "ab")  # noqa: SIM115
        procs.append(subprocess.Popen([sys.executable, "-m", "hub", "worker", "--concurrency", os.environ.get("KNUTPUNKT_BENCH_WORKER_CONCURRENCY", "1")], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp))
    deadline = time.monotonic() + 90
    for i, p in enumerate(procs):
        while " ready." not in (tmp / f"worker{i}.log").read_text(errors="replace"):
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {i} did not start: {(tmp / f'worker{i}.log').read_text()[-1000:]}")
            time.sleep(0.1)
    return procs


def _kill_all(procs: list[subprocess.Popen]) -> None:
    """Kill and reap `procs`, emptying the list (a second call is a no-op)."""
    while procs:
        p = procs.pop()
        p.kill()
        p.wait(10)


def _wait_empty(hub, timeout: float) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if hub.worker.open_count() == 0:
            return time.perf_counter() - start
        time.sleep(0.02)
    raise TimeoutError(f"deliveries not done within {timeout}s")


def _p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def _unreachable() -> str | None:
    import psycopg
    import redis

    try:
        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            pass
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} unreachable ({type(exc).__name__})"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} unreachable ({type(exc).__name__})"
    return None


def run_bench(quick: bool) -> list[Figure]:
    import redis

    from hub.bench._bare_put import bare_put_rate
    from hub.bench.pipeline import _caller
    from hub.cli._procs import start_receiver, stop
    from hub.fhir.errors import FhirError
    from hub.ingest import Converter, ingest, ingest_stream
    from hub.interactions import process_bundle
    from hub.paths import examples_dir
    from hub.routing import paused_key
    from hub.routing._worker import SEND_THREADS
    from hub.settings import Settings
    from hub.store import KeyValue
    from hub.wiring import build_hub

    reason = _unreachable()
    if reason:  # the production path needs both services; say why there are no figures
        print(f"# hub.bench.delivery: skipped: {reason}", file=sys.stderr)
        return []
    n_docs = 300 if quick else 2000
    n_single = 50 if quick else 200
    steady_s = 3.0 if quick else 10.0
    rate = float(os.environ.get("KNUTPUNKT_BENCH_DELIVERY_RATE", "200"))
    figures: list[Figure] = []
    redis.Redis.from_url(REDIS_URL).flushdb()
    with tempfile.TemporaryDirectory() as d, _scratch_schema() as url:
        tmp = Path(d)
        env = {**os.environ, "KNUTPUNKT_DATABASE_URL": url, "KNUTPUNKT_BROKER_URL": REDIS_URL, "KNUTPUNKT_KEY_FILE": str(tmp / "key.pem"),
               "KNUTPUNKT_DELIVERY_POLL_S": "0.2"}
        settings = Settings(database_url=url, broker_url=REDIS_URL, key_file=str(tmp / "key.pem"))
        hub = build_hub(settings)
        recv, rurl = start_receiver()
        workers: list[subprocess.Popen] = []
        try:
            caller = _caller()
            bundle = orjson.loads((examples_dir() / "routes" / "registry-allergy.json").read_text().replace("{{RECEIVER}}", rurl))
            out = process_bundle(hub, caller, bundle)
            sub_id = next(e["response"]["location"].split("/")[1] for e in out.body["entry"] if e["response"]["location"].startswith("Subscription/"))  # type: ignore[index]
            with hub.store.transaction() as s:
                s.add(KeyValue(key=paused_key(sub_id), value="bench"))

            # ingest into PostgreSQL through the whole pipeline (adapter → validate → store → outbox rows), one
            # document per patient: `knutpunkt ingest` (2 worker processes prepare, batches of 200 are
            # written), then the API's path (one document per request and transaction)
            docs = documents(n_docs + n_single + 1, patients=n_docs + n_single + 1)
            ingest(hub, caller, "rivta-alert", docs[0])
            t = time.perf_counter()
            with Converter("rivta-alert", jobs=2) as converter:
                started = time.perf_counter() - t
                t = time.perf_counter()
                outcomes = list(ingest_stream(hub, caller, converter, docs[1 : n_docs + 1]))
                elapsed = time.perf_counter() - t
            if any(isinstance(o, FhirError) for o in outcomes):
                raise RuntimeError("a benchmark document was rejected")
            n_res = sum(len(o.body["entry"]) for o in outcomes)  # type: ignore[union-attr,index]
            figures.append(("ingest_pg_per_s", n_res / elapsed, "resources/s (PostgreSQL, validated, 2 worker processes + batched writer)"))
            figures.append(("ingest_pg_pool_start_s", started, "s (starting the 2 worker processes, not in ingest_pg_per_s)"))
            t = time.perf_counter()
            n_res = sum(len(ingest(hub, caller, "rivta-alert", doc).body["entry"]) for doc in docs[n_docs + 1 :])  # type: ignore[index]
            figures.append(("ingest_pg_single_per_s", n_res / (time.perf_counter() - t), "resources/s (PostgreSQL, one document per transaction, as POST /ingest)"))

            # a backlog drained by 2 worker processes
            workers = _start_workers(2, env, tmp)
            with hub.store.transaction() as s:
                s.delete(s.get(KeyValue, paused_key(sub_id)))
            t = time.perf_counter()
            hub.wake()
            elapsed = _wait_empty(hub, 900)
            log = httpx.get(rurl + "/_state", timeout=30).json()["log"]
            puts = sum(1 for e in log if e["method"] == "PUT" and e["status"] in (200, 201))
            deliver_rate = puts / elapsed
            figures.append(("deliver_pg_per_s", deliver_rate, "resources/s (2 workers, PostgreSQL, local receiver)"))

            # steady load: new versions at `rate`/s, latency from commit to the receiver's PUT
            held = httpx.get(rurl + "/_state", timeout=30).json()["held"]
            targets = [v for k, v in held.items() if k.startswith("AllergyIntolerance/")]
            commits: dict[tuple[str, str], float] = {}
            tick = 0.05  # a commit every 50 ms of rate * 50 ms resources: a steady stream, as a feed of many sources is
            per_tick = max(1, round(rate * tick))
            stop_at = time.monotonic() + steady_s
            nxt = time.monotonic()
            i = 0
            while time.monotonic() < stop_at:
                batch = [targets[(i + j) % len(targets)] for j in range(per_tick)]
                i += per_tick
                with hub.store.transaction() as s:
                    current = hub.store.current_rows(s, [("AllergyIntolerance", r["id"]) for r in batch])
                    written = hub.store.write_many(s, [({**r, "note": [{"text": f"bench {i}"}]}, current.get(("AllergyIntolerance", r["id"]))) for r in batch])
                committed = time.time()
                hub.wake()
                for st in written:
                    commits[(f"AllergyIntolerance/{st.rid}", str(st.vid))] = committed
                nxt += tick
                time.sleep(max(0.0, nxt - time.monotonic()))
            _wait_empty(hub, 600)
            log = httpx.get(rurl + "/_state", timeout=30).json()["log"]
            latencies = []
            for e in log:
                key = (e["path"].strip("/"), e.get("version"))
                if e["method"] == "PUT" and key in commits:
                    latencies.append((e["t"] - commits.pop(key)) * 1000.0)
            offered = (len(latencies) + len(commits)) / steady_s
            figures.append(("commit_to_receiver_p99_ms", _p99(latencies), f"ms (offered {offered:.0f} resources/s, 2 workers; superseded versions excluded)"))
            figures.append(("commit_to_receiver_p50_ms", sorted(latencies)[len(latencies) // 2] if latencies else float("nan"), "ms"))

            # baseline, same run: the same PUTs to the same receiver with the hub's HTTP code and nothing else
            _kill_all(workers)  # idle by now; stopped so that they take no CPU from the baseline
            state = httpx.get(rurl + "/_state", timeout=30).json()["held"]
            bare = bare_put_rate(rurl, state, processes=2, threads=SEND_THREADS)
            figures.append(("bare_put_per_s", bare, f"resources/s (same receiver, {len(state)} PUTs from 2 processes x {SEND_THREADS} threads, no database)"))
            figures.append(("deliver_pg_vs_bare_put", deliver_rate / bare if bare else 0.0, "x (deliver_pg_per_s / bare_put_per_s)"))
        finally:
            _kill_all(workers)
            if os.environ.get("KNUTPUNKT_BENCH_LOG_DIR"):  # keep the workers' logs for a closer look
                import shutil

                for log_file in tmp.glob("worker*.log"):
                    shutil.copy(log_file, Path(os.environ["KNUTPUNKT_BENCH_LOG_DIR"]) / log_file.name)
            stop(recv)
            hub.store.engine.dispose()
    return figures
