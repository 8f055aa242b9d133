"""The one place that picks concrete implementations from settings (style.md: wiring)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from hub.auth import TokenService
from hub.enforcement import Enforcer
from hub.routing import DeliveryWorker, Outbox, RouteTable
from hub.settings import Settings, get_settings
from hub.store import Store, make_engine, migrate


@dataclass
class Hub:
    settings: Settings
    store: Store
    tokens: TokenService
    routes: RouteTable
    outbox: Outbox
    enforcer: Enforcer
    worker: DeliveryWorker
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start_inprocess_worker(self) -> None:
        """Deliveries in a background thread of this process (the embedded default, no broker)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self.worker.run_forever, args=(self._stop,), name="knutpunkt-delivery", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake(self) -> None:
        """Nudge the delivery machinery after a commit (a broker message when Celery is used)."""
        self.worker.nudge()
        if self.settings.broker_url:
            from hub.routing.celery_app import wake

            wake(self.settings)


def build_hub(settings: Settings | None = None, *, migrate_schema: bool = True) -> Hub:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    if migrate_schema:
        migrate(engine)
    store = Store(engine)
    routes = RouteTable(store)
    outbox = Outbox(store, routes)
    store.add_listener(outbox.on_change)
    enforcer = Enforcer(store)
    worker = DeliveryWorker(store, routes, enforcer, settings)
    tokens = TokenService(settings.key_file, settings.token_issuer, settings.token_lifetime_s)
    return Hub(settings, store, tokens, routes, outbox, enforcer, worker)
