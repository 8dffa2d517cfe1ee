"""The EPCIS XML binding over HTTP: XML capture bodies in, XML query documents out (docs/epcis-xml.md).

An XML document is read into the EPCIS 2.0 JSON document (gs1/epcis_xml.py) and then takes the one capture path
(app/capture.py -> graph/events.py) with the same checks, ownership rules and audit as JSON. Errors keep the one
JSON error shape.
"""

from __future__ import annotations

from flask import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import ApiError
from gs1.epcis_xml import CBV_FORMATS, XML_MEDIA_TYPES, InvalidXML, parse_xml_document, render_query_document
from gs1.errors import InvalidEvent

_JSON_TYPES = ("application/json", "application/ld+json")


def is_xml_body() -> bool:
    """Whether the request sends its body as XML (application/xml or text/xml)."""
    return request.mimetype in XML_MEDIA_TYPES


def xml_capture_document() -> dict:
    """The request's EPCIS XML document (2.0 or 1.x) as the EPCIS 2.0 JSON document capture takes.

    Raises:
        ApiError: 413 beyond MAX_CONTENT_LENGTH; 400 for malformed or hostile XML or a document that is not EPCIS.
    """
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ApiError(413, f"the body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes "
                            "(GS1-EPCIS-Capture-File-Size-Limit): split the document") from None
    if not data:
        raise ApiError(400, "the body is empty: send an EPCISDocument", errors={"xml": {"(body)": ["empty"]}})
    # At most ~40 elements per event on average before the event count itself is checked (413 past the limit).
    max_elements = 40 * int(current_app.config["CAPTURE_MAX_EVENTS"]) + 10_000
    try:
        doc, _version = parse_xml_document(data, max_elements=max_elements)
    except InvalidXML as exc:
        raise ApiError(400, f"not an EPCIS XML document: {exc.message}",
                       errors={"xml": {exc.location or "(document)": [exc.message]}}) from None
    return doc


def wants_xml() -> bool:
    """Whether the client asks for XML: it names application/xml or text/xml, with a higher quality than any JSON
    type it names, and is not a browser asking for HTML (whose Accept lists application/xml too)."""
    accept = request.accept_mimetypes
    named = {value: quality for value, quality in accept}
    xml = max((named.get(t, 0) for t in XML_MEDIA_TYPES), default=0)
    if not xml or "text/html" in named:
        return False
    return xml > max((named.get(t, 0) for t in _JSON_TYPES), default=0)


def negotiated(doc: dict, status: int = 200, headers: dict | None = None):
    """The query document as the client asked: the JSON tuple unchanged, or an XML response."""
    if not wants_xml():
        return doc, status, headers or {}
    cbv_format = request.headers.get("GS1-CBV-XML-Format", "No_Preference")
    if cbv_format not in CBV_FORMATS:
        raise ApiError(400, f"GS1-CBV-XML-Format must be one of {', '.join(CBV_FORMATS)}",
                       errors={"headers": {"GS1-CBV-XML-Format": [f"not one of {list(CBV_FORMATS)}"]}})
    try:
        body = render_query_document(doc, cbv_format)
    except InvalidEvent as exc:
        raise ApiError(406, f"{exc.message}: ask for application/json") from None
    return Response(body, status=status, headers=headers or {}, mimetype="application/xml")
