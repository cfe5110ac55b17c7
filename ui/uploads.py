"""An uploaded GeoJSON file becomes AOI text: size-checked first, parsed as data only.

The bytes are held to the GeoJSON size limit before they are decoded, decoded as UTF-8 and
read with the JSON parser through cloudcore.parse_aoi (never evaluated, never a file path).
What the view keeps is the parsed geometry written out anew, so nothing else from the file
(properties, names, scripts in strings) reaches the page or the address.
"""

from __future__ import annotations

import json

from cloudcore import InvalidAOIError, Settings, check_geojson_size, max_geojson_bytes, parse_aoi


def upload_help(settings: Settings) -> str:
    """The uploader's tooltip: the accepted forms and this server's size limit."""
    return (
        "A GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection in lon/lat, "
        f"up to {max_geojson_bytes(settings) / 1e6:g} MB (this server's limit)."
    )


def aoi_text_from_upload(data: bytes, settings: Settings) -> str:
    """The AOI text (GeoJSON of the geometry alone) for an uploaded file's bytes.

    Raises:
        InvalidAOIError: too large, not UTF-8 text, or not a usable GeoJSON area; the message says which.
    """
    check_geojson_size(len(data), settings)
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark is common in files saved on Windows
    except UnicodeDecodeError as err:
        raise InvalidAOIError("The uploaded file is not UTF-8 text: save it as GeoJSON (UTF-8) and upload it again.") from err
    if not text.strip().startswith("{"):
        raise InvalidAOIError("The uploaded file is not GeoJSON (it does not start with '{'): upload a .geojson file.")
    aoi = parse_aoi(text, settings=settings, allow_files=False)
    return json.dumps(aoi.to_geojson())
