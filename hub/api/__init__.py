"""HTTP API: the FastAPI app factory, FHIR routes, operations, auth dependency and web pages."""

from hub.api._app import create_app

__all__ = ["create_app"]
