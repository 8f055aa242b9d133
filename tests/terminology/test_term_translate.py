"""ConceptMap $translate: equivalences and unmapped modes (http://hl7.org/fhir/R4/conceptmap-operation-translate.html)."""

import pytest
from term_helpers import ANIMALS, CM, DYR

from hub.fhir.errors import NotFound
from hub.terminology import LocalTerminologyService


def one(mini: LocalTerminologyService, code: str, url: str = CM + "animals-to-dyr") -> tuple[str, str | None]:
    (m,) = mini.translate(ANIMALS, code, url)
    return m.equivalence, m.code


def test_equivalences(mini: LocalTerminologyService) -> None:
    assert one(mini, "dog") == ("equivalent", "hund")
    assert one(mini, "cat") == ("wider", "katt")


def test_unmatched_carries_no_concept(mini: LocalTerminologyService) -> None:
    assert one(mini, "penguin") == ("unmatched", None)


def test_unmapped_fixed(mini: LocalTerminologyService) -> None:
    (m,) = mini.translate(ANIMALS, "bird", CM + "animals-to-dyr")
    assert (m.code, m.system, m.display) == ("okant", DYR, "Okänt djur")


def test_unmapped_provided(mini: LocalTerminologyService) -> None:
    (m,) = mini.translate(ANIMALS, "tree", CM + "provided")
    assert (m.equivalence, m.system, m.code) == ("equal", DYR, "tree")


def test_unmapped_other_map(mini: LocalTerminologyService) -> None:
    assert one(mini, "bird", CM + "other") == ("equal", "fagel")
    (m,) = mini.translate(ANIMALS, "dog", CM + "other")
    assert (m.code, m.source) == ("hund", CM + "animals-to-dyr")


def test_without_url_every_map_for_the_system_answers(mini: LocalTerminologyService) -> None:
    got = {(m.source, m.code) for m in mini.translate(ANIMALS, "dog")}
    assert (CM + "animals-to-dyr", "hund") in got and (CM + "provided", "dog") in got


def test_target_system_filter(mini: LocalTerminologyService) -> None:
    assert mini.translate(ANIMALS, "dog", target_system="http://example.org/other") == []


def test_free_text_without_system(mini: LocalTerminologyService) -> None:
    (m,) = mini.translate(None, " hund ", CM + "text")
    assert m.code == "hund"
    assert mini.translate(ANIMALS, "Hund", CM + "text") == []


def test_unknown_map(mini: LocalTerminologyService) -> None:
    with pytest.raises(NotFound):
        mini.translate(ANIMALS, "dog", CM + "nope")
