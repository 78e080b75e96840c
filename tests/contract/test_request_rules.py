"""The callback rule: every spelling of an address is read as a resolver would read it."""

from __future__ import annotations

import pytest

from sora_mock.contract import callback_target, callback_url_problem

PRIVATE = "callback_url must not point to a private or loopback address"

# Each spelling below names a loopback, private, link-local, shared, multicast or
# unspecified address as a URL parser or a resolver (inet_aton, WHATWG) reads it.
HIDDEN_ADDRESSES = [
    "https://2130706433/hook",  # 127.0.0.1 as one decimal number
    "https://127.1/hook",  # shortened dotted form
    "https://127.0.1/hook",
    "https://0x7f000001/hook",  # hex
    "https://0X7F.0.0.1/hook",
    "https://0x7f.1/hook",
    "https://0177.0.0.1/hook",  # octal
    "https://017700000001/hook",
    "https://0/hook",  # 0.0.0.0
    "https://0.0.0.0/hook",
    "https://127.0.0.1./hook",  # trailing dot
    "https://%31%32%37.0.0.1/hook",  # percent-encoded
    "https://127%2E0%2E0%2E1/hook",
    "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/hook",  # full-width digits
    "https://127\u30020\u30020\u30021/hook",  # ideographic full stops
    "https://evil@127.0.0.1/hook",  # userinfo
    "https://example.com@10.0.0.1/hook",
    "https://a@b@169.254.169.254/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "https://[::ffff:7f00:1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[0:0:0:0:0:ffff:169.254.169.254]/hook",
    "https://[::1]/hook",
    "https://[::]/hook",
    "https://[fe80::1%25eth0]/hook",  # link-local with a zone
    "https://[fd00::1]/hook",  # unique local
    "https://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
    "https://[2002:a00:1::]/hook",  # 6to4 around 10.0.0.1
    "https://[64:ff9b::a00:1]/hook",  # NAT64 around 10.0.0.1
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/hook",  # shared address space
    "https://224.0.0.1/hook",  # multicast
    "https://[ff02::1]/hook",
    "https://255.255.255.255/hook",
    "https://192.168.1.1/hook",
    "https://172.16.0.1/hook",
    "https://LOCALHOST/hook",
    "https://localhost./hook",
    "https://api.localhost/hook",
]


@pytest.mark.parametrize("url", HIDDEN_ADDRESSES)
def test_every_spelling_of_a_private_address_is_refused(url: str) -> None:
    assert callback_url_problem(url, allow_loopback=False) == PRIVATE


@pytest.mark.parametrize(
    "url",
    [
        "https://1.2.3.4.5/hook",  # five numbers
        "https://256.0.0.1/hook",
        "https://4294967296/hook",  # 2**32
        "https://09.0.0.1/hook",  # not octal
        "https://127.0.0.1\\@example.com/hook",  # a backslash ends the host for browsers
        "https://example.com /hook",
        "https://exa\tmple.com/hook",
        "https://[::ffff:127.1]/hook",
        "https://[1:2]/hook",
        "https://example.com:99999/hook",
        "https://example.com:+443/hook",
        "https://example..com/hook",
        "https://%zz.example.com/hook",
        "https:///hook",
        "https:example.com/hook",
        "https://example.com:443:443/hook",
    ],
)
def test_a_host_no_parser_agrees_on_is_refused(url: str) -> None:
    problem = callback_url_problem(url, allow_loopback=False)
    assert problem is not None
    assert problem.startswith("callback_url ")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "https://example.com:443/hook",
        "https://EXAMPLE.com./hook",
        "https://user:secret@example.com/hook",
        "https://93.184.216.34/hook",
        "https://1572395042/hook",  # 93.184.216.34 as one number: public, so fine
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
        "https://127.0.0.1.nip.io/hook",  # a name: the dispatcher resolves and checks it
        "https://b\u00fccher.example/hook",
    ],
)
def test_public_hosts_on_the_default_port_pass(url: str) -> None:
    assert callback_url_problem(url, allow_loopback=False) is None


@pytest.mark.parametrize(
    "url", ["https://example.com:8443/hook", "https://example.com:80/hook", "https://1.1.1.1:22/"]
)
def test_another_port_is_refused_unless_allowed(url: str) -> None:
    problem = callback_url_problem(url, allow_loopback=False)
    assert problem is not None
    assert "port 443" in problem
    port = callback_target(url, allow_loopback=False).port
    assert callback_url_problem(url, allow_loopback=False, allow_ports=(port,)) is None


def test_a_url_over_2048_characters_is_refused() -> None:
    base = "https://example.com/"
    assert callback_url_problem(base + "a" * (2048 - len(base)), allow_loopback=False) is None
    problem = callback_url_problem(base + "a" * (2049 - len(base)), allow_loopback=False)
    assert problem == "callback_url must be at most 2048 characters"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1:8443/hook",
        "http://127.1:9/hook",
        "http://localhost:9/hook",
        "http://api.localhost:9/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
    ],
)
def test_loopback_on_any_port_over_http_when_allowed(url: str) -> None:
    assert callback_url_problem(url, allow_loopback=True) is None
    assert callback_url_problem(url, allow_loopback=False) is not None


@pytest.mark.parametrize(
    "url", ["http://example.com/hook", "http://10.0.0.1/hook", "https://0/hook", "ftp://[::1]/"]
)
def test_allowing_loopback_allows_nothing_else(url: str) -> None:
    assert callback_url_problem(url, allow_loopback=True) is not None


def test_the_target_is_what_a_resolver_would_contact() -> None:
    target = callback_target("https://u@0x7F.1:443/hook?a=1", allow_loopback=True)
    assert (target.scheme, target.host, target.port, target.address) == (
        "https",
        "127.0.0.1",
        443,
        "127.0.0.1",
    )
    assert target.loopback
    named = callback_target("https://Hooks.Example.COM./x", allow_loopback=False)
    assert (named.host, named.port, named.address, named.problem) == (
        "hooks.example.com",
        443,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("127.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("fe80::1%eth0", False),
        ("not an address", False),
    ],
)
def test_a_resolved_address_is_checked_by_the_same_rule(address: str, allowed: bool) -> None:
    target = callback_target("https://hooks.example.com/x", allow_loopback=False)
    assert (target.address_problem(address) is None) is allowed


def test_a_loopback_name_must_resolve_to_loopback() -> None:
    target = callback_target("http://api.localhost:9/x", allow_loopback=True)
    assert target.address_problem("127.0.0.1") is None
    assert target.address_problem("::1") is None
    assert target.address_problem("93.184.216.34") is not None
