"""Knutpunkt: a FHIR R4 interoperability hub for Swedish healthcare."""

__version__ = "0.1.0"
