"""Celery on `KNUTPUNKT_BROKER_URL` (Redis): a broker message is only a wake-up, never the delivery itself.

The outbox rows in the database are the truth. `wake()` publishes a cheap `knutpunkt.deliver` task after
a commit; the task claims due rows (leases, so any number of workers share safely) and delivers them.
Each `knutpunkt worker` also runs a sweeper loop (`beat=True`) that claims whatever is due every
`delivery_poll_s`, so a lost message, a FLUSHALL on Redis or a crashed worker delays but never loses a
delivery. Messages go to the queue by name (default exchange), so they survive a flushed binding table.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from typing import Any

from celery import Celery

from hub.settings import Settings

log = logging.getLogger("knutpunkt.delivery")
QUEUE = "knutpunkt.deliver"
TASK = "knutpunkt.deliver"
TASK_BUDGET_S = 5.0  # one task delivers for at most this long, then hands over with a new wake-up
WAKE_BACKOFF_S = 5.0  # after a failed publish, API requests skip waking for this long

app = Celery("knutpunkt")
_configured: str | None = None
_config_lock = threading.Lock()
_wake_failed_at = 0.0
_hub: Any = None
_hub_lock = threading.Lock()


def configure(settings: Settings) -> Celery:
    """Point the Celery app at the broker (once per process)."""
    global _configured
    with _config_lock:
        if _configured != settings.broker_url:
            app.conf.update(
                broker_url=settings.broker_url,
                result_backend=None,
                task_ignore_result=True,
                task_default_queue=QUEUE,
                task_acks_late=False,  # a wake-up lost with its worker is replaced by the sweeper
                worker_prefetch_multiplier=1,
                broker_connection_retry_on_startup=True,
                broker_transport_options={"socket_connect_timeout": 2, "visibility_timeout": 300},
                broker_connection_timeout=2,
                broker_pool_limit=4,
                worker_hijack_root_logger=False,
                worker_send_task_events=False,
            )
            _configured = settings.broker_url
    return app


class _Waker:
    """Publishes wake-ups from one daemon thread: a request only sets a flag (never blocks on Redis), and
    wake-ups that arrive while one is being sent coalesce into the next."""

    def __init__(self) -> None:
        self.flag = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.settings: Settings | None = None

    def wake(self, settings: Settings) -> None:
        self.settings = settings
        self.flag.set()
        if self.thread is None or not self.thread.is_alive():
            with self.lock:
                if self.thread is None or not self.thread.is_alive():
                    self.thread = threading.Thread(target=self._run, name="knutpunkt-waker", daemon=True)
                    self.thread.start()

    def _run(self) -> None:
        while True:
            self.flag.wait()
            self.flag.clear()
            if self.settings is not None:
                publish(self.settings)


_waker = _Waker()


def wake(settings: Settings) -> None:
    """Ask the workers to look for due rows now. Returns at once and never raises: a failed wake-up only
    delays delivery until the next sweep."""
    if settings.broker_url:
        _waker.wake(settings)


def publish(settings: Settings) -> bool:
    """Send one `knutpunkt.deliver` task (by queue name, default exchange); log instead of raising."""
    global _wake_failed_at
    if time.monotonic() - _wake_failed_at < WAKE_BACKOFF_S:
        return False
    try:
        configure(settings)
        app.send_task(TASK, queue=QUEUE, exchange="", routing_key=QUEUE, retry=False, ignore_result=True)
        return True
    except Exception as exc:
        _wake_failed_at = time.monotonic()
        log.warning("delivery wake-up not sent (%s: %s); the sweeper will pick the rows up", type(exc).__name__, exc)
        return False


def worker_hub(settings: Settings | None = None) -> Any:
    """The Hub of this worker process, built once (migrating the schema, retried while the DB starts)."""
    global _hub
    with _hub_lock:
        if _hub is None:
            from hub.settings import get_settings
            from hub.wiring import build_hub

            settings = settings or get_settings()
            for attempt in range(30):
                try:
                    _hub = build_hub(settings)
                    break
                except Exception:
                    if attempt == 29:
                        raise
                    log.warning("database not ready, retrying", exc_info=True)
                    time.sleep(1.0)
        return _hub


@app.task(name=TASK, ignore_result=True)
def deliver() -> int:
    """Claim and deliver due rows for up to TASK_BUDGET_S; wake another worker when more is due."""
    hub = worker_hub()
    start = time.monotonic()
    total = 0
    while time.monotonic() - start < TASK_BUDGET_S:
        n = hub.worker.run_once()
        total += n
        if n == 0:
            return total
    wake(hub.settings)
    return total


def sweep_forever(hub: Any, stop: threading.Event) -> None:
    """The sweeper: deliver whatever is due (expired leases, backoffs, lost wake-ups) every poll interval."""
    while not stop.is_set():
        try:
            busy = hub.worker.run_once() > 0
            if busy:
                wake(hub.settings)  # let the other workers join in on a backlog
                while not stop.is_set() and hub.worker.run_once() > 0:
                    pass
        except Exception:
            log.exception("sweeper error")
        stop.wait(hub.settings.delivery_poll_s)


def heartbeat_file() -> str:
    return os.environ.get("KNUTPUNKT_WORKER_HEARTBEAT_FILE") or os.path.join(tempfile.gettempdir(), "knutpunkt-worker.alive")


def _heartbeat(hub: Any, stop: threading.Event) -> None:
    """Touch the heartbeat file while the database answers (the container health check reads its age)."""
    from sqlalchemy import text

    path = heartbeat_file()
    while not stop.is_set():
        try:
            with hub.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            with open(path, "a"):
                os.utime(path)
        except Exception:
            log.warning("heartbeat: database unreachable", exc_info=True)
        stop.wait(5.0)


def run_worker(settings: Settings, concurrency: int = 2, beat: bool = True) -> None:
    """`knutpunkt worker`: a Celery worker (thread pool) consuming wake-ups, plus the sweeper loop."""
    logging.basicConfig(level=os.environ.get("KNUTPUNKT_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log.getEffectiveLevel() > logging.DEBUG:  # a line per request or wake-up task is too much
        for name in ("httpx", "celery.app.trace", "celery.worker.strategy"):
            logging.getLogger(name).setLevel(logging.WARNING)
    configure(settings)
    hub = worker_hub(settings)
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(hub, stop), name="knutpunkt-heartbeat", daemon=True).start()
    if beat:
        threading.Thread(target=sweep_forever, args=(hub, stop), name="knutpunkt-sweeper", daemon=True).start()
    try:
        app.worker_main([
            "worker",
            "--pool=threads",
            f"--concurrency={max(1, concurrency)}",
            f"--queues={QUEUE}",
            f"--hostname=knutpunkt-{os.getpid()}@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--loglevel={os.environ.get('KNUTPUNKT_LOG_LEVEL', 'INFO')}",
        ])
    finally:
        stop.set()


if os.environ.get("KNUTPUNKT_BROKER_URL"):  # `celery -A hub.routing.celery_app:app …` sees the same broker
    from hub.settings import get_settings

    configure(get_settings())
