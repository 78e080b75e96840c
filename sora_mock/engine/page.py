"""The live page at ``/__mock/``: a plain HTML page and its script and style, shipped with
the package, that read and drive the admin API from the browser (same origin)."""

from __future__ import annotations

from sora_mock.contract import LIVE_PAGE_FILES, Response, live_page_file

#: No source outside the mock's own origin, no inline script or style, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
#: The page's own path (``/__mock/``) serves its HTML.
_INDEX = "index.html"


def page_file(name: str) -> Response | None:
    """The page's file ``name`` (``""`` for the page itself), or None when it has none."""
    name = name or _INDEX
    if name not in LIVE_PAGE_FILES:
        return None
    media_type = _MEDIA_TYPES[name[name.rindex(".") :]]
    headers = (
        ("content-type", media_type),
        ("cache-control", "no-store"),
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    )
    return Response(200, headers, live_page_file(name))
