"""GS1 link types and RFC 9264 linksets as the GS1-Conformant Resolver standard (1.x) serves them (pure).

A resolver answers a Digital Link with a redirect to the link of the asked type (`?linkType=gs1:pip`), with the
whole linkset (`?linkType=linkset`, or `Accept: application/linkset+json`), or with its default link. Link types are
written as full URIs in a linkset (GS1's linkset JSON schema admits only URIs or registered lower-case relation
names as keys) and may be asked for as a CURIE (`gs1:pip`) or any of the three GS1 vocabulary namespaces.
"""

from __future__ import annotations

VOC = "https://ref.gs1.org/voc/"
# The namespaces GS1 has published its vocabulary under; all name the same link types.
_NAMESPACES = ("https://ref.gs1.org/voc/", "https://gs1.org/voc/", "http://gs1.org/voc/", "https://www.gs1.org/voc/",
               "http://www.gs1.org/voc/", "gs1:")
# linkType values that ask for the linkset itself ("all" is the form deprecated by resolver standard 1.0).
LINKSET_WORDS = frozenset({"linkset", "all"})
MEDIA_TYPE = "application/linkset+json"
# The JSON-LD context GS1 publishes for linksets (linked from a linkset answer, as the standard recommends).
CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
JSON_LD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"


def link_type(value: str | None) -> str | None:
    """Return the short name of a GS1 link type given as a CURIE or URI (``gs1:pip`` -> ``pip``), else None.

    Args:
        value: the linkType parameter as received (already percent-decoded).

    Returns:
        The name after the namespace, or None when ``value`` is in no GS1 namespace or names nothing.
    """
    if not value:
        return None
    for ns in _NAMESPACES:
        if value.startswith(ns):
            name = value[len(ns):]
            return name if name and name.replace("_", "").isalnum() else None
    return None


def uri(name: str) -> str:
    """Return the link type ``name`` as the URI a linkset keys it by (``pip`` -> ``https://ref.gs1.org/voc/pip``)."""
    return VOC + name


def link(href: str, title: str, media_type: str | None = None, hreflang: list[str] | None = None) -> dict:
    """Return one target object of a linkset (href and title required by GS1's schema; type and hreflang optional)."""
    out: dict = {"href": href, "title": title}
    if media_type:
        out["type"] = media_type
    if hreflang:
        out["hreflang"] = list(hreflang)
    return out


def linkset(anchor: str, description: str, links: dict[str, list[dict]]) -> dict:
    """Return an RFC 9264 JSON linkset of one anchor.

    Args:
        anchor: the Digital Link URI the links are about (scheme, host and path, no query).
        description: a human-readable description of the identified thing (itemDescription).
        links: target objects by short link type name (``defaultLink``, ``pip``, ...), in the order to list them.

    Returns:
        ``{"linkset": [{"anchor": ..., "itemDescription": ..., "https://ref.gs1.org/voc/pip": [...], ...}]}``.
    """
    entry: dict = {"anchor": anchor, "itemDescription": description}
    for name, targets in links.items():
        if targets:
            entry[uri(name)] = targets
    return {"linkset": [entry]}


def linkset_link_header(anchor: str) -> str:
    """Return the `Link` header value that points at the linkset of ``anchor`` (rel="linkset")."""
    return f'<{anchor}?linkType=linkset>; rel="linkset"; type="{MEDIA_TYPE}"'


def context_link_header() -> str:
    """Return the `Link` header value naming the linkset's JSON-LD context."""
    return f'<{CONTEXT}>; rel="{JSON_LD_CONTEXT_REL}"; type="application/ld+json"'
