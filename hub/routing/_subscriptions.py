"""Active rest-hook Subscriptions as routes (contract.md: Routing), cached per process.

The cache is keyed by a generation counter in `hub_state` that every Subscription write bumps in the same
transaction, so every process (API replicas, workers) sees a change on its next write or delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from hub.consent import Requester
from hub.fhir.errors import Issue, Unprocessable
from hub.store import SearchQuery, Store, matches, parse_criteria_string, parse_query

PURPOSE_URL = "https://knutpunkt.se/fhir/StructureDefinition/subscription-purpose"
RECIPIENT_URL = "https://knutpunkt.se/fhir/StructureDefinition/subscription-recipient"
GENERATION_KEY = "subscriptions.generation"
_CHECKED = "knutpunkt.routes_checked"
HSA_SYSTEM = "urn:oid:1.2.752.29.4.19"


@dataclass(frozen=True)
class Route:
    id: str
    endpoint: str
    query: SearchQuery
    purpose: str | None
    recipient_ref: str | None
    headers: tuple[tuple[str, str], ...]
    status: str

    def matches(self, resource: dict[str, Any]) -> bool:
        return matches(self.query, resource)


def check_subscription(resource: dict[str, Any]) -> list[Issue]:
    """Rules the hub needs before it accepts a Subscription as a route (beyond profile validation)."""
    issues: list[Issue] = []
    channel = resource.get("channel") or {}
    if channel.get("type") != "rest-hook":
        issues.append(Issue("error", "not-supported", "only channel.type rest-hook is supported", ("Subscription.channel.type",)))
    endpoint = channel.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        issues.append(Issue("error", "required", "channel.endpoint must be an http(s) URL", ("Subscription.channel.endpoint",)))
    criteria = resource.get("criteria")
    if not isinstance(criteria, str):
        issues.append(Issue("error", "required", "criteria is required", ("Subscription.criteria",)))
    else:
        try:
            parse_criteria_string(criteria)
        except Exception as exc:  # InvalidInput with issues
            for i in getattr(exc, "issues", []):
                issues.append(Issue("error", i.code, i.diagnostics, ("Subscription.criteria",)))
    return issues


def _extension(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    for ext in resource.get("extension", []) or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext
    return None


def route_of(resource: dict[str, Any]) -> Route | None:
    if check_subscription(resource):
        return None
    purpose_ext = _extension(resource, PURPOSE_URL) or {}
    recipient_ext = _extension(resource, RECIPIENT_URL) or {}
    channel = resource["channel"]
    headers = []
    for h in channel.get("header", []) or []:
        name, _, value = str(h).partition(":")
        if name and value:
            headers.append((name.strip(), value.strip()))
    return Route(
        id=resource["id"],
        endpoint=channel["endpoint"].rstrip("/"),
        query=parse_criteria_string(resource["criteria"]),
        purpose=(purpose_ext.get("valueCoding") or {}).get("code"),
        recipient_ref=(recipient_ext.get("valueReference") or {}).get("reference"),
        headers=tuple(headers),
        status=resource.get("status", ""),
    )


class RouteTable:
    """Per-process cache of active routes, refreshed when the generation counter moves."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._generation: str | None = "\x00unloaded"  # never a stored value: the first call loads
        self._routes: dict[str, Route] = {}

    def bump(self, s: Session) -> None:
        """Move the generation marker (a fresh random value: concurrent bumps never meet on one value)."""
        self.store.touch(s, GENERATION_KEY)
        s.info.pop(_CHECKED, None)

    def active(self, s: Session) -> list[Route]:
        """Active routes, checked against the generation marker once per transaction."""
        if s.info.get(_CHECKED) is not self:
            (generation,) = self.store.generations(s, [GENERATION_KEY])
            if generation != self._generation:
                routes: dict[str, Route] = {}
                for st in self.store.search(s, parse_query("Subscription", [("status", "active,error"), ("_count", "1000")])):
                    route = route_of(st.resource)
                    if route is not None:
                        routes[route.id] = route
                self._routes = routes
                self._generation = generation
            s.info[_CHECKED] = self
        return list(self._routes.values())

    def get(self, s: Session, sub_id: str) -> Route | None:
        self.active(s)
        return self._routes.get(sub_id)


def requester_for(store: Store, s: Session, route: Route) -> Requester:
    """The requester of a route's deliveries: its recipient Organization and purpose (domain.md §5)."""
    org_ids: set[tuple[str, str]] = set()
    care_unit = care_giver = None
    if route.recipient_ref and route.recipient_ref.startswith("Organization/"):
        org = store.read_optional(s, "Organization", route.recipient_ref.split("/", 1)[1])
        if org is None:
            raise Unprocessable(f"recipient {route.recipient_ref} not found")
        for ident in org.resource.get("identifier", []) or []:
            if ident.get("system") and ident.get("value"):
                org_ids.add((ident["system"], ident["value"]))
        hsa = next((v for sys, v in org_ids if sys == HSA_SYSTEM), None)
        if route.purpose != "HQUALIMP" and hsa:
            care_unit = hsa
            parent = (org.resource.get("partOf") or {}).get("reference")
            if parent and parent.startswith("Organization/"):
                porg = store.read_optional(s, "Organization", parent.split("/", 1)[1])
                if porg is not None:
                    care_giver = next((i.get("value") for i in porg.resource.get("identifier", []) if i.get("system") == HSA_SYSTEM), None)
    return Requester(
        care_giver=care_giver,
        care_unit=care_unit,
        practitioner=None,
        purpose=route.purpose or "UNKNOWN",
        organization=frozenset(org_ids),
    )
