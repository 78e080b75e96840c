"""Request rules JSON Schema cannot express (the ``x-sora-mock`` field rules): each returns
why a value breaks the rule, or None when it keeps it; and whether an authority is loopback
(:func:`loopback_authority`, the admin API's guard), read as the callback rule reads hosts.

``span`` (a ``start,end`` value with ``0 < end - start <= max``) and ``callback`` (a URL the
mock may POST to: HTTPS on a public host, the default port). Each rule is a pure function of
its strings (no name is resolved), so answers are cached: clients send the same few values
again and again.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

# The same whitespace as the spec's pattern, spelled out: Python's ``\s`` also matches
# U+001C-U+001F, which the server's compiled (Rust) validator does not.
_SPACE = r"[ \t\r\n]*"
_SPAN = re.compile(rf"{_SPACE}([0-9]+(?:\.[0-9]+)?){_SPACE},{_SPACE}([0-9]+(?:\.[0-9]+)?){_SPACE}")


# The rules are pure functions of one value, cached: the engine checks every create, and a
# client's creates repeat their values (retries, the same clip, the same span).
@functools.lru_cache(maxsize=1024)
def span_problem(value: str, max_span: float) -> str | None:
    """Why ``value`` is not ``start,end`` with ``0 < end - start <= max_span``, or None."""
    found = _SPAN.fullmatch(value)
    if found is None:
        return f"expected 'start,end' in seconds, got {value!r}"
    start, end = float(found.group(1)), float(found.group(2))
    if end <= start:
        return f"end ({found.group(2)}) must be after start"
    if end - start > max_span:
        return f"the span {end - start:g}s exceeds {max_span:g} seconds"
    return None


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The vendor's limit on a callback URL, in characters.
MAX_CALLBACK_URL = 2048
DEFAULT_PORTS = {"https": 443, "http": 80}

_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)", re.DOTALL)
# A label that makes a host an IPv4 address to a resolver (inet_aton) and to the WHATWG URL
# parser: the host's last label is a number; every label must then be one of these.
_NUMBER_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_IPV4_LABEL = re.compile(r"0x(?P<hex>[0-9a-f]*)|0(?P<octal>[0-7]*)|(?P<decimal>[1-9][0-9]*)")
_NOT_IN_HOST = frozenset(" #%/:<>?@[\\]^|\x7f")
# Full stops that IDNA (UTS 46) maps to ".".
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


@dataclass(frozen=True, slots=True)
class CallbackTarget:
    """Where a callback URL leads, read as a URL parser and a resolver read it.

    ``host`` is the normalised host: an IP address in canonical form (then ``address`` holds
    it too) or a lowercase ASCII name (``address`` is None: whoever delivers resolves the
    name and checks every address with :meth:`address_problem`). ``port`` is the port
    connected to (the scheme's default when the URL names none). ``loopback``: the URL
    names a loopback address or a ``localhost`` name. ``problem`` says why the URL may not
    receive callbacks, or is None.
    """

    url: str
    field: str
    scheme: str
    host: str
    port: int
    address: str | None
    loopback: bool
    allow_loopback: bool
    problem: str | None

    @property
    def authority(self) -> str:
        """``host[:port]`` as a ``Host`` header names the target (the port unless default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS.get(self.scheme) else f"{host}:{self.port}"

    def address_problem(self, address: str) -> str | None:
        """Why a connection to ``address`` (one the host resolved to) must not be made."""
        try:
            found: IPAddress = ipaddress.ip_address(address)
        except ValueError:
            return f"{self.field} resolves to {address!r}, which is not an IP address"
        reach = _reach(found)
        if reach == "loopback":
            return None if self.allow_loopback else _private(self.field)
        if reach == "private":
            return _private(self.field)
        if self.loopback:
            return f"{self.field} names a loopback host but resolves to {found}"
        return None


@dataclass(frozen=True, slots=True)
class _Split:
    """A URL's scheme, host and port (None: the default), or why it is not a valid URL."""

    scheme: str = ""
    host: str = ""
    port: int | None = None
    address: IPAddress | None = None
    problem: str | None = None


def callback_url_problem(
    url: str, field: str = "callback_url", *, allow_loopback: bool, allow_ports: Iterable[int] = ()
) -> str | None:
    """Why ``url`` (the request's ``field``) cannot receive callbacks, or None.

    The vendor's rule: HTTPS, a public host, at most 2,048 characters; the mock also
    wants the default port (443) unless ``allow_ports`` names the one used. Every spelling
    of an IP address a resolver accepts is read as that address (``https://127.1``,
    ``https://0x7f000001``, ``https://2130706433``, ``https://[::ffff:127.0.0.1]``, a trailing
    dot, percent-encoding, full-width digits). With ``allow_loopback`` a loopback receiver
    (``127.0.0.0/8``, ``::1``, ``localhost``) is allowed on any port, over plain HTTP too,
    because a test's receiver lives there. No name is resolved here: see
    :meth:`CallbackTarget.address_problem`.
    """
    return callback_target(
        url, field, allow_loopback=allow_loopback, allow_ports=allow_ports
    ).problem


def callback_target(
    url: str, field: str = "callback_url", *, allow_loopback: bool, allow_ports: Iterable[int] = ()
) -> CallbackTarget:
    """Where ``url`` leads and whether it may receive callbacks (see
    :func:`callback_url_problem`)."""
    return _target(url, field, allow_loopback, frozenset(allow_ports))


# Cached: the engine checks every create, and a client's creates repeat their callback URL.
@functools.lru_cache(maxsize=1024)
def _target(
    url: str, field: str, allow_loopback: bool, allow_ports: frozenset[int]
) -> CallbackTarget:
    split = (
        _Split(problem=f"{field} must be at most {MAX_CALLBACK_URL} characters")
        if len(url) > MAX_CALLBACK_URL
        else _split(url, field)
    )
    port = split.port or DEFAULT_PORTS.get(split.scheme, 0)
    if split.address is not None:
        loopback = _reach(split.address) == "loopback"
        public = _reach(split.address) == "public"
    else:
        loopback = split.host in _LOOPBACK_NAMES or split.host.endswith(".localhost")
        public = not loopback
    refusal = _Refusal(field, loopback, public, allow_loopback, allow_ports)
    problem = split.problem or refusal.problem(split.host, split.scheme, port)
    return CallbackTarget(
        url=url,
        field=field,
        scheme=split.scheme,
        host=split.host,
        port=port,
        address=None if split.address is None else str(split.address),
        loopback=loopback,
        allow_loopback=allow_loopback,
        problem=problem,
    )


@dataclass(frozen=True, slots=True)
class _Refusal:
    """What decides whether a well-formed URL may receive callbacks."""

    field: str
    loopback: bool
    public: bool
    allow_loopback: bool
    allow_ports: frozenset[int]

    def problem(self, host: str, scheme: str, port: int) -> str | None:
        field = self.field
        if not host:
            return f"{field} must name a host"
        if self.loopback and self.allow_loopback:
            return None if scheme in DEFAULT_PORTS else f"{field} must be http(s)"
        if scheme != "https":
            return f"{field} must use HTTPS"
        if not self.public:
            return _private(field)
        if port != DEFAULT_PORTS["https"] and port not in self.allow_ports:
            others = "".join(f", {allowed}" for allowed in sorted(self.allow_ports))
            return f"{field} must use port 443{others}, not {port}"
        return None


def loopback_authority(authority: str) -> bool:
    """True when ``host[:port]`` (a ``Host`` header, an origin's authority; IPv6 bracketed)
    names this machine: a loopback name (``localhost``, no trailing dot) or any spelling of
    a loopback address, IPv4-mapped IPv6 ones included (``[::ffff:127.0.0.1]``)."""
    text = authority.strip()
    if not text or any(char in "@/?#" for char in text):
        return False
    if (text if text.startswith("[") else text.partition(":")[0]).endswith("."):
        return False  # a name with its root dot is looked up as written, not as loopback
    split = _split(f"http://{text}", "host")
    if split.problem is not None:
        return False
    if split.address is None:
        return split.host in _LOOPBACK_NAMES
    return _reach(split.address) == "loopback"


def loopback_host(host: str) -> bool:
    """:func:`loopback_authority` of a bare host (a name, or an IP address unbracketed)."""
    return loopback_authority(f"[{host}]" if ":" in host else host)


def _split(url: str, field: str) -> _Split:
    invalid = _Split(problem=f"{field} is not a valid URL")
    # Parsers disagree about these (WHATWG drops tabs and reads "\" as "/"): refuse them.
    if any(char <= " " or char in "\\\x7f" for char in url):
        return invalid
    found = _URL.fullmatch(url)
    if found is None:
        return invalid
    scheme = found.group(1).lower()
    hostport = found.group(2).rpartition("@")[2]  # the last "@" ends the userinfo
    if hostport.startswith("["):
        inside, bracket, rest = hostport[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return invalid
        host, address, port = inside, _ipv6(inside), rest[1:]
        if address is None:
            return invalid
    else:
        raw, _, port = hostport.partition(":")
        named = _name(raw)
        if named is None:
            return invalid
        host, address = named
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        return invalid
    if address is not None:
        host = str(address)
    return _Split(scheme, host, int(port) if port else None, address)


def _ipv6(text: str) -> IPAddress | None:
    try:
        return ipaddress.IPv6Address(unquote(text, errors="strict"))
    except (ValueError, UnicodeDecodeError):
        return None


def _name(raw: str) -> tuple[str, IPAddress | None] | None:
    """A host as a resolver reads it: a name, or the IPv4 address it spells; None if invalid."""
    try:
        text = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    text = unicodedata.normalize("NFKC", text).translate(_DOTS).lower()
    if any(char < " " or char in _NOT_IN_HOST for char in text):
        return None
    text = text.removesuffix(".")
    if not text:
        return "", None
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None
    labels = text.split(".")
    if "" in labels:
        return None
    if _NUMBER_LABEL.fullmatch(labels[-1]) is None:
        return text, None
    address = _ipv4(labels)
    return None if address is None else (str(address), address)


def _ipv4(labels: list[str]) -> ipaddress.IPv4Address | None:
    """The address of ``a[.b[.c[.d]]]`` (each decimal, 0-octal or 0x-hex), as inet_aton reads
    it: the last number fills the remaining bytes."""
    numbers = []
    for label in labels:
        found = _IPV4_LABEL.fullmatch(label)
        if found is None:
            return None
        if found.group("hex") is not None:
            numbers.append(int(found.group("hex") or "0", 16))
        elif found.group("octal") is not None:
            numbers.append(int(found.group("octal") or "0", 8))
        else:
            numbers.append(int(found.group("decimal")))
    *leading, last = numbers
    if len(numbers) > 4 or any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for position, number in enumerate(leading):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def _reach(address: IPAddress) -> str:
    """``loopback``, ``public``, or ``private`` (any address not globally reachable)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _reach(address.ipv4_mapped)
        inner = [address.sixtofour, *(address.teredo or ())]
        if any(_reach(found) != "public" for found in inner if found is not None):
            return "private"
    if address.is_loopback:
        return "loopback"
    closed = (
        address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )
    return "public" if address.is_global and not closed else "private"


def _private(field: str) -> str:
    return f"{field} must not point to a private or loopback address"
