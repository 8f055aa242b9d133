"""The adapter registry (contract.md adapter names)."""

import pytest

import adapters
from adapters import Adapter, adapter_names, get_adapter
from hub.fhir.errors import InvalidInput


def test_contract_names_are_registered() -> None:
    assert {"rivta-alert", "hl7v2", "fhir"} <= set(adapter_names())
    assert adapter_names() == sorted(adapter_names())


@pytest.mark.parametrize("name", ["rivta-alert", "hl7v2", "fhir"])
def test_each_adapter_has_its_name(name: str) -> None:
    adapter = get_adapter(name)
    assert isinstance(adapter, Adapter)
    assert adapter.name == name


def test_unknown_name_is_invalid_input_and_key_error() -> None:
    with pytest.raises(InvalidInput) as exc:
        get_adapter("cda")
    assert isinstance(exc.value, KeyError)
    assert str(exc.value).startswith("unknown adapter 'cda'")
    assert exc.value.status == 400
    assert "rivta-alert" in exc.value.issues[0].diagnostics


def test_public_api_is_pinned() -> None:
    assert adapters.__all__ == ["Adapter", "UnknownAdapter", "adapter_names", "get_adapter"]


def test_rivta_public_api_is_pinned() -> None:
    import adapters.rivta_alert as rivta

    assert rivta.__all__ == ["DOCUMENT_SYSTEM", "RivtaAlertAdapter", "adapter", "convert_response"]
