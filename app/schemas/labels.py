"""Label, print-run, resolver and copy-report schemas."""

from __future__ import annotations

import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from app.schemas.fields import GTIN, LotNumber, Serial
from labels.render import SIZES

_GEO = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


class LotPath(Schema):
    """The lot named in the URL path."""

    gtin = GTIN(required=True)
    lot = LotNumber(required=True)


class LabelQuery(Schema):
    """How to render a lot's (or one of its items') label."""

    size = fields.String(load_default="50x30", validate=validate.OneOf(sorted(SIZES)),
                         metadata={"description": "width x height in mm"})
    dpi = fields.Integer(load_default=300, validate=validate.Range(72, 1200),
                         metadata={"description": "PNG only: printer resolution (203, 300, 600 are common)"})
    serial = Serial(load_default=None, metadata={"description": "an item of this lot (from a print run)"})


class PrintRunIn(Schema):
    """A print run: how many new serialized labels, and their size."""

    count = fields.Integer(required=True, validate=validate.Range(1, 1000),
                           metadata={"description": "new item serials to create (one sheet PDF holds them all)"})
    size = fields.String(load_default="50x30", validate=validate.OneOf(sorted(SIZES)))


class ResolverQuery(Schema):
    """Resolver query parameters besides the GS1 AIs (which gs1.digital_link validates)."""

    class Meta:
        unknown = EXCLUDE  # AIs (17, 11, ...) and resolver parameters such as linkType

    lang = fields.String(load_default=None, validate=validate.OneOf(["zh", "en"]))
    geo = fields.String(load_default=None, validate=validate.Length(max=40),
                        metadata={"description": "coarse place of the scan, 'lat,lon' in degrees (rounded to 0.1)"})
    region = fields.String(load_default=None, validate=validate.Length(max=40))

    @post_load
    def _coarse_place(self, data, **kwargs):
        geo = data.pop("geo", None)
        data["lat"] = data["lon"] = None
        if geo:
            m = _GEO.match(geo)
            lat, lon = (float(m.group(1)), float(m.group(2))) if m else (None, None)
            if lat is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValidationError("must be 'lat,lon' in degrees, e.g. 43.9,125.3", "geo")
            # Rounded to ~11 km: enough to see a code travel impossibly fast, too coarse to locate a person.
            data["lat"], data["lon"] = round(lat, 1), round(lon, 1)
        return data


class Place(Schema):
    """A coarse place of a scan."""

    time = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    region = fields.String(allow_none=True)


class SuspectedItem(Schema):
    """An item whose code looks copied."""

    serial = fields.String()
    lot = fields.String()
    suspect_reason = fields.String(metadata={"description": "impossible_travel, scanned_after_consumed, "
                                                            "many_clients_after_sale"})
    suspect_since = fields.String()
    suspect_detail = fields.String(allow_none=True)
    scan_count = fields.Integer(allow_none=True)
    first_scan_at = fields.String(allow_none=True)
    last_scan_at = fields.String(allow_none=True)
    clients = fields.Integer(metadata={"description": "distinct clients after the sale (capped)"})
    places = fields.List(fields.Nested(Place))


class ForgedSerial(Schema):
    """A serial with a forged signature, as scanned."""

    lot = fields.String()
    serial = fields.String()
    scans = fields.Integer()
    first_scan_at = fields.String()
    last_scan_at = fields.String()
    regions = fields.List(fields.String())


class SuspectedCopiesOut(Schema):
    """The brand owner's copy report for one product."""

    gtin = fields.String()
    suspected_items = fields.List(fields.Nested(SuspectedItem))
    forged_serials = fields.List(fields.Nested(ForgedSerial))
