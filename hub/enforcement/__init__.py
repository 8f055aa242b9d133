"""The consent enforcement point: loads a patient's directives from the store, asks the pure decision
engine (`hub.consent`), masks, and writes one AuditEvent per decision in the caller's transaction.

The same `Enforcer` serves REST reads and deliveries (style.md habit 7).
"""

from hub.enforcement._enforcer import NON_CLINICAL_TYPES, Decided, DecisionBatch, Enforcer, Released, release

__all__ = ["NON_CLINICAL_TYPES", "DecisionBatch", "Decided", "Enforcer", "Released", "release"]
