"""Hand-made terminology resources with known answers, shared by the terminology tests."""

from __future__ import annotations

from typing import Any

ANIMALS = "http://example.org/cs/animals"
DYR = "http://example.org/cs/dyr"
EX = "http://example.org/ValueSet/"
CM = "http://example.org/ConceptMap/"


def animals_cs() -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": "animals",
        "url": ANIMALS,
        "version": "1",
        "name": "Animals",
        "status": "active",
        "content": "complete",
        "concept": [
            {"code": "animal", "display": "Animal", "concept": [
                {"code": "mammal", "display": "Mammal", "concept": [
                    {"code": "dog", "display": "Dog", "designation": [{"language": "sv", "value": "Hund"}]},
                    {"code": "cat", "display": "Cat"},
                ]},
                {"code": "bird", "display": "Bird", "concept": [{"code": "penguin", "display": "Penguin"}]},
            ]},
            {"code": "plant", "display": "Plant", "property": [{"code": "color", "valueCode": "green"}]},
            {"code": "tree", "display": "Tree",
             "property": [{"code": "parent", "valueCode": "plant"}, {"code": "color", "valueCode": "brown"}]},
        ],
    }


def vs(name: str, include: list[dict[str, Any]], exclude: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    compose: dict[str, Any] = {"include": include}
    if exclude:
        compose["exclude"] = exclude
    return {"resourceType": "ValueSet", "id": name, "url": EX + name, "status": "active", "compose": compose}


def isa(op: str, value: str, prop: str = "concept") -> dict[str, Any]:
    return {"system": ANIMALS, "filter": [{"property": prop, "op": op, "value": value}]}


def mini_resources() -> list[dict[str, Any]]:
    return [
        animals_cs(),
        vs("mammals", [isa("is-a", "mammal")]),
        vs("below-animal", [isa("descendent-of", "animal")]),
        vs("no-birds", [{"system": ANIMALS}], [isa("is-a", "bird")]),
        vs("green", [isa("=", "green", "color")]),
        vs("nested", [{"valueSet": [EX + "mammals"]}, {"system": DYR, "concept": [{"code": "hund", "display": "Hund"}]}]),
        vs("intersect", [{"valueSet": [EX + "below-animal", EX + "no-birds"]}]),
        vs("cycle", [{"valueSet": [EX + "cycle"]}]),
        vs("dangling", [{"valueSet": [EX + "does-not-exist"]}]),
        vs("open", [{"system": "http://example.org/cs/not-loaded"}]),
        {
            "resourceType": "ConceptMap", "id": "animals-to-dyr", "url": CM + "animals-to-dyr", "status": "active",
            "targetUri": EX + "dyr",
            "group": [{
                "source": ANIMALS, "target": DYR,
                "element": [
                    {"code": "dog", "target": [{"code": "hund", "display": "Hund", "equivalence": "equivalent"}]},
                    {"code": "cat", "target": [{"code": "katt", "equivalence": "wider"}]},
                    {"code": "penguin", "target": [{"equivalence": "unmatched"}]},
                ],
                "unmapped": {"mode": "fixed", "code": "okant", "display": "Okänt djur"},
            }],
        },
        {
            "resourceType": "ConceptMap", "id": "provided", "url": CM + "provided", "status": "active",
            "group": [{"source": ANIMALS, "target": DYR, "element": [], "unmapped": {"mode": "provided"}}],
        },
        {
            "resourceType": "ConceptMap", "id": "other", "url": CM + "other", "status": "active",
            "group": [{"source": ANIMALS, "target": DYR,
                       "element": [{"code": "bird", "target": [{"code": "fagel", "equivalence": "equal"}]}],
                       "unmapped": {"mode": "other-map", "url": CM + "animals-to-dyr"}}],
        },
        {
            "resourceType": "ConceptMap", "id": "text", "url": CM + "text", "status": "active",
            "group": [{"target": DYR, "element": [
                {"code": "Hund", "target": [{"code": "hund", "equivalence": "equal"}]}]}],
        },
    ]
