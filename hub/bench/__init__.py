"""Benchmarks of the whole pipeline (adapter, store, outbox, delivery, start-up)."""
