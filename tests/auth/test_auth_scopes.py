"""SMART v2 scopes (https://build.fhir.org/ig/HL7/smart-app-launch/scopes-and-launch-context.html) and v1 forms."""

from __future__ import annotations

import pytest

from hub.auth import allows


@pytest.mark.parametrize(
    "scope,rtype,granted",
    [
        ("system/AllergyIntolerance.rs", "AllergyIntolerance", "rs"),
        ("system/AllergyIntolerance.cruds", "AllergyIntolerance", "cruds"),
        ("system/AllergyIntolerance.cud", "AllergyIntolerance", "cud"),
        ("system/*.rs", "Patient", "rs"),
        ("system/*.cruds", "Consent", "cruds"),
        ("system/AllergyIntolerance.rs", "Patient", ""),
        ("system/Patient.read", "Patient", "rs"),
        ("system/Patient.write", "Patient", "cud"),
        ("system/Patient.*", "Patient", "cruds"),
        ("system/*.*", "Flag", "cruds"),
        ("user/Patient.rs", "Patient", "rs"),
        ("patient/Patient.rs", "Patient", ""),  # no patient launch context in the hub: fail closed
        ("system/Patient.rs?category=x", "Patient", ""),  # granular scopes are not enforced: grant nothing
        ("launch/Patient.rs", "Patient", ""),
        ("openid", "Patient", ""),
        ("fhirUser", "Patient", ""),
        ("system/Patient", "Patient", ""),
        ("system/Patient.", "Patient", ""),
        ("system/.rs", "Patient", ""),
        ("system/Patient.xyz", "Patient", ""),
        ("", "Patient", ""),
    ],
)
def test_allows(scope, rtype, granted):
    for action in "cruds":
        assert allows((scope,), rtype, action) is (action in granted), (scope, action)


def test_any_of_several_scopes_grants():
    scopes = ("system/Patient.r", "system/AllergyIntolerance.s", "openid")
    assert allows(scopes, "Patient", "r")
    assert allows(scopes, "AllergyIntolerance", "s")
    assert not allows(scopes, "AllergyIntolerance", "r")
    assert not allows(scopes, "Patient", "s")
    assert not allows((), "Patient", "r")


def test_system_wide_actions_need_a_wildcard_scope():
    """System history asks for type `*`: only a `*` scope covers every type."""
    assert allows(("system/*.rs",), "*", "r")
    assert not allows(("system/Patient.rs", "system/AllergyIntolerance.rs"), "*", "r")
