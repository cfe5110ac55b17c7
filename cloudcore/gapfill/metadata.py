"""A filled date described as text, safe to write into the files a user takes away.

`fill_metadata` is what a GeoTIFF's tags and a summary CSV's columns say about the fill:
the date, method, mask, AOI, source, window, platform, scenes, donors and cloudcore version.
Every value is checked for secrets on the way out: a source that is a URL loses its user info,
query and fragment (where a signed URL or an API key would travel), and the value of every
secret variable is replaced (`cloudcore.redact`), so no request shape can leak one into a file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..redact import scrub

if TYPE_CHECKING:
    from .image import FilledImage

TAG_PREFIX = "CLOUDCORE_"
"""GeoTIFF tags of the fill are its `fill_metadata` keys upper-cased after this prefix."""
METADATA_KEYS = ("date", "method", "platform", "scenes", "donors", "mask", "aoi", "source", "window_days", "version")
"""Every key `fill_metadata` may give, in its order."""


def fill_metadata(image: FilledImage) -> dict[str, str]:
    """What the image is, as one line of text per key; a key the request did not record is left out.

    Keys: date (YYYY-MM-DD), method, platform, scenes and donors (space-separated scene ids and
    YYYY-MM-DD dates), mask (`kind flags=a,b buffer_m=N`), aoi (`west,south,east,north` in
    lon/lat, or GeoJSON in lon/lat), source, window_days and version.
    """
    from .. import __version__  # here, not at import: the package's __init__ imports nothing of gapfill

    request: Mapping[str, Any] = image.request
    text = {
        "date": image.date.isoformat(),
        "method": image.result.method,
        "platform": image.platform,
        "scenes": " ".join(image.scene_ids),
        "donors": " ".join(d.isoformat() for d in image.result.donors_used),
        "mask": mask_text(request),
        "aoi": _aoi_text(request.get("aoi")),
        "source": safe_source(request.get("source")),
        "window_days": "" if request.get("window_days") is None else str(int(request["window_days"])),
        "version": __version__,
    }
    return {key: scrub(value) for key, value in text.items() if value}


def geotiff_tags(image: FilledImage, written: dt.datetime | None = None) -> dict[str, str]:
    """The dataset tags of the image's GeoTIFF: `fill_metadata` as CLOUDCORE_* items, plus the
    standard TIFF DateTime (`written`, default now, UTC) and Software."""
    metadata = fill_metadata(image)
    when = written or dt.datetime.now(dt.UTC)
    return {
        **{f"{TAG_PREFIX}{key.upper()}": value for key, value in metadata.items()},
        # ref: TIFF 6.0, tag 306 DateTime: "YYYY:MM:DD HH:MM:SS", when the image was created.
        "TIFFTAG_DATETIME": when.strftime("%Y:%m:%d %H:%M:%S"),
        "TIFFTAG_SOFTWARE": f"cloudcore {metadata['version']}",
    }


def mask_text(request: Mapping[str, Any]) -> str:
    """The request's mask policy as `kind flags=a,b buffer_m=N`; empty when it recorded none."""
    kind = request.get("mask")
    if not kind:
        return ""
    flags = request.get("flags") or ()
    flags = [flags] if isinstance(flags, str) else sorted(str(f) for f in flags)
    return f"{kind} flags={','.join(flags)} buffer_m={float(request.get('buffer_m') or 0.0):g}"


def safe_source(source: object) -> str:
    """The source as text, a URL without user info, query or fragment (where keys and signatures travel)."""
    if source is None:
        return ""
    text = str(source)
    if "://" not in text:
        return scrub(text)
    parts = urlsplit(text)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
    try:
        port = parts.port
    except ValueError:  # a port that is no number is no part of an address worth keeping
        port = None
    netloc = f"{host}:{port}" if port else host
    return scrub(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


def _aoi_text(aoi: object) -> str:
    """The request's AOI (bbox text or GeoJSON text, both lon/lat) as one line."""
    if aoi is None:
        return ""
    if isinstance(aoi, Mapping):
        return json.dumps(aoi, separators=(",", ":"))
    return str(aoi)
