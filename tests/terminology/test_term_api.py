"""The package's public names, the default service and the bench figures' shape."""

import hub.terminology
from hub.terminology import NullTerminologyService, TerminologyService, default_service
from hub.terminology._bench import generated_codesystem, run_bench


def test_public_api_is_pinned() -> None:
    assert hub.terminology.__all__ == [
        "LocalTerminologyService",
        "LookupResult",
        "NullTerminologyService",
        "TerminologyService",
        "TranslateMatch",
        "ValidateCodeResult",
        "build_local_service",
        "default_service",
    ]


def test_default_service_is_cached_and_loaded() -> None:
    svc = default_service()
    assert svc is default_service()
    assert svc.oid_to_uri("1.2.752.129.2.2.3.1.1") == "http://www.whocc.no/atc"
    assert svc.has_valueset("http://hl7.org/fhir/ValueSet/allergy-intolerance-category")


def test_implementations_satisfy_the_protocol() -> None:
    local: TerminologyService = default_service()
    null: TerminologyService = NullTerminologyService()
    assert local.uri_to_oid("http://snomed.info/sct") == "1.2.752.116.2.1.1"
    assert null.oid_to_uri("1.2.3") == "urn:oid:1.2.3" and not null.has_valueset("x")


def test_generated_codesystem_is_a_ten_ary_tree() -> None:
    cs = generated_codesystem(25)
    assert len(cs["concept"]) == 25
    assert cs["concept"][11]["property"] == [{"code": "parent", "valueCode": "C1"}]


def test_bench_reports_the_three_figures() -> None:
    figures = {name: (value, unit) for name, value, unit in run_bench(quick=True)}
    assert {"validate_code_per_s", "expand_50k_ms", "codesystem_50k_mb"} <= figures.keys()
    assert all(value > 0 for value, _ in figures.values())
