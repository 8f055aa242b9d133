"""Audit logging building blocks: an AuditEvent per consent decision and a hash chain over them. No I/O."""

from hub.audit._chain import GENESIS_HASH, canonical_json, chain_hash, verify_chain
from hub.audit._event import CONSENT_RULE_URL, EMERGENCY_ACCESS_URL, build_audit_event

__all__ = [
    "CONSENT_RULE_URL",
    "EMERGENCY_ACCESS_URL",
    "GENESIS_HASH",
    "build_audit_event",
    "canonical_json",
    "chain_hash",
    "verify_chain",
]
