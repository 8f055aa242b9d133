"""CodeSystem lookup and hierarchy (http://hl7.org/fhir/R4/codesystem-operation-lookup.html)."""

from term_helpers import ANIMALS

from hub.terminology import LocalTerminologyService


def test_lookup_returns_display_designations_and_hierarchy(mini: LocalTerminologyService) -> None:
    r = mini.lookup(ANIMALS, "dog")
    assert r is not None
    assert (r.display, r.version) == ("Dog", "1")
    assert ("sv", "Hund") in r.designations
    assert ("parent", "mammal") in r.properties


def test_lookup_lists_children_and_custom_properties(mini: LocalTerminologyService) -> None:
    r = mini.lookup(ANIMALS, "plant")
    assert r is not None
    assert ("child", "tree") in r.properties and ("color", "green") in r.properties


def test_lookup_unknown_code_or_system_is_none(mini: LocalTerminologyService) -> None:
    assert mini.lookup(ANIMALS, "unicorn") is None
    assert mini.lookup("http://example.org/nothing", "dog") is None


def test_lookup_with_version(mini: LocalTerminologyService) -> None:
    assert mini.lookup(ANIMALS, "dog", "1") is not None
    assert mini.lookup(ANIMALS, "dog", "2") is None


def test_subsumes(mini: LocalTerminologyService) -> None:
    assert mini.subsumes(ANIMALS, "animal", "penguin") is True
    assert mini.subsumes(ANIMALS, "mammal", "penguin") is False
    assert mini.subsumes(ANIMALS, "animal", "unicorn") is None


def test_fragments_of_one_system_merge(mini: LocalTerminologyService) -> None:
    mini.register({"resourceType": "CodeSystem", "url": ANIMALS, "version": "extra", "content": "fragment",
                   "concept": [{"code": "puppy", "display": "Puppy", "property": [{"code": "parent", "valueCode": "dog"}]}]})
    assert mini.lookup(ANIMALS, "puppy") is not None and mini.lookup(ANIMALS, "cat") is not None
    assert mini.subsumes(ANIMALS, "mammal", "puppy") is True
    assert mini.lookup(ANIMALS, "puppy", "1") is None


def test_project_snomed_subset_has_swedish_severities(project: LocalTerminologyService) -> None:
    sct = "http://snomed.info/sct"
    assert project.lookup(sct, "442452003").display == "Livshotande"  # type: ignore[union-attr]
    assert project.lookup(sct, "59021000052107").display == "Skadlig"  # type: ignore[union-attr]
    assert project.lookup(sct, "59031000052109").display == "Besvärande"  # type: ignore[union-attr]
    assert project.subsumes(sct, "105590001", "373568007") is True  # klorhexidin is a substance
    assert project.subsumes(sct, "105590001", "111088007") is True  # latex


def test_project_atc_hierarchy(project: LocalTerminologyService) -> None:
    atc = "http://www.whocc.no/atc"
    for ancestor in ("J", "J01", "J01C", "J01CA"):
        assert project.subsumes(atc, ancestor, "J01CA04") is True
    assert project.subsumes(atc, "J01CA", "J01CE02") is False
    assert project.lookup(atc, "J01CE02").display == "phenoxymethylpenicillin"  # type: ignore[union-attr]
