"""Runnable helpers that ship with the hub: the demo registry receiver."""
