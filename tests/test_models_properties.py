"""Property tests: port and CIDR parsing agree with Calico's rules on generated values."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from calico2cilium.calico.rules import EntityRule, Rule
from calico2cilium.calico.scalars import Cidr, Port, PrefixCidr, SetCidr

VALID_PORT = st.integers(min_value=1, max_value=65535)
IANA_NAME = st.from_regex(r"[a-z0-9]([a-z0-9]|-(?=[a-z0-9])){0,14}", fullmatch=True).filter(
    lambda s: len(s) <= 15 and re.search("[a-z]", s) is not None
)


def error_type(value: Any, model: type[Port] | type[Cidr] = Port) -> str:
    with pytest.raises(ValidationError) as info:
        model.parse(value)
    (error,) = info.value.errors()
    return str(error["type"])


@given(VALID_PORT)
def test_valid_port_numbers_are_accepted_as_ints_and_digit_strings(number: int) -> None:
    for value in (number, str(number), f"00{number}"):
        port = Port.parse(value)
        assert (port.min_port, port.max_port, port.name) == (number, number, None)
        assert port.as_yaml() == number


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
def test_out_of_range_port_numbers_are_rejected(number: int) -> None:
    assert error_type(number) == "invalid_port"
    if number >= 0:
        assert error_type(str(number)) == "invalid_port"


@given(VALID_PORT, VALID_PORT)
def test_port_ranges(a: int, b: int) -> None:
    text = f"{a}:{b}"
    if a <= b:
        port = Port.parse(text)
        assert (port.min_port, port.max_port) == (a, b)
        assert port.as_yaml() == (a if a == b else text)
    else:
        assert error_type(text) == "invalid_port"


@given(st.integers(min_value=0, max_value=70000), st.integers(min_value=0, max_value=70000))
def test_port_ranges_with_any_bounds(a: int, b: int) -> None:
    valid = 1 <= a <= b <= 65535
    if valid:
        Port.parse(f"{a}:{b}")
    else:
        assert error_type(f"{a}:{b}") == "invalid_port"


@given(IANA_NAME)
def test_iana_service_names_are_named_ports(name: str) -> None:
    port = Port.parse(name)
    assert port.is_named and port.name == name and port.as_yaml() == name


@given(st.text(max_size=20))
def test_any_text_is_a_number_a_range_a_name_or_invalid_port(text: str) -> None:
    digits = re.fullmatch(r"[0-9]+", text)
    span = re.fullmatch(r"([0-9]+):([0-9]+)", text)
    name = (
        re.fullmatch(r"[-a-z0-9]{1,15}", text)
        and re.search("[a-z]", text)
        and "--" not in text
        and not text.startswith("-")
        and not text.endswith("-")
    )
    if digits:
        expected = 1 <= int(text) <= 65535
    elif span:
        expected = 1 <= int(span.group(1)) <= int(span.group(2)) <= 65535
    else:
        expected = bool(name)
    if expected:
        Port.parse(text)
    else:
        assert error_type(text) == "invalid_port"


# Go reads ::ffff:a.b.c.d as IPv4, so those are refused (tested in test_models_errors.py).
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _not_mapped(address: Address) -> bool:
    return not (isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None)


def _network_not_mapped(pair: tuple[Address, int]) -> bool:
    return _not_mapped(ipaddress.ip_network(f"{pair[0]}/{pair[1]}", strict=False).network_address)


IPV6: st.SearchStrategy[Address] = st.ip_addresses(v=6).filter(_not_mapped)
NETWORKS: st.SearchStrategy[tuple[Address, int]] = st.one_of(
    st.tuples(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32)),
    st.tuples(IPV6, st.integers(min_value=0, max_value=128)).filter(_network_not_mapped),
)


@given(NETWORKS)
def test_cidrs_are_accepted_with_host_bits_masked(pair: tuple[Any, int]) -> None:
    address, prefix = pair
    text = f"{address}/{prefix}"
    for model in (Cidr, SetCidr):
        cidr = model.parse(text)
        assert cidr.network == ipaddress.ip_network(text, strict=False)
        assert cidr.text == text and cidr.as_yaml() == text
        assert cidr.has_host_bits == (address != cidr.network.network_address)


@given(st.one_of(st.ip_addresses(v=4), IPV6))
def test_bare_addresses_are_single_address_networks_except_in_ip_blocks(address: Any) -> None:
    # Felix reads a stored rule's nets with cnet.ParseCIDROrIP (a bare address is /32 or /128);
    # whether a v3 document may say so is checked per document (test_models.py). A Kubernetes
    # ipBlock has no bare form (ValidateIPBlock uses ParseCIDRSloppy).
    assert Cidr.parse(str(address)).network.num_addresses == 1
    assert Cidr.parse(str(address)).is_bare
    assert SetCidr.parse(str(address)).network.num_addresses == 1
    assert error_type(str(address), PrefixCidr) == "invalid_cidr"


@given(st.tuples(st.ip_addresses(v=4), st.integers(min_value=33, max_value=999)))
def test_prefixes_longer_than_the_address_are_rejected(pair: tuple[Any, int]) -> None:
    assert error_type(f"{pair[0]}/{pair[1]}", Cidr) == "invalid_cidr"
    assert error_type(f"{pair[0]}/{pair[1]}", PrefixCidr) == "invalid_cidr"


@given(st.text(max_size=40))
def test_any_text_is_a_cidr_or_invalid(text: str) -> None:
    try:
        expected = (
            ipaddress.ip_network(text, strict=False) if re.fullmatch(r"[0-9a-fA-F:.]+/[0-9]+", text) else None
        )
    except ValueError:
        expected = None
    if expected is None:
        assert error_type(text, PrefixCidr) == "invalid_cidr"
    else:
        assert PrefixCidr.parse(text).network == expected


@given(NETWORKS, NETWORKS)
def test_a_rule_never_mixes_ip_families(first: tuple[Any, int], second: tuple[Any, int]) -> None:
    nets = [f"{first[0]}/{first[1]}", f"{second[0]}/{second[1]}"]
    same = first[0].version == second[0].version
    if same:
        Rule.model_validate({"action": "Allow", "source": {"nets": nets}})
    else:
        with pytest.raises(ValidationError) as info:
            Rule.model_validate({"action": "Allow", "source": {"nets": nets}})
        assert [(e["type"], e["loc"]) for e in info.value.errors()] == [
            ("invalid_rule", ("source", "nets", 1))
        ]
    assert EntityRule.model_validate({"nets": nets}).nets[1].text == nets[1]
