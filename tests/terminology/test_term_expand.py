"""ValueSet $expand: filters, nesting, exclusion, paging (http://hl7.org/fhir/R4/valueset-operation-expand.html)."""

from typing import Any

import pytest
from term_helpers import ANIMALS, DYR, EX

from hub.fhir.errors import NotFound
from hub.terminology import LocalTerminologyService


def codes(expansion: dict[str, Any]) -> list[str]:
    return [c["code"] for c in expansion["expansion"].get("contains", [])]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mammals", ["mammal", "dog", "cat"]),
        ("below-animal", ["mammal", "dog", "cat", "bird", "penguin"]),
        ("no-birds", ["animal", "mammal", "dog", "cat", "plant", "tree"]),
        ("green", ["plant"]),
        ("nested", ["mammal", "dog", "cat", "hund"]),
        ("intersect", ["mammal", "dog", "cat"]),
    ],
)
def test_compose_rules(mini: LocalTerminologyService, name: str, expected: list[str]) -> None:
    out = mini.expand(EX + name)
    assert sorted(codes(out)) == sorted(expected)
    assert out["expansion"]["total"] == len(expected)
    assert out["url"] == EX + name and out["resourceType"] == "ValueSet"


def test_nested_keeps_each_system(mini: LocalTerminologyService) -> None:
    systems = {(c["system"], c["code"]) for c in mini.expand(EX + "nested")["expansion"]["contains"]}
    assert (DYR, "hund") in systems and (ANIMALS, "dog") in systems


def test_filter_on_display(mini: LocalTerminologyService) -> None:
    out = mini.expand(EX + "no-birds", filter="AN")
    assert sorted(codes(out)) == ["animal", "plant"]
    assert out["expansion"]["total"] == 2


def test_paging(mini: LocalTerminologyService) -> None:
    full = codes(mini.expand(EX + "no-birds"))
    page = mini.expand(EX + "no-birds", offset=2, count=3)
    assert codes(page) == full[2:5]
    assert page["expansion"]["total"] == 6 and page["expansion"]["offset"] == 2
    assert codes(mini.expand(EX + "no-birds", offset=10)) == []
    assert mini.expand(EX + "no-birds", count=0)["expansion"]["total"] == 6


def test_expansion_pages_are_copies(mini: LocalTerminologyService) -> None:
    first = mini.expand(EX + "mammals")
    first["expansion"]["contains"][0]["code"] = "changed"
    assert "changed" not in codes(mini.expand(EX + "mammals"))


def test_unknown_value_set(mini: LocalTerminologyService) -> None:
    with pytest.raises(NotFound):
        mini.expand(EX + "nope")


def test_not_loaded_system_is_reported_incomplete(mini: LocalTerminologyService) -> None:
    params = mini.expand(EX + "open")["expansion"]["parameter"]
    assert {"name": "incomplete-system", "valueUri": "http://example.org/cs/not-loaded"} in params


def test_implicit_value_sets(mini: LocalTerminologyService) -> None:
    assert sorted(codes(mini.expand(ANIMALS + "?fhir_vs=isa/bird"))) == ["bird", "penguin"]
    assert mini.expand(ANIMALS + "?fhir_vs")["expansion"]["total"] == 8


def test_project_reaction_value_set_excludes_allergy_findings(project: LocalTerminologyService) -> None:
    got = codes(project.expand("https://knutpunkt.se/fhir/ValueSet/allergy-reaction"))
    assert "39579001" in got and "126485001" in got
    assert "91936005" not in got and "404684003" not in got


def test_project_atc_is_a_filter(project: LocalTerminologyService) -> None:
    got = codes(project.expand("https://knutpunkt.se/fhir/ValueSet/atc-antibacterials"))
    assert {"J01", "J01C", "J01CA", "J01CA04", "J01CE02"} <= set(got)
    assert "J" not in got and "M01AE01" not in got


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"property": "concept", "op": "is-not-a", "value": "animal"}, {"plant", "tree"}),
        ({"property": "concept", "op": "generalizes", "value": "dog"}, {"dog", "mammal", "animal"}),
        ({"property": "concept", "op": "in", "value": "dog, cat,unicorn"}, {"dog", "cat"}),
        ({"property": "code", "op": "regex", "value": "p.*"}, {"plant", "penguin"}),
        ({"property": "color", "op": "exists", "value": "true"}, {"plant", "tree"}),
        ({"property": "parent", "op": "=", "value": "mammal"}, {"dog", "cat"}),
        ({"property": "concept", "op": "is-a", "value": "unicorn"}, set()),
    ],
)
def test_more_filter_operators(mini: LocalTerminologyService, flt: dict[str, str], expected: set[str]) -> None:
    mini.register({"resourceType": "ValueSet", "url": EX + "f", "status": "active",
                   "compose": {"include": [{"system": ANIMALS, "filter": [flt]}]}})
    assert set(codes(mini.expand(EX + "f"))) == expected


def test_two_filters_intersect(mini: LocalTerminologyService) -> None:
    mini.register({"resourceType": "ValueSet", "url": EX + "f2", "status": "active", "compose": {"include": [
        {"system": ANIMALS, "filter": [{"property": "concept", "op": "is-a", "value": "animal"},
                                       {"property": "concept", "op": "is-not-a", "value": "mammal"}]}]}})
    assert set(codes(mini.expand(EX + "f2"))) == {"animal", "bird", "penguin"}


def test_unsupported_filter_is_invalid(mini: LocalTerminologyService) -> None:
    from hub.fhir.errors import InvalidInput

    mini.register({"resourceType": "ValueSet", "url": EX + "f3", "status": "active", "compose": {"include": [
        {"system": ANIMALS, "filter": [{"property": "concept", "op": "child-of", "value": "animal"}]}]}})
    with pytest.raises(InvalidInput):
        mini.expand(EX + "f3")
